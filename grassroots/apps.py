from django.apps import AppConfig


class GrassrootsConfig(AppConfig):
    name = "grassroots"
    verbose_name = "Grassroots"

    def ready(self) -> None:
        from grassroots import checks  # noqa: F401 - registers the production check
