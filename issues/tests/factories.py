import factory
from django.utils import timezone

from grids.tests.factories import CourtyardFactory, UserFactory
from issues.models import Category, FollowUp, Issue, IssueEvent, Mediation


def category(code: str = "road") -> Category:
    """The categories come from the data migration; tests use them as they are."""
    return Category.objects.get(code=code)


class IssueFactory(factory.django.DjangoModelFactory):
    """An issue in a courtyard; pass `community=` or `grid=` to place it in one."""

    class Meta:
        model = Issue

    class Params:
        community = None
        grid = None

    title = factory.Sequence(lambda n: f"路面破损 {n}")
    description = "院内道路坑洼，雨天积水。"
    category = factory.LazyFunction(category)
    urgency = factory.LazyAttribute(lambda o: o.category.default_urgency)
    resident_name = "卓玛"
    resident_phone = "13812341234"
    created_by = factory.SubFactory(UserFactory)
    courtyard = factory.LazyAttribute(
        lambda o: (
            CourtyardFactory(grid=o.grid)
            if o.grid is not None
            else CourtyardFactory(grid__community=o.community)
            if o.community is not None
            else CourtyardFactory()
        )
    )

    @classmethod
    def _create(cls, model_class: type[Issue], *args: object, **kwargs: object) -> Issue:
        issue = model_class(*args, **kwargs)
        issue.set_area_from_courtyard()
        issue.search_text = issue.search_document()
        now = timezone.now()
        for status, field in [
            ("listed", "listed_at"),
            ("in_progress", "started_at"),
            ("resolved", "resolved_at"),
            ("revisited", "revisited_at"),
        ]:
            if issue.status == status and getattr(issue, field) is None:
                setattr(issue, field, now)
        if issue.status == "resolved" and issue.started_at is None:
            issue.started_at = now
        issue.save()
        return issue


class IssueEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IssueEvent

    issue = factory.SubFactory(IssueFactory)
    action = IssueEvent.Action.COMMENT
    note = "已电话联系住户。"


class MediationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mediation

    issue = factory.SubFactory(IssueFactory)
    mediator = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("mediator")
    mediated_on = factory.LazyFunction(timezone.localdate)
    parties = "住户甲、住户乙"
    outcome = Mediation.Outcome.AGREEMENT
    agreement = "双方同意共同承担维修费用。"


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    issue = factory.SubFactory(IssueFactory, status="resolved")
    visit_no = factory.Sequence(lambda n: n + 1)
    due_at = factory.LazyFunction(timezone.now)
    assignee = factory.SubFactory(UserFactory)
