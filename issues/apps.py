from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Tags, Warning, register
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext_lazy as _


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = _("Issues")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(register_sqlite_functions)
        register(check_tally_time_zone, Tags.database)
        register(check_tally_functions, Tags.database)


class _Median:
    """The lower median for SQLite, the embedded default, as PERCENTILE_DISC(0.5) on PostgreSQL."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        return sorted(self.values)[(len(self.values) - 1) // 2]


def register_sqlite_functions(
    sender: object, connection: BaseDatabaseWrapper, **kwargs: object
) -> None:
    if getattr(connection, "vendor", "") == "sqlite":
        connection.connection.create_aggregate("grassroots_median", 1, _Median)


def check_tally_time_zone(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """The dashboard tallies count local days: in the time zone the site runs in."""
    from django.conf import settings

    from issues import tallies

    if not databases or "default" not in databases or not tallies.enabled():
        return []
    installed = tallies.installed_time_zone()
    if installed is None or installed == settings.TIME_ZONE:
        return []
    return [
        Warning(
            f"The dashboard tallies count days in {installed}, the site runs in "
            f"{settings.TIME_ZONE}",
            hint="Run `python manage.py tallies --rebuild`.",
            id="issues.W001",
        )
    ]


def check_tally_functions(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """The installed trigger functions are the code's: a change ships in a migration."""
    from issues import tallies

    if not databases or "default" not in databases or not tallies.enabled():
        return []
    installed = tallies.installed_sources()
    if not installed:
        return []
    # In the zone they count days in: a zone apart from the site's is issues.W001's warning.
    code = tallies.function_sources(tallies.installed_time_zone())
    return [
        Warning(
            f"The installed trigger function {name}() differs from the one in issues/tallies.py",
            hint="Apply the migrations (`python manage.py migrate`): a change to the tallies' "
            "triggers ships in a migration that installs it.",
            id="issues.W002",
        )
        for name, (_table, source) in code.items()
        if name in installed and installed[name] != source
    ]
