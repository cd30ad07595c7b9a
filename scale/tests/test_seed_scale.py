import io
import json
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from grids.models import Courtyard, Patrol
from issues.models import FollowUp, Issue, IssueEvent, Mediation

pytestmark = pytest.mark.django_db

CLOSED = {Issue.Status.RESOLVED, Issue.Status.REVISITED}


def seed(issues: int = 300) -> str:
    out = io.StringIO()
    # A batch smaller than the run, so that the issues span several batches.
    call_command("seed_scale", issues=issues, seed=7, batch=120, stdout=out)
    return out.getvalue()


def test_it_loads_issues_whose_event_logs_replay_to_their_status():
    seed()

    issues = Issue.objects.prefetch_related("events")
    assert len(issues) == 300
    for issue in issues:
        status = ""
        for event in issue.events.all():
            if event.to_status:
                assert event.from_status == status, (issue.reference, event.action)
                status = event.to_status
        assert status == issue.status, issue.reference
        assert issue.last_activity_at == max(e.created_at for e in issue.events.all())


def test_it_sets_the_timestamps_and_people_of_each_state():
    seed()

    for issue in Issue.objects.select_related("category"):
        if issue.events.filter(action=IssueEvent.Action.LIST).exists():
            assert issue.due_at == issue.listed_at + issue.category.time_limit
        if issue.status != Issue.Status.COLLECTED:
            assert issue.assignee_id is not None
            assert issue.due_at is not None
        if issue.status in CLOSED:
            assert issue.resolved_at is not None
            assert issue.resolution
            assert issue.started_at <= issue.resolved_at
        assert (issue.revisited_at is not None) == (issue.status == Issue.Status.REVISITED)
        assert issue.created_at <= issue.last_activity_at
        assert (issue.grid_id, issue.community_id) == (
            issue.courtyard.grid_id,
            issue.courtyard.grid.community_id,
        )
    assert Issue.objects.open().exists()
    assert Issue.objects.filter(status=Issue.Status.REVISITED).count() > 200


def test_it_gives_every_issue_a_unique_reference_and_its_search_document():
    seed()

    references = list(Issue.objects.values_list("reference", flat=True))
    assert len(set(references)) == len(references) == 300
    assert all(re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", r) for r in references)
    for issue in Issue.objects.all():
        assert issue.search_text == issue.search_document()


def test_it_schedules_follow_ups_for_resolved_issues_and_mediates_resolved_disputes():
    seed()

    for issue in Issue.objects.filter(status__in=CLOSED).select_related("category"):
        visits = list(issue.follow_ups.all())
        assert len(visits) >= len(issue.category.follow_up_days)
        assert len({v.visit_no for v in visits}) == len(visits)
        if issue.status == Issue.Status.REVISITED:
            assert any(v.done_at and v.satisfaction != "unsatisfied" for v in visits)
        if issue.category.is_dispute:
            assert issue.mediations.exclude(outcome=Mediation.Outcome.FAILED).exists()
    open_ids = Issue.objects.open().values("pk")
    # Reopened issues keep their done visits; nothing else open has any.
    assert not FollowUp.objects.filter(issue__in=open_ids, done_at__isnull=True).exists()
    assert FollowUp.objects.filter(done_at__isnull=True).exists()
    assert Patrol.objects.filter(hazards__isnull=False).exists()
    assert Issue.objects.filter(source=Issue.Source.PATROL, patrol__isnull=False).exists()


def test_it_makes_one_issue_with_fifty_events_and_writes_the_benchmark_handles():
    out = seed()

    handles = json.loads((settings.VAR_DIR / "scale.json").read_text())
    reference = handles["issue_with_50_events"]
    assert reference in out
    assert IssueEvent.objects.filter(issue__reference=reference).count() == 50
    assert Issue.objects.filter(community_id=handles["busy_community_id"]).exists()
    for key in (
        "staff_username",
        "grid_worker_username",
        "subdistrict_official_username",
        "district_official_username",
    ):
        assert handles[key].startswith("scale-")


def test_it_adds_issues_to_the_same_areas_when_run_again():
    seed()
    courtyards = Courtyard.objects.count()
    people = get_user_model().objects.count()

    seed()

    assert Issue.objects.count() == 600
    assert Courtyard.objects.count() == courtyards
    assert get_user_model().objects.count() == people
    references = list(Issue.objects.values_list("reference", flat=True))
    assert len(set(references)) == 600
