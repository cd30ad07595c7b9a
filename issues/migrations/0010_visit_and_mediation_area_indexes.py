import django.db.models.deletion
from django.db import migrations, models

AREAS = ["grid", "community", "subdistrict", "district"]


# In its own migration (and so its own transaction): PostgreSQL cannot alter a table whose
# rows the copy in 0009 just changed while their foreign-key checks are still pending.
class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0009_visit_and_mediation_areas"),
    ]

    operations = [
        *[
            migrations.AlterField(model_name=model, name=name, field=field)
            for model in ("followup", "mediation")
            for name, field in [
                (
                    area,
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=f"grids.{area}",
                    ),
                )
                for area in AREAS
            ]
        ],
        migrations.AddIndex(
            model_name="mediation",
            index=models.Index(
                fields=["district", "mediated_on"],
                include=["issue", "subdistrict", "community", "grid"],
                name="mediation_district_on",
            ),
        ),
        migrations.AddIndex(
            model_name="mediation",
            index=models.Index(
                fields=["community", "mediated_on"],
                include=["issue", "grid"],
                name="mediation_community_on",
            ),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(done_at__isnull=False),
                fields=["district", "done_at"],
                include=["issue", "due_at", "satisfaction", "subdistrict", "community", "grid"],
                name="follow_up_district_done",
            ),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(done_at__isnull=False),
                fields=["community", "done_at"],
                include=["issue", "due_at", "satisfaction", "grid"],
                name="follow_up_community_done",
            ),
        ),
    ]
