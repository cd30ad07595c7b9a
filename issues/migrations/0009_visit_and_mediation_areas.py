import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

AREAS = ["grid", "community", "subdistrict", "district"]


def copy_areas(apps, schema_editor):
    Issue = apps.get_model("issues", "Issue")
    for name in ("FollowUp", "Mediation"):
        model = apps.get_model("issues", name)
        issue = Issue.objects.filter(pk=OuterRef("issue_id"))
        if schema_editor.connection.vendor == "postgresql":
            table, issues = model._meta.db_table, Issue._meta.db_table
            sets = ", ".join(f"{a}_id = i.{a}_id" for a in AREAS)
            schema_editor.execute(
                f"UPDATE {table} AS r SET {sets} FROM {issues} AS i WHERE i.id = r.issue_id"
            )
        else:
            model.objects.update(
                **{f"{a}_id": Subquery(issue.values(f"{a}_id")[:1]) for a in AREAS}
            )


def area_fields(null):
    return [
        (
            area,
            models.ForeignKey(
                db_index=False,
                null=null,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=f"grids.{area}",
            ),
        )
        for area in AREAS
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("grids", "0001_initial"),
        ("issues", "0008_index_only_dashboard"),
    ]

    operations = [
        *[
            migrations.AddField(model_name=model, name=name, field=field)
            for model in ("followup", "mediation")
            for name, field in area_fields(null=True)
        ],
        migrations.RunPython(copy_areas, migrations.RunPython.noop, elidable=False),
    ]
