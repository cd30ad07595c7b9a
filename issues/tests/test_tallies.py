"""The dashboard tallies on PostgreSQL: every way of writing keeps them exact, the dashboard
read from them equals the one counted from the issues, and folding or recounting them changes
no figure."""

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grids.models import Patrol
from grids.tests.factories import CommunityFactory, CourtyardFactory
from issues import dashboard, services, tallies, tasks
from issues.apps import check_tally_time_zone
from issues.models import FollowUp, Issue, IssueTally
from issues.tests.factories import FollowUpFactory, IssueFactory, MediationFactory, category
from issues.tests.test_celery import wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the tallies are PostgreSQL's"),
    pytest.mark.django_db,
]
S = Issue.Status


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), timezone.get_current_timezone())


def exact() -> bool:
    return set(tallies.differences().values()) == {0}


def periods(today: date) -> list[dashboard.Period]:
    named = [dashboard.Period.named(n, today) for n in ("week", "month", "30d", "year")]
    monday = today - timedelta(days=today.weekday())
    return [
        *named,
        dashboard.Period(today, today),
        dashboard.Period(monday - timedelta(days=14), monday - timedelta(days=1)),  # two weeks
        dashboard.Period(monday - timedelta(days=17), monday - timedelta(days=3)),  # ragged
        dashboard.Period(today - timedelta(days=400), today - timedelta(days=20)),
    ]


def both(
    district_id: int, period: dashboard.Period, *, subdistrict_id: int | None = None
) -> tuple[dashboard.Dashboard, ...]:
    """The dashboard counted from the issues, and read from the tallies: of a district by
    subdistrict, or of a subdistrict by community."""
    if subdistrict_id is None:
        area = Q(district_id=district_id)
        patrols = Patrol.objects.filter(grid__community__subdistrict__district_id=district_id)
        child, areas = "subdistrict_id", tallies.Areas("district", [district_id])
    else:
        area = Q(subdistrict_id=subdistrict_id)
        patrols = Patrol.objects.filter(grid__community__subdistrict_id=subdistrict_id)
        child, areas = "community_id", tallies.Areas("subdistrict", [subdistrict_id])
    kw = {
        "period": period,
        "child": child,
        "wage_id": category("wage_arrears").pk,
        "patrols": patrols,
        "area": area,
    }
    return (
        dashboard.build(Issue.objects.filter(area), **kw),
        dashboard.build(Issue.objects.filter(area), tallied=areas, **kw),
    )


def assert_same_dashboards(district_id: int) -> None:
    subdistricts = Issue.objects.filter(district_id=district_id).values_list(
        "subdistrict_id", flat=True
    )
    for period in periods(timezone.localdate()):
        for subdistrict_id in (None, *sorted(set(subdistricts))):
            live, tallied = both(district_id, period, subdistrict_id=subdistrict_id)
            where = (period, subdistrict_id)
            assert tallied.totals == live.totals, where
            assert tallied.by_category == live.by_category, where
            assert tallied.by_child == live.by_child, where
            assert tallied.weeks == live.weeks, where


@pytest.fixture
def spread(courtyard, other_courtyard, staff, grid_worker):
    """Issues over the last fourteen months, many of them just around local midnight, when
    the local day (and week) is not the UTC one."""
    today = timezone.localdate()
    codes = ["road", "dispute", "wage_arrears", "electrical", "sanitation"]
    made = []
    for k in range(90):
        day = today - timedelta(days=(k * 37) % 420)
        created = local(day, (0, 23, 7, 16)[k % 4], (5, 55, 30, 0)[k % 4])
        status = (S.COLLECTED, S.LISTED, S.IN_PROGRESS, S.RESOLVED, S.REVISITED)[k % 5]
        resolved = None
        if status in Issue.CLOSED_STATUSES:
            resolved = min(created + timedelta(hours=(k * 7) % 200 + 0.5), timezone.now())
        code = codes[k % 5]
        issue = IssueFactory(
            courtyard=(courtyard, other_courtyard)[k % 2],
            category=category(code),
            status=status,
            created_at=created,
            resolved_at=resolved,
            due_at=created + timedelta(days=(k % 9) + 1),
            created_by=grid_worker,
            source=(Issue.Source.VISIT, Issue.Source.PATROL)[k % 3 == 0],
            amount_recovered=Decimal(100 * k) if code == "wage_arrears" and resolved else None,
            # Wage cases count their workers; other issues' people must not be counted.
            people_affected=(k % 13) + 1 if code == "wage_arrears" else (k % 4 or None),
        )
        if resolved and k % 2:
            FollowUpFactory(
                issue=issue,
                assignee=staff,
                due_at=resolved + timedelta(days=3),
                done_at=min(resolved + timedelta(days=(k % 6)), timezone.now()),
                satisfaction=("satisfied", "basically", "unsatisfied")[k % 3],
            )
        made.append(issue)
    # Wage cases resolved, with the sum recovered and their workers, around local midnight too.
    for k in range(8):
        created = local(today - timedelta(days=(k * 47) % 400), (0, 23)[k % 2], 10)
        made.append(
            IssueFactory(
                courtyard=(courtyard, other_courtyard)[k % 2],
                category=category("wage_arrears"),
                status=S.RESOLVED,
                created_at=created,
                resolved_at=min(created + timedelta(hours=k * 9 + 1), timezone.now()),
                due_at=created + timedelta(days=10),
                created_by=grid_worker,
                amount_recovered=Decimal(1000 * k + 500),
                people_affected=k + 3,
            )
        )
    return made


def test_the_dashboard_from_the_tallies_equals_the_one_counted_from_the_issues(spread, community):
    assert exact()
    assert_same_dashboards(community.subdistrict.district_id)


def test_the_tallies_count_the_workers_of_the_wage_cases_resolved(spread, community):
    district_id = community.subdistrict.district_id
    period = dashboard.Period.named("year", timezone.localdate())
    wage = [
        i
        for i in spread
        if i.category.code == "wage_arrears"
        and i.resolved_at is not None
        and period.range[0] <= i.resolved_at <= period.range[1]
    ]
    assert wage

    live, tallied = both(district_id, period)

    assert tallied.totals["wage_people"] == sum(i.people_affected for i in wage)
    assert live.totals["wage_people"] == tallied.totals["wage_people"]
    assert tallied.totals["wage_resolved"] == len(wage)


def test_every_way_of_writing_keeps_them_exact(spread, community, staff):
    district_id = community.subdistrict.district_id
    open_issue = next(i for i in spread if i.status == S.IN_PROGRESS)
    MediationFactory(issue=open_issue, mediator=staff)
    services.resolve_issue(
        open_issue, by=staff, seen_status=S.IN_PROGRESS, resolution="已修复。", reply="已答复居民。"
    )
    assert exact()
    resolved = Issue.objects.get(pk=open_issue.pk)
    services.reopen_issue(resolved, by=staff, seen_status=S.RESOLVED, reason="又坏了。")
    assert exact()
    changed = spread[3]
    changed.category = category("sanitation")
    changed.amount_recovered = Decimal(77)
    changed.save()
    assert exact()
    Issue.objects.filter(pk__in=[i.pk for i in spread[:40]], resolved_at__isnull=False).update(
        people_affected=F("people_affected") + 2
    )
    assert exact()
    moved = CourtyardFactory(grid__community=CommunityFactory())
    moving = Issue.objects.get(pk=spread[4].pk)
    moving.courtyard = moved
    moving.save()
    moving.move_children()
    assert exact()
    Issue.objects.filter(pk__in=[i.pk for i in spread[10:20]]).update(status=S.REVISITED)
    assert exact()
    visit = FollowUp.objects.filter(issue__district_id=district_id).first()
    FollowUp.objects.filter(pk=visit.pk).update(satisfaction="unsatisfied", done_at=None)
    assert exact()
    Issue.objects.filter(pk__in=[i.pk for i in spread[20:25]]).delete()
    assert exact()
    Issue.objects.bulk_create(
        [
            Issue(**{**_fields(spread[30]), "reference": f"BULK-{n:04d}", "submission_token": None})
            for n in range(5)
        ]
    )
    assert exact()
    assert_same_dashboards(district_id)


def _fields(issue: Issue) -> dict:
    return {
        f.attname: getattr(issue, f.attname)
        for f in Issue._meta.concrete_fields
        if not f.primary_key and f.attname != "search_vector"
    }


def test_an_issue_visited_on_several_days_counts_once_in_any_period(courtyard, community, staff):
    today = timezone.localdate()
    issue = IssueFactory(
        courtyard=courtyard,
        status=S.RESOLVED,
        created_at=local(today - timedelta(days=60), 9),
        resolved_at=local(today - timedelta(days=40), 9),
    )

    def visit(days_ago: int, late: bool, satisfaction: str) -> FollowUp:
        done = local(today - timedelta(days=days_ago), 23, 30)
        return FollowUpFactory(
            issue=issue,
            assignee=staff,
            due_at=done + (timedelta(days=2) if late else -timedelta(hours=3)),
            done_at=done,
            satisfaction=satisfaction,
        )

    visit(30, False, "satisfied")
    second = visit(25, False, "unsatisfied")
    visit(25, False, "satisfied")  # the same day
    visit(18, True, "basically")
    visit(9, False, "satisfied")
    district_id = community.subdistrict.district_id
    assert exact()
    for start in range(35, 0, -4):
        for length in (0, 3, 8, 20, 40):
            period = dashboard.Period(
                today - timedelta(days=start), min(today, today - timedelta(days=start - length))
            )
            live, tallied = both(district_id, period)
            for key in ("visit_issues_on_time", "visit_issues_satisfied", "visits_done"):
                assert live.totals[key] == tallied.totals[key], (key, period)
    FollowUp.objects.filter(pk=second.pk).update(done_at=second.done_at - timedelta(days=12))
    assert exact()
    FollowUp.objects.filter(pk=second.pk).delete()
    assert exact()
    assert_same_dashboards(district_id)


def test_visits_of_one_issue_in_two_districts_count_in_each(
    courtyard, other_community, community, staff
):
    """An issue moved between districts by hand can keep visits in both: each district
    counts the issue once if it has a visit there."""
    today = timezone.localdate()
    issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED, resolved_at=timezone.now())
    here, there = community.subdistrict.district_id, other_community.subdistrict.district_id
    for days_ago, district in ((6, here), (4, there), (6, there), (2, here)):
        visit = FollowUpFactory(
            issue=issue,
            assignee=staff,
            due_at=local(today - timedelta(days=days_ago), 12),
            done_at=local(today - timedelta(days=days_ago), 10),
            satisfaction="satisfied",
        )
        FollowUp.objects.filter(pk=visit.pk).update(
            district_id=district, subdistrict_id=Issue.objects.get(pk=issue.pk).subdistrict_id
        )
    assert exact()
    for district_id in (here, there):
        for start, end in ((6, 6), (6, 4), (4, 2), (7, 0), (3, 0)):
            period = dashboard.Period(today - timedelta(days=start), today - timedelta(days=end))
            live, tallied = both(district_id, period)
            assert live.totals["visit_issues_on_time"] == tallied.totals["visit_issues_on_time"]
            assert live.totals["visit_issues_satisfied"] == tallied.totals["visit_issues_satisfied"]


def test_folding_keeps_every_sum(spread, courtyard, community):
    for _ in range(4):  # four rows of one key
        IssueFactory(
            courtyard=courtyard, category=category("road"), created_at=spread[0].created_at
        )
    before = tallies.stats()
    assert before["issues_issuetally"]["pending"] > 0

    removed = tallies.compact()

    after = tallies.stats()
    rows = sum(t["rows"] for t in before.values()) - sum(t["rows"] for t in after.values())
    assert removed == rows >= 3
    assert {t["pending"] for t in after.values()} == {0}
    assert exact()
    assert_same_dashboards(community.subdistrict.district_id)
    assert tallies.compact() == 0


def test_the_recount_corrects_a_wrong_sum(spread, community):
    tally = IssueTally.objects.filter(collected__gt=0).first()
    IssueTally.objects.filter(pk=tally.pk).update(collected=tally.collected + 5)
    assert tallies.differences()["issues_issuetally"] == 1

    fixed = tallies.reconcile()

    assert fixed == {kind.table: int(kind is tallies.ISSUES) for kind in tallies.KINDS}
    assert exact()
    assert_same_dashboards(community.subdistrict.district_id)


def test_a_rebuild_starts_over_with_the_same_sums(spread, community):
    tallies.rebuild()

    assert {t["pending"] for t in tallies.stats().values()} == {0}
    assert exact()
    assert_same_dashboards(community.subdistrict.district_id)


def test_the_median_is_the_lower_one_in_whole_hours_then_whole_days(courtyard, community):
    now = timezone.now()
    for hours in (1.5, 30.2, 30.9, 80, 200):
        IssueFactory(
            courtyard=courtyard,
            status=S.RESOLVED,
            created_at=now - timedelta(hours=hours),
            resolved_at=now,
        )
    live, tallied = both(
        community.subdistrict.district_id, dashboard.Period.named("30d", timezone.localdate())
    )
    assert live.totals["median_hours"] == tallied.totals["median_hours"] == 30
    IssueFactory(
        courtyard=courtyard, status=S.RESOLVED, created_at=now - timedelta(days=5), resolved_at=now
    )
    live, tallied = both(
        community.subdistrict.district_id, dashboard.Period.named("30d", timezone.localdate())
    )
    # Six values: the lower median is the third, 30.9 hours.
    assert live.totals["median_hours"] == tallied.totals["median_hours"] == 30
    IssueFactory(
        courtyard=courtyard, status=S.RESOLVED, created_at=now - timedelta(days=9), resolved_at=now
    )
    live, tallied = both(
        community.subdistrict.district_id, dashboard.Period.named("30d", timezone.localdate())
    )
    assert live.totals["median_hours"] is tallied.totals["median_hours"] is None
    assert live.totals["median_days"] == tallied.totals["median_days"] == 3


def test_the_district_dashboard_reads_the_tallies(client, district_official, community, spread):
    client.force_login(district_official)

    with CaptureQueriesContext(connection) as queries:
        r = client.get(reverse("issues:dashboard") + "?period=year")

    assert r.status_code == 200
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "issues_issuetally" in sql
    assert "issues_resolvetimetally" in sql
    assert "issues_visittally" in sql
    assert (
        r.context["t"]["collected"]
        == Issue.objects.filter(
            district=community.subdistrict.district,
            created_at__gte=local(timezone.localdate().replace(month=1, day=1), 0),
        ).count()
    )


def test_a_community_dashboard_counts_the_issues(client, staff, spread):
    client.force_login(staff)

    with CaptureQueriesContext(connection) as queries:
        r = client.get(reverse("issues:dashboard"))

    assert r.status_code == 200
    assert "tally" not in " ".join(q["sql"] for q in queries.captured_queries)


def test_beat_folds_and_recounts_them(spread):
    from grassroots.celery import app

    # What beat sends, by the names in its schedule, run as the worker would run them (which
    # has loaded every app's tasks).
    app.loader.import_default_modules()
    on_beat = [app.tasks[entry["task"]] for entry in app.conf.beat_schedule.values()]
    IssueTally.objects.filter(pk=IssueTally.objects.order_by("pk").values("pk")[:1]).update(
        collected=F("collected") + 5
    )
    assert not exact()
    pending = tallies.stats()["issues_issuetally"]["pending"]

    for task in on_beat:
        if "tallies" in task.name:
            task.apply()

    # The recount corrected the sum; its correcting row is folded on the next round.
    assert exact()
    assert pending > 0
    for task in on_beat:
        if "tallies" in task.name:
            task.apply()
    assert tallies.stats()["issues_issuetally"]["pending"] == 0
    assert exact()


@pytest.mark.usefixtures("celery_worker")
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_folds_and_recounts_them(courtyard, community):
    for k in range(6):
        IssueFactory(courtyard=courtyard, created_at=timezone.now() - timedelta(days=k))
    assert tallies.stats()["issues_issuetally"]["pending"] > 0

    tasks.compact_tallies.delay()

    assert wait_for(lambda: tallies.stats()["issues_issuetally"]["pending"] == 0)
    IssueTally.objects.update(collected=0)
    tasks.reconcile_tallies.delay()
    assert wait_for(exact)
    assert_same_dashboards(community.subdistrict.district_id)


def test_the_command_shows_folds_recounts_and_rebuilds_them(spread):
    out = io.StringIO()
    call_command("tallies", stdout=out)
    assert "issues_issuetally" in out.getvalue()
    assert "Asia/Shanghai" in out.getvalue()

    for flag in ("--compact", "--reconcile", "--rebuild"):
        out = io.StringIO()
        call_command("tallies", flag, stdout=out)
        assert "Done in" in out.getvalue(), flag
        assert exact()


def test_a_check_names_a_time_zone_the_tallies_do_not_count_in(settings):
    assert not check_tally_time_zone(databases=["default"])
    tallies.install("Asia/Urumqi")
    try:
        warnings = check_tally_time_zone(databases=["default"])
        assert [w.id for w in warnings] == ["issues.W001"]
        assert "Asia/Urumqi" in warnings[0].msg
    finally:
        tallies.install()


@pytest.mark.django_db(transaction=True)
def test_a_visit_recorded_above_read_committed_is_refused_not_miscounted(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED, resolved_at=timezone.now())

    def record_in_repeatable_read() -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            FollowUpFactory(
                issue=issue, assignee=staff, done_at=timezone.now(), satisfaction="satisfied"
            )

    with pytest.raises(DatabaseError, match="READ COMMITTED"):
        record_in_repeatable_read()

    assert not FollowUp.objects.exists()
    assert exact()


def test_a_reminder_or_a_title_changes_no_tally(spread):
    tallies.compact()

    FollowUp.objects.update(reminded_on=timezone.localdate(), escalated_at=timezone.now())
    Issue.objects.update(title="改过的标题")

    assert {t["pending"] for t in tallies.stats().values()} == {0}
    assert exact()


def test_closing_without_resolving_keeps_them_exact(spread, community, staff):
    from issues import closing

    issue = next(i for i in spread if i.status in Issue.OPEN_STATUSES)
    closing.close_issue(
        issue, by=staff, seen_status=issue.status, outcome="not_accepted", reply="不予受理。"
    )

    assert Issue.objects.get(pk=issue.pk).status == S.CLOSED
    assert exact()
    assert_same_dashboards(community.subdistrict.district_id)
