"""The benchmark command runs end to end on a small data set (no timing is asserted here)."""

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_measures_every_page_and_job_in_quick_mode(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_scale", issues=400, seed=7)
    out = tmp_path / "bench.json"

    call_command("benchmark", quick=True, json_path=str(out))

    report = json.loads(out.read_text())
    rows = {r["name"]: r for r in report["results"]}
    for name in [
        "staff list: default",
        "staff list: status+category+grid",
        "staff list: page 20 of a filter",
        "search: two characters",
        "search: four characters",
        "issue page, 50 events",
        "capture POST",
        "dashboard: grid, year",
        "dashboard: district, year",
    ]:
        assert rows[name]["median_ms"] > 0
        assert rows[name]["queries"] > 0
    # The staff list stays within its query budget and has its raw-SQL floor beside it.
    assert rows["staff list: default"]["queries"] <= 8
    assert rows["staff list: default"]["raw_sql_floor_ms"] > 0
    assert rows["CSV export"]["rows"] > 0
    assert "visits" in rows["beat: remind due follow-ups"]
