"""The tallies' triggers change only through migrations that install them.

Each migration that installs the triggers keeps the SQL it runs in a frozen module beside it
(`issues/migrations/_tallies_NNNN.py`), so that a later change to issues/tallies.py cannot
change what an old migration does; the latest must install what the code would; and a database
whose functions are not the code's is named by a system check.
"""

import importlib
import re
from pathlib import Path

import pytest
from django.db import connection

from issues import tallies
from issues.apps import check_tally_functions

MIGRATIONS = Path(tallies.__file__).parent / "migrations"


def frozen_modules() -> dict[str, object]:
    """The frozen SQL modules by migration number, oldest first."""
    found = sorted(MIGRATIONS.glob("_tallies_*.py"))
    return {
        p.stem.removeprefix("_tallies_"): importlib.import_module(f"issues.migrations.{p.stem}")
        for p in found
    }


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "UTC"])
def test_the_latest_migration_installing_the_triggers_installs_the_codes_sql(tz):
    number, latest = list(frozen_modules().items())[-1]
    (migration,) = MIGRATIONS.glob(f"{number}_*.py")

    # A change to the SQL in issues/tallies.py fails here until a migration installs it.
    assert latest.in_zone(latest.INSTALL, tz) == tallies.install_statements(tz)
    assert f"_tallies_{number}.install" in migration.read_text() or (
        f"_tallies_{number}.rebuild" in migration.read_text()
    )


def test_no_migration_runs_todays_tallies_code():
    imports = re.compile(
        r"^\s*(from issues import .*\btallies\b|from issues\.tallies |import issues\.tallies)", re.M
    )
    for path in [*MIGRATIONS.glob("[0-9]*.py"), *MIGRATIONS.glob("_tallies_*.py")]:
        assert not imports.search(path.read_text()), path.name


def test_every_frozen_module_belongs_to_its_migration():
    for number in frozen_modules():
        (migration,) = MIGRATIONS.glob(f"{number}_*.py")
        assert f"_tallies_{number}" in migration.read_text()


def on_postgres(test):
    """A test of the installed triggers: PostgreSQL's, with the database."""
    only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's triggers")
    for mark in (pytest.mark.django_db, only, pytest.mark.postgres):
        test = mark(test)
    return test


def run(function) -> None:
    with connection.schema_editor() as editor:
        function(None, editor)


@on_postgres
def test_the_check_is_quiet_when_the_installed_functions_are_the_codes():
    assert set(tallies.installed_sources()) == set(tallies.function_sources())

    assert check_tally_functions(databases=["default"]) == []


@on_postgres
def test_the_check_names_the_function_whose_installed_source_differs():
    _table, source = tallies.function_sources()["grassroots_visit_tally"]
    changed = source.replace("86400 seconds", "172800 seconds")
    assert changed != source
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION grassroots_visit_tally() RETURNS trigger "
            f"LANGUAGE plpgsql AS $body${changed}$body$"
        )

    warnings = check_tally_functions(databases=["default"])

    assert [w.id for w in warnings] == ["issues.W002"]
    assert "grassroots_visit_tally()" in warnings[0].msg


@on_postgres
def test_a_database_left_at_an_older_migration_is_warned_about_until_the_latest_installs():
    frozen = frozen_modules()
    run(frozen["0014"].install)

    warnings = check_tally_functions(databases=["default"])

    named = {w.msg.split("()")[0].rsplit(" ", 1)[-1] for w in warnings}
    # 0014 counted the visits' grace as '24 hours'; the code writes the same day in seconds
    # (0015), and the issue tallies have counted the workers of wage cases since 0017.
    assert named == {
        "grassroots_issue_tally",
        "grassroots_visit_tally",
        "grassroots_visit_issue_tally",
    }

    run(list(frozen.values())[-1].install)

    assert check_tally_functions(databases=["default"]) == []
