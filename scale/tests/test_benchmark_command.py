"""The benchmark command runs end to end on a small data set (no timing is asserted here)."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import QueryDict

from grids.models import GridWorker
from issues.filters import IssueFilter
from issues.models import Issue
from issues.tests.factories import IssueFactory
from issues.views.issue_list import page_rows
from scale.management.commands.benchmark import Command as Benchmark
from scale.management.commands.benchmark import page_statements

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


def seed(settings) -> dict:
    """A small scale data set; what seed_scale wrote to var/scale.json."""
    call_command("seed_scale", issues=200, seed=7, stdout=io.StringIO())
    return json.loads((Path(settings.VAR_DIR) / "scale.json").read_text())


def handles(settings, **saved: object) -> tuple[Benchmark, dict]:
    """The benchmark's handles once `saved` has overwritten some of var/scale.json."""
    path = Path(settings.VAR_DIR) / "scale.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **saved}))
    command = Benchmark(stdout=io.StringIO())
    command.runs, command.warmup, command.only = 1, 0, ""
    return command, command.handles()


def test_it_captures_in_a_courtyard_of_the_grid_worker_it_names(settings):
    # Two grids tie for busiest: seed_scale saved one grid's worker, the benchmark chose the
    # other grid, and its capture POST was refused (400) for a courtyard outside the worker's
    # grids. The worker is now always one who walks the grid measured.
    saved = seed(settings)
    other = (
        GridWorker.objects.filter(grids__community_id=saved["busy_community_id"])
        .exclude(grids=saved["busy_grid_id"])
        .select_related("user")
        .first()
    )
    command, h = handles(settings, grid_worker_username=other.user.username)

    assert h["grid_id"] == saved["busy_grid_id"]
    assert h["grid_worker"].grid_worker.grids.filter(pk=h["grid_id"]).exists()
    assert h["courtyard"].grid_id == h["grid_id"]
    issues = Issue.objects.count()
    command.capture(h)()  # a refusal would raise
    assert Issue.objects.count() == issues  # rolled back


def test_it_names_the_status_errors_and_handles_of_a_refused_capture(settings):
    seed(settings)
    command, h = handles(settings)
    stranger = GridWorker.objects.exclude(grids=h["grid_id"]).select_related("user").first()
    h["grid_worker"] = stranger.user

    with pytest.raises(CommandError) as refused:
        command.capture(h)()

    message = str(refused.value)
    assert message.startswith("capture POST answered 400")
    # The form's own error, under the field it belongs to.
    courtyard_errors = [line for line in message.splitlines() if line.startswith("  courtyard: ")]
    assert len(courtyard_errors) == 1
    assert "无效" in courtyard_errors[0] or "valid" in courtyard_errors[0]
    assert f"user={stranger.user.username}" in message
    assert f"courtyard={h['courtyard'].pk} " in message
    assert f"grid={h['grid_id']}" in message
    assert "category=" in message


def test_it_names_the_reference_of_a_refused_page(staff):
    command = Benchmark(stdout=io.StringIO())

    with pytest.raises(CommandError) as refused:
        command.get(command.client(staff), "/issues/ZZZZ-ZZZZ/", reference="ZZZZ-ZZZZ")()

    assert str(refused.value).splitlines()[0] == "GET /issues/ZZZZ-ZZZZ/ answered 404"
    assert f"user={staff.username}, reference=ZZZZ-ZZZZ" in str(refused.value)


def test_the_floor_times_the_statements_the_list_page_sends(client, staff, community):
    IssueFactory.create_batch(5, community=community)
    client.force_login(staff)
    url = "/issues/?status=all&sort=created"

    statements = page_statements(client, url)

    sent: list[str] = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    # The view's own query code, run here: the tab counts, then the page's ids and its rows.
    query = QueryDict(url.partition("?")[2])
    f = IssueFilter(query, queryset=Issue.objects.visible_to(staff), user=staff)
    assert f.is_valid()
    with connection.execute_wrapper(record):
        f.tab_counts()
        rows = page_rows(f.qs, 0, 50)
    assert len(rows) == 5
    assert [sql for sql, _params in statements] == sent
    # And not the query the page no longer runs: the rows joined before the limit.
    sent.clear()
    with connection.execute_wrapper(record):
        list(f.qs.for_list()[:50])
    assert sent[0] not in [sql for sql, _params in statements]
