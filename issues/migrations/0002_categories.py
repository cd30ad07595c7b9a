from django.db import migrations

# code, 名称, name, default urgency, time limit (hours), is dispute, follow-up days
CATEGORIES = [
    ("road", "道路路面", "Roads and paving", "normal", 7 * 24, False, [7]),
    ("parking", "车辆停放", "Parking (e-bikes)", "normal", 3 * 24, False, [7]),
    ("sanitation", "环境卫生", "Sanitation and cleaning", "normal", 3 * 24, False, [7]),
    ("electrical", "用电安全", "Electrical safety", "urgent", 24, False, [3, 30]),
    ("drainage", "排水积水", "Drainage and waterlogging", "urgent", 24, False, [3]),
    ("wage_arrears", "欠薪", "Wage arrears", "normal", 10 * 24, True, [7, 30]),
    ("dispute", "矛盾纠纷", "Neighbour dispute", "normal", 7 * 24, True, [3, 30, 90]),
    ("micro_wish", "微心愿", "Micro-wish", "normal", 30 * 24, False, [7]),
    ("participation", "居民参与", "Public participation", "normal", 30 * 24, False, [30]),
    ("other", "其他", "Other", "normal", 7 * 24, False, [7]),
]


def create_categories(apps, schema_editor):
    Category = apps.get_model("issues", "Category")
    for order, (code, name, name_en, urgency, hours, dispute, days) in enumerate(CATEGORIES):
        Category.objects.get_or_create(code=code, defaults={
            "name": name, "name_en": name_en, "default_urgency": urgency,
            "time_limit_hours": hours, "is_dispute": dispute, "follow_up_days": days,
            "sort_order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("issues", "0001_initial")]

    operations = [migrations.RunPython(create_categories, migrations.RunPython.noop)]
