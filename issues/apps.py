from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = _("Issues")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(register_sqlite_functions)


class _Median:
    """MEDIAN for SQLite, the embedded default; PostgreSQL has PERCENTILE_CONT."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        v = sorted(self.values)
        mid = len(v) // 2
        return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def register_sqlite_functions(sender: object, connection: object, **kwargs: object) -> None:
    if getattr(connection, "vendor", "") == "sqlite":
        connection.connection.create_aggregate("grassroots_median", 1, _Median)
