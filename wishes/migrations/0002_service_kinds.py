from django.db import migrations

# code, 名称, name, remind after (days), tell staff after (days)
KINDS = [
    ("daily_care", "生活照料", "Daily care", 2, 5),
    ("medical", "助医", "Medical help", 1, 3),
    ("study", "助学", "Help with schooling", 3, 7),
    ("repair", "维修", "Repairs", 2, 5),
    ("culture", "文体", "Culture and sports", 5, 10),
    ("legal", "法律", "Legal aid", 3, 7),
    ("other", "其他", "Other", 3, 7),
]


def create_kinds(apps, schema_editor):
    ServiceKind = apps.get_model("wishes", "ServiceKind")
    for order, (code, name, name_en, remind, escalate) in enumerate(KINDS):
        ServiceKind.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "remind_after_days": remind,
            "escalate_after_days": escalate, "sort_order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("wishes", "0001_initial")]

    operations = [migrations.RunPython(create_kinds, migrations.RunPython.noop)]
