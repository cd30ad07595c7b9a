from django.apps import AppConfig


class ScaleConfig(AppConfig):
    """Scale and fault tooling: seed_scale, benchmark, loadtest and loadfault.

    Installed only in development, in tests, or with GRASSROOTS_SCALE_TOOLS=true
    (grassroots/settings.py): loadfault drops databases and restarts PostgreSQL, and has no
    place in a production site's `manage.py help`.
    """

    name = "scale"
    verbose_name = "Scale and fault tooling"
