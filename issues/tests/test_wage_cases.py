"""Wage-arrears cases: the refusal to resolve one without a mediation names it truly, and its
resolution records the workers it concerns beside the sum recovered."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from issues import services
from issues.forms import TransitionForm
from issues.models import Category, Issue
from issues.tests.factories import IssueFactory, MediationFactory, category

pytestmark = pytest.mark.django_db

S = Issue.Status


def refusal(issue: Issue, staff) -> str:
    with translation.override("zh-hans"), pytest.raises(services.TransitionRefused) as refused:
        services.resolve_issue(issue, by=staff, seen_status=S.IN_PROGRESS, resolution="已办结。")
    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    return str(refused.value)


def test_it_calls_a_wage_case_a_wage_case_when_it_needs_a_mediation(courtyard, staff):
    issue = IssueFactory(
        courtyard=courtyard, status=S.IN_PROGRESS, category=category("wage_arrears")
    )

    message = refusal(issue, staff)

    assert message == "欠薪问题须先登记调解（与用工方的协调），方可办结。"
    assert "矛盾纠纷" not in message


def test_it_still_calls_a_dispute_a_dispute(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, category=category("dispute"))

    assert refusal(issue, staff) == "矛盾纠纷须先登记调解，方可办结。"


def test_it_names_any_other_category_that_needs_a_mediation(courtyard, staff):
    boundary = Category.objects.create(
        code="boundary", name="宅基地边界", name_en="Plot boundaries", is_dispute=True
    )
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, category=boundary)

    assert refusal(issue, staff) == "“宅基地边界”类问题须先登记调解，方可办结。"


def test_it_asks_for_the_workers_and_the_sum_when_a_wage_case_is_resolved(client, courtyard, staff):
    issue = IssueFactory(
        courtyard=courtyard,
        status=S.IN_PROGRESS,
        category=category("wage_arrears"),
        people_affected=8,
        amount_owed=Decimal(64000),
    )
    MediationFactory(issue=issue, mediator=staff)
    form = TransitionForm(action="resolve", issue=issue)
    assert form["people_affected"].value() == 8
    assert "amount_recovered" in form.fields
    road = TransitionForm(action="resolve", issue=IssueFactory(courtyard=courtyard))
    assert "people_affected" not in road.fields
    client.force_login(staff)

    r = client.post(
        reverse("issues:transition", args=[issue.reference, "resolve"]),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "施工单位已支付全部工资。",
            "resolve-amount_recovered": "64000",
            "resolve-people_affected": "9",
            "resolve-reply": "工资已全部追回，请查收。",
        },
    )

    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.status == S.RESOLVED
    assert (issue.amount_recovered, issue.people_affected) == (Decimal(64000), 9)


def test_it_shows_the_workers_beside_the_sum_on_the_dashboard(client, courtyard, staff):
    for people, recovered in ((12, 5000), (30, 9000)):
        IssueFactory(
            courtyard=courtyard,
            status=S.RESOLVED,
            resolved_at=timezone.now(),
            category=category("wage_arrears"),
            people_affected=people,
            amount_recovered=Decimal(recovered),
        )
    IssueFactory(
        courtyard=courtyard, status=S.RESOLVED, resolved_at=timezone.now(), people_affected=100
    )  # not a wage case
    client.force_login(staff)

    r = client.get(reverse("issues:dashboard"))

    assert (r.context["t"]["wage_people"], r.context["t"]["recovered"]) == (42, Decimal(14000))
    page = r.content.decode()
    assert 'data-figure="wage_people"' in page
    assert "追回欠薪人数" in page
