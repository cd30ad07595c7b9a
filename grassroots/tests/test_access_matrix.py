"""The access matrix: every URL of the project, as each role, inside and outside its area.

The URL configuration is walked, and every pattern must have an entry in `MATRIX` or fall
under the admin site's own rule (`ADMIN_PREFIX`); a new URL without either fails
`test_it_has_an_entry_for_every_url`, and a new workflow action without a case fails
`test_it_has_a_case_for_every_workflow_action`.

Each entry says how to build its URL on objects inside the user's area and on objects outside
it (the outsider's community, in another district), which methods to try (GET; POST for every
action, one case per workflow transition), and the answer each role gets:

- anonymous: a redirect to the login page, except on the public pages;
- outside the area: 404, never a 200 or 403 that would tell the object exists; a list shows
  nothing from outside the area;
- a read-only official posting a change: 403;
- a refused POST changes nothing: issues, events, mediations, visits, patrols, notifications
  and phone-number views are compared before and after every POST.

Matrix size (`len(CASES)`, printed by `test_it_has_an_entry_for_every_url`): every URL name
with its (URL, method) pairs × 6 roles (the micro-wish provider among them) × 2 scopes, one
test each. The admin site's rule is one test: each of its patterns × the roles without the
admin's rights (a redirect to a login page); then, for the administrator, the changelist and
add page of each registered model, the index and each app's index. Below the matrix, exports
and dashboards are read row by row for 7 roles: nothing from outside the area appears in an
export, a dashboard figure, its breakdown table, its downloads or the list a figure opens; a
search by a resident's full or given name, on the list and both exports, finds the issue only
where the role sees the name (never for an official, who sees a surname). The areas, people
and logins are made once per class, each case rolls back its own.
"""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import openpyxl
import pytest
from django.conf import settings
from django.contrib import admin
from django.core import signing
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, RequestFactory, override_settings
from django.test.client import ClientHandler
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from PIL import Image

from grids.models import Courtyard, Grid, Patrol
from grids.tests.factories import (
    CommunityFactory,
    CourtyardFactory,
    GridFactory,
    GridWorkerFactory,
    OfficialAssignmentFactory,
    StaffAssignmentFactory,
    SubdistrictFactory,
    UserFactory,
)
from issues.models import (
    Attachment,
    FollowUp,
    Issue,
    IssueEvent,
    Mediation,
    Notification,
    PhoneReveal,
    Urgency,
)
from issues.tests.factories import FollowUpFactory, IssueFactory, MediationFactory, category
from issues.workflow import TRANSITIONS
from residents.models import CourtyardLink
from residents.tests.factories import CourtyardLinkFactory
from residents.views import SENT_SALT
from wishes import workflow as wish_workflow
from wishes.models import Dispatch, Offer, Wish, WishEvent, WishPhoto
from wishes.tests.factories import OfferFactory, ProviderFactory, WishFactory

pytestmark = pytest.mark.django_db

S = Issue.Status
# The provider (of micro-wishes) has no area: it sees only the wishes dispatched to it.
ROLES = ("anonymous", "grid_worker", "staff", "official", "provider", "admin")
SCOPES = ("in", "out")
LOGIN = "login"  # a redirect to the login page
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")
ADMIN_PREFIX = "admin/"


@pytest.fixture(scope="module")
def client_handler() -> ClientHandler:
    return ClientHandler(enforce_csrf_checks=False)


@pytest.fixture
def client(client_handler: ClientHandler) -> Client:
    """A new client on the module's one handler: loading the middleware afresh for each of the
    thousand cases (WhiteNoise indexes every static file) would cost more than the cases."""
    c = Client()
    c.handler = client_handler
    return c


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), "red").save(out, "PNG")
    return out.getvalue()


# --- The objects a case needs ---------------------------------------------------------------


@dataclass
class Base:
    """The areas and the people of conftest.py's role fixtures, each role already logged in."""

    courtyard: Courtyard
    foreign_courtyard: Courtyard
    # The provider's offer in the community, and another provider's in the outsider's.
    offer: Offer
    foreign_offer: Offer
    users: dict[str, Any]
    sessions: dict[str, str]

    @classmethod
    def build(cls) -> Base:
        community = CommunityFactory(
            name="冲赛康社区", subdistrict__name="八廓街道", subdistrict__district__name="城关区"
        )
        grid = GridFactory(community=community, name="第一网格")
        other_community = CommunityFactory(
            name="色麦村", subdistrict__name="曲水镇", subdistrict__district__name="曲水县"
        )

        def person(username: str, **kwargs: Any) -> Any:
            # No password: nobody logs in through the form here, and hashing one is slow.
            return UserFactory(username=username, password="!", **kwargs)

        users = {
            "grid_worker": GridWorkerFactory(user=person("gridworker"), grids=[grid]).user,
            "staff": StaffAssignmentFactory(community=community, user=person("staff")).user,
            "assignee": StaffAssignmentFactory(community=community, user=person("assignee")).user,
            "official": OfficialAssignmentFactory(
                subdistrict=community.subdistrict, user=person("official")
            ).user,
            "admin": person("admin", is_staff=True, is_superuser=True),
            "outsider": StaffAssignmentFactory(
                community=other_community, user=person("outsider")
            ).user,
            "someone": person("someone"),
            "provider": person("provider"),
        }
        sessions = {}
        for role in ROLES[1:]:
            c = Client()
            c.force_login(users[role])
            sessions[role] = c.cookies[settings.SESSION_COOKIE_NAME].value
        provider = ProviderFactory(user=users["provider"], communities=[community])
        return cls(
            offer=OfferFactory(
                provider=provider, community=community, title="义剪上门", capacity=100
            ),
            # With a login of its own: staff act only for a provider without one.
            foreign_offer=OfferFactory(
                provider=ProviderFactory(user=person("foreignprovider")),
                community=other_community,
                title="义诊",
                capacity=100,
            ),
            courtyard=CourtyardFactory(grid=grid, name="格东大院"),
            foreign_courtyard=CourtyardFactory(
                grid=GridFactory(community=other_community, name="色麦网格"), name="色麦大院"
            ),
            users=users,
            sessions=sessions,
        )

    def log_in(self, client: Client, role: str) -> None:
        if role != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[role]


@pytest.fixture(scope="class")
def base(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    """Made once for a class of cases and rolled back after it; each case rolls back its own.

    A thousand cases each making their areas, people and logins would take minutes.
    """
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        yield Base.build()
        transaction.set_rollback(True)


class World:
    """The objects one case needs, made on first use, inside or outside the role's area.

    Inside: the first grid's courtyard, which every role's area holds (the grid worker walks
    the grid, the staff serve its community, the official its subdistrict). Outside: a
    courtyard of the outsider's community, in another district.
    """

    def __init__(self, base: Base, role: str, scope: str) -> None:
        self.base = base
        self.role = role
        self.scope = scope
        self.inside = scope == "in"
        self.user = base.users.get(role)
        self.someone = base.users["someone"]

    @property
    def courtyard(self) -> Courtyard:
        return self.base.courtyard if self.inside else self.base.foreign_courtyard

    @property
    def grid(self) -> Grid:
        return self.courtyard.grid

    @property
    def me(self) -> Any:
        return self.user or self.someone

    @property
    def walker(self) -> Any:
        """The grid worker who walks the courtyard's grid (logs its issues, walks its patrols)."""
        return self.base.users["grid_worker"] if self.inside else self.someone

    @property
    def colleague(self) -> Any:
        """Someone an issue of the courtyard may be assigned to."""
        return self.base.users["assignee" if self.inside else "outsider"]

    def issue(self, **kwargs: Any) -> Issue:
        kwargs.setdefault("created_by", self.walker)
        return IssueFactory(courtyard=self.courtyard, **kwargs)

    @cached_property
    def collected(self) -> Issue:
        return self.issue(category=category("road"), urgency=Urgency.NORMAL)

    @cached_property
    def urgent(self) -> Issue:
        return self.issue(category=category("electrical"), urgency=Urgency.URGENT)

    @cached_property
    def listed(self) -> Issue:
        return self.issue(status=S.LISTED)

    @cached_property
    def in_progress(self) -> Issue:
        return self.issue(status=S.IN_PROGRESS, category=category("road"))

    @cached_property
    def resolved(self) -> Issue:
        return self.issue(status=S.RESOLVED, resolution="已修复。")

    @cached_property
    def dispute(self) -> Issue:
        return self.issue(category=category("dispute"))

    @cached_property
    def photo(self) -> Attachment:
        return Attachment.objects.create(
            issue=self.collected,
            image=ContentFile(png(), name="photo.jpg"),
            uploaded_by=self.walker,
        )

    @cached_property
    def visit(self) -> FollowUp:
        """A due visit: inside, the grid worker's; outside, the role's own on a foreign issue."""
        assignee = self.walker if self.inside else self.me
        return FollowUpFactory(issue=self.issue(status=S.RESOLVED), assignee=assignee)

    @cached_property
    def my_visit(self) -> FollowUp:
        """The role's own visit; outside, on an issue it can no longer see (it moved)."""
        return FollowUpFactory(issue=self.issue(status=S.RESOLVED), assignee=self.me)

    @cached_property
    def my_notice(self) -> Notification:
        """The role's own notification; outside, about an issue it can no longer see."""
        return Notification.objects.create(
            recipient=self.me, kind=Notification.Kind.ASSIGNED, issue=self.collected
        )

    @cached_property
    def notice_to_read(self) -> Notification:
        """Inside: the role's own notification. Outside: somebody else's."""
        recipient = self.me if self.inside else self.someone
        return Notification.objects.create(
            recipient=recipient, kind=Notification.Kind.ASSIGNED, issue=self.collected
        )

    # --- Micro-wishes. Inside, for the provider: a wish dispatched to it. Outside: a wish of
    # the foreign courtyard dispatched to another provider's offer there.

    @property
    def offer(self) -> Offer:
        return self.base.offer if self.inside else self.base.foreign_offer

    def wish(self, status: str, dispatch: str | None = None) -> Wish:
        wish = WishFactory(courtyard=self.courtyard, created_by=self.walker, status=status)
        if dispatch:
            Dispatch.objects.create(
                wish=wish,
                offer=self.offer,
                provider=self.offer.provider,
                state=dispatch,
                dispatched_by=self.someone,
            )
        return wish

    @cached_property
    def collected_wish(self) -> Wish:
        return self.wish(Wish.Status.COLLECTED)

    @cached_property
    def verified_wish(self) -> Wish:
        return self.wish(Wish.Status.VERIFIED)

    @cached_property
    def dispatched_wish(self) -> Wish:
        return self.wish(Wish.Status.DISPATCHED, Dispatch.State.DISPATCHED)

    @cached_property
    def taken_wish(self) -> Wish:
        return self.wish(Wish.Status.TAKEN, Dispatch.State.TAKEN)

    @cached_property
    def done_wish(self) -> Wish:
        return self.wish(Wish.Status.DONE, Dispatch.State.DONE)

    @cached_property
    def wish_photo(self) -> WishPhoto:
        return WishPhoto.objects.create(
            wish=self.dispatched_wish,
            image=ContentFile(png(), name="photo.jpg"),
            uploaded_by=self.walker,
        )

    def dispatch_of(self, wish: Wish) -> int:
        return wish.dispatches.get().pk

    @cached_property
    def link(self) -> CourtyardLink:
        """The courtyard's service-card link (its QR code)."""
        return CourtyardLinkFactory(courtyard=self.courtyard)

    @cached_property
    def patrol(self) -> Patrol:
        """A running patrol of the courtyard's grid, walked by its grid worker."""
        return Patrol.objects.create(
            grid_worker=self.walker, grid=self.grid, started_at=timezone.now()
        )


# --- The matrix -----------------------------------------------------------------------------

Answer = int | str | tuple[int, str]


def answers(
    grid_worker: Answer,
    staff: Answer,
    official: Answer,
    admin: Answer,
    anonymous: Answer = LOGIN,
    provider: Answer | None = None,
) -> dict[str, Answer]:
    """`provider` None: what a grid worker gets outside its area (a provider has no area)."""
    return {
        "anonymous": anonymous,
        "grid_worker": grid_worker,
        "staff": staff,
        "official": official,
        "admin": admin,
        "provider": provider,
    }


def everyone(
    answer: Answer, anonymous: Answer = LOGIN, provider: Answer | None = None
) -> dict[str, Answer]:
    return answers(answer, answer, answer, answer, anonymous, provider)


PUBLIC = everyone(200, anonymous=200)
ICON = (302, "/static/favicon.svg")
POST_ONLY = everyone(405)


def acting(*roles: str, outside: bool = True) -> frozenset[tuple[str, str]]:
    """The (role, scope) pairs whose POST takes effect: inside, and the admin everywhere."""
    pairs = {(role, "in") for role in roles}
    if outside and "admin" in roles:
        pairs.add(("admin", "out"))
    return frozenset(pairs)


@dataclass(frozen=True)
class Case:
    method: str
    url: Callable[[World], str]
    inside: dict[str, Answer]
    # None: 404 for every role with a login outside its area, the admin's answer as inside.
    outside: dict[str, Answer] | None = None
    data: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    acts: frozenset[tuple[str, str]] = frozenset()
    # Text the page shows inside the area and never outside it (the admin sees both).
    shows: Callable[[World], str] | None = None
    label: str = ""
    # Whether the provider sees `shows` inside: only on the wish pages, where "inside" is a
    # wish dispatched to it.
    provider_sees: bool = False

    def answer(self, role: str, scope: str) -> Answer:
        if role == "provider":
            table = self.inside if scope == "in" else (self.outside or {})
            explicit = table.get("provider")
            return explicit if explicit is not None else self.answer("grid_worker", "out")
        if scope == "in" or role == "anonymous":
            return self.inside[role]
        if self.outside is not None:
            return self.outside[role]
        return self.inside["admin"] if role == "admin" else 404


def get(url: Callable[[World], str], inside: dict[str, Answer], **kw: Any) -> Case:
    return Case("GET", url, inside, **kw)


def get_anywhere(url: Callable[[World], str], inside: dict[str, Answer], **kw: Any) -> Case:
    """A page of no one object: the same answer inside and outside, which only changes data."""
    return Case("GET", url, inside, outside=inside, **kw)


def post(url: Callable[[World], str], inside: dict[str, Answer], **kw: Any) -> Case:
    return Case("POST", url, inside, **kw)


def post_only(url: Callable[[World], str]) -> Case:
    """GET on a POST-only view: 405 whatever the object, so it tells nothing."""
    return Case("GET", url, POST_ONLY, outside=POST_ONLY)


def ref_url(name: str, obj: str, *args: str) -> Callable[[World], str]:
    return lambda w: reverse(name, args=[getattr(w, obj).reference, *args])


def transition(
    action: str,
    obj: str,
    inside: dict[str, Answer],
    fields: Callable[[World], dict[str, Any]] = lambda w: {},
    **kw: Any,
) -> Case:
    """POST one workflow action, with the status the page was drawn in."""
    return post(
        ref_url("issues:transition", obj, action),
        inside,
        data=lambda w: {f"{action}-seen_status": getattr(w, obj).status, **fields(w)},
        label=action,
        **kw,
    )


def capture_data(w: World) -> dict[str, Any]:
    return {
        "courtyard": w.courtyard.pk,
        "category": category("road").pk,
        "urgency": Urgency.NORMAL,
        "title": "路灯不亮",
        "source": Issue.Source.VISIT,
        "token": str(uuid.uuid4()),
    }


def report_data(w: World) -> dict[str, Any]:
    """A resident's report. The public pages' rate limits count every case from this one
    address: each case starts from none."""
    cache.clear()
    return {
        "category": category("road").pk,
        "description": "院门口路面塌陷。",
        "token": str(uuid.uuid4()),
    }


def no_lookups_yet(w: World) -> dict[str, Any]:
    cache.clear()
    return {}


# The public pages answer everyone alike, inside or outside any area; a report is taken from
# every one of them.
EVERYONE_ACTS = frozenset((role, scope) for role in ROLES for scope in SCOPES)


def visit_data(w: World) -> dict[str, Any]:
    prefix = f"visit-{w.visit.pk}"
    return {f"{prefix}-method": "phone", f"{prefix}-satisfaction": "satisfied"}


def mediation_data(w: World) -> dict[str, Any]:
    return {
        "mediation-mediated_on": timezone.localdate().isoformat(),
        "mediation-parties": "住户甲、住户乙",
        "mediation-method": Mediation.Method.IN_PERSON,
        "mediation-outcome": Mediation.Outcome.AGREEMENT,
    }


def issue_ref(obj: str) -> Callable[[World], str]:
    return lambda w: getattr(w, obj).reference


def wish_action(
    action: str,
    obj: str,
    inside: dict[str, Answer],
    fields: Callable[[World], dict[str, Any]] = lambda w: {},
    **kw: Any,
) -> Case:
    """POST one button of the wish page, with the status the page was drawn in."""
    return post(
        ref_url("wishes:action", obj, action),
        inside,
        data=lambda w: {f"{action}-seen_status": getattr(w, obj).status, **fields(w)},
        label=action,
        **kw,
    )


def wish_capture_data(w: World) -> dict[str, Any]:
    return {
        "courtyard": w.courtyard.pk,
        "kind": w.base.offer.kind_id,
        "title": "想请人上门理发",
        "beneficiary_name": "次仁卓玛",
        "source": Wish.Source.VISIT,
        "token": str(uuid.uuid4()),
    }


# What a user with a login may change in the workflow: staff and the admin act, the grid worker
# reaches the issue (409: the workflow refuses), the official reads only.
STAFF_ACT = answers(409, 302, 403, 302)
CONTRIBUTE = answers(302, 302, 403, 302)

MATRIX: dict[str, list[Case]] = {
    # --- Project pages
    "home": [
        get_anywhere(
            lambda w: "/",
            answers(
                (302, "/issues/mine/"),
                (302, "/issues/"),
                (302, "/dashboard/"),
                (302, "/admin/"),
                provider=(302, "/wishes/mine/"),
            ),
        )
    ],
    "healthz": [get_anywhere(lambda w: reverse("healthz"), PUBLIC)],
    "favicon": [get_anywhere(lambda w: "/favicon.ico", everyone(ICON, anonymous=ICON))],
    "set_language": [
        get_anywhere(lambda w: reverse("set_language") + "?next=/", everyone(302, 302)),
        Case(
            "POST",
            lambda w: reverse("set_language"),
            everyone(302, 302),
            outside=everyone(302, 302),
            data=lambda w: {"language": "en", "next": "/"},
        ),
    ],
    # --- Django's account pages. Their POSTs are Django's own forms; logging in is throttled
    # and has its tests in test_accounts.py.
    "login": [get_anywhere(lambda w: reverse("login"), PUBLIC)],
    "logout": [
        post_only(lambda w: reverse("logout")),
        # Everyone ends on the login page: the anonymous are sent there to log in first.
        Case("POST", lambda w: reverse("logout"), everyone(LOGIN), outside=everyone(LOGIN)),
    ],
    "password_change": [get_anywhere(lambda w: reverse("password_change"), everyone(200))],
    "password_change_done": [
        get_anywhere(lambda w: reverse("password_change_done"), everyone(200))
    ],
    "password_reset": [get_anywhere(lambda w: reverse("password_reset"), PUBLIC)],
    "password_reset_done": [get_anywhere(lambda w: reverse("password_reset_done"), PUBLIC)],
    "password_reset_confirm": [
        get_anywhere(lambda w: reverse("password_reset_confirm", args=["MQ", "bad-token"]), PUBLIC)
    ],
    "password_reset_complete": [get_anywhere(lambda w: reverse("password_reset_complete"), PUBLIC)],
    # --- Issues
    "issues:list": [
        get_anywhere(lambda w: reverse("issues:list"), everyone(200), shows=issue_ref("collected"))
    ],
    "issues:mine": [
        get_anywhere(lambda w: reverse("issues:mine"), everyone(200), shows=issue_ref("collected"))
    ],
    "issues:new": [
        # Officials read issues but do not log them.
        get_anywhere(lambda w: reverse("issues:new"), answers(200, 200, 403, 200, provider=403)),
        # A courtyard outside the area is not a choice of the form: 400, as for one that
        # does not exist.
        post(
            lambda w: reverse("issues:new"),
            answers(302, 302, 403, 302, provider=403),
            outside=answers(400, 400, 403, 302, provider=403),
            data=capture_data,
            acts=acting("grid_worker", "staff", "admin"),
        ),
    ],
    "issues:add_report": [
        post_only(ref_url("issues:add_report", "collected")),
        # A further resident's report joins an issue the user may contribute to; an official
        # reads but does not log.
        post(
            ref_url("issues:add_report", "collected"),
            CONTRIBUTE,
            data=capture_data,
            acts=acting("grid_worker", "staff", "admin"),
        ),
    ],
    "issues:duplicates": [
        get_anywhere(
            lambda w: (
                reverse("issues:duplicates")
                + f"?courtyard={w.collected.courtyard_id}&category={w.collected.category_id}"
            ),
            everyone(200),
            shows=issue_ref("collected"),
        )
    ],
    "issues:bulk": [
        post_only(lambda w: reverse("issues:bulk")),
        # Bulk actions are the staff's; an issue outside the area is named as not found, in
        # the same words as one that does not exist.
        post(
            lambda w: reverse("issues:bulk"),
            answers(403, 302, 403, 302),
            outside=answers(403, 302, 403, 302),
            data=lambda w: {"issue": [w.collected.reference], "action": "list"},
            acts=acting("staff", "admin"),
        ),
    ],
    "issues:export_csv": [
        get_anywhere(
            lambda w: reverse("issues:export_csv"), everyone(200), shows=issue_ref("collected")
        )
    ],
    "issues:export_xlsx": [
        get_anywhere(
            lambda w: reverse("issues:export_xlsx"), everyone(200), shows=issue_ref("collected")
        )
    ],
    "issues:detail": [get(ref_url("issues:detail", "collected"), everyone(200))],
    "issues:created": [get(ref_url("issues:created", "collected"), everyone(200))],
    "issues:photo": [
        get(
            lambda w: reverse("issues:photo", args=[w.collected.reference, w.photo.pk, "full"]),
            everyone(200),
        )
    ],
    "issues:assign": [
        post_only(ref_url("issues:assign", "listed")),
        post(
            ref_url("issues:assign", "listed"),
            STAFF_ACT,
            data=lambda w: {"assign-assignee": w.colleague.pk, "assign-seen_assignee": ""},
            acts=acting("staff", "admin"),
        ),
    ],
    "issues:comment": [
        post_only(ref_url("issues:comment", "collected")),
        post(
            ref_url("issues:comment", "collected"),
            CONTRIBUTE,
            data=lambda w: {"note": "已电话联系住户。"},
            acts=acting("grid_worker", "staff", "admin"),
        ),
    ],
    "issues:mediation": [
        post_only(ref_url("issues:mediation", "dispute")),
        post(
            ref_url("issues:mediation", "dispute"),
            CONTRIBUTE,
            data=mediation_data,
            acts=acting("grid_worker", "staff", "admin"),
        ),
    ],
    "issues:reveal_phone": [
        post_only(ref_url("issues:reveal_phone", "collected")),
        # Every view of a phone number is logged, so the reveal itself is a change.
        post(
            ref_url("issues:reveal_phone", "collected"),
            everyone(200),
            acts=acting("grid_worker", "staff", "official", "admin"),
        ),
    ],
    "issues:transition": [
        post_only(ref_url("issues:transition", "listed", "start")),
        transition("list", "collected", STAFF_ACT, acts=acting("staff", "admin")),
        # The grid worker who logged an urgent issue may handle it at once.
        transition(
            "handle_now",
            "urgent",
            answers(302, 302, 403, 302),
            acts=acting("grid_worker", "staff", "admin"),
        ),
        transition("start", "listed", STAFF_ACT, acts=acting("staff", "admin")),
        transition(
            "resolve",
            "in_progress",
            STAFF_ACT,
            # The issue has a resident: resolving it needs a reply to them.
            fields=lambda w: {"resolve-resolution": "已修复。", "resolve-reply": "路面已修复。"},
            acts=acting("staff", "admin"),
        ),
        transition(
            "reopen",
            "resolved",
            STAFF_ACT,
            fields=lambda w: {"reopen-reason": "住户反映仍有问题。"},
            acts=acting("staff", "admin"),
        ),
        # Closing without resolving is the staff's, with a reply to the resident.
        transition(
            "close",
            "collected",
            STAFF_ACT,
            fields=lambda w: {
                "close-outcome": "not_accepted",
                "close-reply": "经核实，不属于社区受理范围。",
            },
            acts=acting("staff", "admin"),
        ),
        # Only the system revisits: no one may post it (the official is refused first).
        transition("revisit", "resolved", answers(404, 404, 403, 404), outside=everyone(404)),
    ],
    "issues:dashboard": [
        get(lambda w: reverse("issues:dashboard") + f"?grid={w.grid.pk}", everyone(200))
    ],
    "issues:followups": [
        get_anywhere(
            lambda w: reverse("issues:followups"),
            everyone(200),
            shows=lambda w: w.my_visit.issue.reference,
        )
    ],
    "issues:followup_record": [
        post_only(lambda w: reverse("issues:followup_record", args=[w.visit.pk])),
        post(
            lambda w: reverse("issues:followup_record", args=[w.visit.pk]),
            answers(302, 302, 403, 302),
            data=visit_data,
            acts=acting("grid_worker", "staff", "admin"),
        ),
    ],
    "issues:notifications": [
        get_anywhere(
            lambda w: reverse("issues:notifications"),
            everyone(200),
            shows=lambda w: w.my_notice.issue.reference,
        )
    ],
    "issues:notifications_read": [
        post_only(lambda w: reverse("issues:notifications_read")),
        # Only one's own notifications: somebody else's stays unread.
        post(
            lambda w: reverse("issues:notifications_read"),
            everyone(302),
            outside=everyone(302),
            data=lambda w: {"id": [w.notice_to_read.pk]},
            acts=acting("grid_worker", "staff", "official", "provider", "admin", outside=False),
        ),
    ],
    # --- Micro-wishes. Staff check and dispatch; only the provider a wish was dispatched to
    # takes, hands back and completes it (staff only for a provider without a login); the
    # official reads (403 on a change); everything else of a wish is a 404 to the provider.
    "wishes:list": [
        get_anywhere(
            lambda w: reverse("wishes:list"),
            everyone(200),
            shows=lambda w: w.dispatched_wish.reference,
            provider_sees=True,
        )
    ],
    "wishes:new": [
        get_anywhere(lambda w: reverse("wishes:new"), answers(200, 200, 403, 200, provider=403)),
        post(
            lambda w: reverse("wishes:new"),
            answers(302, 302, 403, 302, provider=403),
            outside=answers(400, 400, 403, 302, provider=403),
            data=wish_capture_data,
            acts=acting("grid_worker", "staff", "admin"),
        ),
    ],
    "wishes:mine": [get_anywhere(lambda w: reverse("wishes:mine"), everyone(200))],
    "wishes:offers": [
        get_anywhere(
            lambda w: reverse("wishes:offers"),
            everyone(200),
            shows=lambda w: w.offer.title,
            provider_sees=True,
        )
    ],
    "wishes:detail": [
        get(ref_url("wishes:detail", "dispatched_wish"), everyone(200, provider=200)),
    ],
    "wishes:photo": [
        get(
            lambda w: reverse(
                "wishes:photo", args=[w.wish_photo.wish.reference, w.wish_photo.pk, "thumb"]
            ),
            everyone(200, provider=200),
        )
    ],
    "wishes:dispatch": [
        get(ref_url("wishes:dispatch", "verified_wish"), everyone(200)),
        post(
            ref_url("wishes:dispatch", "verified_wish"),
            answers(409, 302, 403, 302),
            data=lambda w: {"seen_status": "verified", "offers": [w.offer.pk]},
            acts=acting("staff", "admin"),
            label="dispatch",
        ),
    ],
    "wishes:action": [
        post_only(ref_url("wishes:action", "collected_wish", "verify")),
        wish_action("verify", "collected_wish", STAFF_ACT, acts=acting("staff", "admin")),
        wish_action(
            "decline",
            "collected_wish",
            STAFF_ACT,
            fields=lambda w: {"decline-reason": "已由其他渠道解决。"},
            acts=acting("staff", "admin"),
        ),
        wish_action(
            "take",
            "dispatched_wish",
            answers(409, 409, 403, 409, provider=302),
            fields=lambda w: {"take-dispatch_id": w.dispatch_of(w.dispatched_wish)},
            acts=acting("provider"),
        ),
        wish_action(
            "hand_back",
            "dispatched_wish",
            answers(409, 409, 403, 409, provider=302),
            fields=lambda w: {
                "hand_back-dispatch_id": w.dispatch_of(w.dispatched_wish),
                "hand_back-reason": "这周出差。",
            },
            acts=acting("provider"),
        ),
        wish_action(
            "complete",
            "taken_wish",
            answers(409, 409, 403, 409, provider=302),
            fields=lambda w: {
                "complete-dispatch_id": w.dispatch_of(w.taken_wish),
                "complete-note": "已上门理发。",
                "complete-photos": SimpleUploadedFile("done.png", png()),
            },
            acts=acting("provider"),
        ),
        # The provider still sees the wish it fulfilled, but the return visit is not its own.
        wish_action(
            "record_satisfaction",
            "done_wish",
            answers(302, 302, 403, 302, provider=409),
            fields=lambda w: {"record_satisfaction-satisfaction": "satisfied"},
            acts=acting("grid_worker", "staff", "admin"),
        ),
    ],
    # --- The residents' side. Public: the report page behind the card's QR code, the page
    # after sending, tracking. The cards and their codes are the community staff's.
    "residents:report": [
        get_anywhere(lambda w: reverse("residents:report", args=[w.link.token]), PUBLIC),
        Case(
            "POST",
            lambda w: reverse("residents:report", args=[w.link.token]),
            everyone(302, 302),
            outside=everyone(302, 302),
            data=report_data,
            acts=EVERYONE_ACTS,
        ),
    ],
    "residents:sent": [
        get_anywhere(
            lambda w: reverse(
                "residents:sent", args=[signing.dumps(w.collected.reference, salt=SENT_SALT)]
            ),
            PUBLIC,
        )
    ],
    "residents:track_lookup": [get_anywhere(lambda w: reverse("residents:track_lookup"), PUBLIC)],
    "residents:track": [
        get_anywhere(ref_url("residents:track", "collected"), PUBLIC, data=no_lookups_yet)
    ],
    "residents:card": [
        # Grid workers and officials read the courtyard but do not print its card.
        get(lambda w: reverse("residents:card", args=[w.courtyard.pk]), answers(403, 200, 403, 200))
    ],
    "residents:community_cards": [
        # A grid worker's area is their grids, not the whole community.
        get(
            lambda w: reverse("residents:community_cards", args=[w.grid.community_id]),
            answers(404, 200, 403, 200),
        )
    ],
    "residents:replace_link": [
        get(
            lambda w: reverse("residents:replace_link", args=[w.link.courtyard_id]),
            answers(403, 200, 403, 200),
        ),
        post(
            lambda w: reverse("residents:replace_link", args=[w.link.courtyard_id]),
            answers(403, 302, 403, 302),
            acts=acting("staff", "admin"),
        ),
    ],
    "residents:reply": [
        post_only(ref_url("residents:reply", "collected")),
        # The grid worker reaches the issue but does not answer for the community (409).
        post(
            ref_url("residents:reply", "collected"),
            STAFF_ACT,
            data=lambda w: {"reply-text": "已安排人员处理。"},
            acts=acting("staff", "admin"),
        ),
    ],
    # --- Areas and patrols
    "grids:courtyards": [
        get_anywhere(
            lambda w: reverse("grids:courtyards"),
            everyone(200),
            shows=lambda w: reverse("grids:courtyard", args=[w.courtyard.pk]),
        )
    ],
    "grids:courtyard": [
        get(lambda w: reverse("grids:courtyard", args=[w.courtyard.pk]), everyone(200))
    ],
    "grids:patrols": [
        get_anywhere(
            lambda w: reverse("grids:patrols"),
            everyone(200),
            shows=lambda w: reverse("grids:patrol", args=[w.patrol.pk]),
        )
    ],
    "grids:patrol": [get(lambda w: reverse("grids:patrol", args=[w.patrol.pk]), everyone(200))],
    "grids:patrol_start": [
        post_only(lambda w: reverse("grids:patrol_start")),
        # Only grid workers patrol; a grid outside theirs is not a choice of the form, which
        # comes back (400) with the grid marked.
        post(
            lambda w: reverse("grids:patrol_start"),
            answers(302, 403, 403, 403, provider=403),
            outside=answers(400, 403, 403, 403, provider=403),
            data=lambda w: {"grid": w.grid.pk, "kind": Patrol.Kind.ROUTINE},
            acts=acting("grid_worker"),
        ),
    ],
    "grids:patrol_end": [
        post_only(lambda w: reverse("grids:patrol_end", args=[w.patrol.pk])),
        # Only the grid worker on the patrol ends it; the admin sees it and is refused.
        post(
            lambda w: reverse("grids:patrol_end", args=[w.patrol.pk]),
            answers(302, 403, 403, 403),
            data=lambda w: {"notes": "无异常。"},
            acts=acting("grid_worker"),
        ),
    ],
}


def case_id(name: str, case: Case, role: str, scope: str) -> str:
    method = f"{case.method}:{case.label}" if case.label else case.method
    return f"{name}-{method}-{role}-{scope}"


CASES = [
    pytest.param(name, case, role, scope, id=case_id(name, case, role, scope))
    for name, cases in MATRIX.items()
    for case in cases
    for role in ROLES
    for scope in SCOPES
]


# --- Checking an answer -----------------------------------------------------------------------


def snapshot() -> tuple[Any, ...]:
    """Every row a POST of the matrix could write."""
    return (
        list(Issue.objects.order_by("pk").values_list("pk", "status", "assignee_id", "due_at")),
        IssueEvent.objects.count(),
        Mediation.objects.count(),
        PhoneReveal.objects.count(),
        list(FollowUp.objects.order_by("pk").values_list("pk", "done_at")),
        list(Patrol.objects.order_by("pk").values_list("pk", "ended_at")),
        list(Notification.objects.order_by("pk").values_list("pk", "read_at")),
        list(CourtyardLink.objects.order_by("pk").values_list("pk", "replaced_at")),
        list(Wish.objects.order_by("pk").values_list("pk", "status")),
        list(Dispatch.objects.order_by("pk").values_list("pk", "state")),
        WishEvent.objects.count(),
    )


def content(response: Any) -> bytes:
    """The body. Reading a streamed one to its end closes it as the test client arranges;
    response.close() would also close the database connection in the test's transaction."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def body(response: Any) -> str:
    """A response's text: a page, a streamed CSV, or the cells of a workbook."""
    data = content(response)
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(cell)
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        )
    return data.decode("utf-8-sig", "replace")


def assert_answer(response: Any, answer: Answer) -> None:
    status, location = response.status_code, response.get("Location", "")
    if answer == LOGIN:
        assert status == 302, status
        assert location.startswith(LOGIN_PAGES), location
    elif isinstance(answer, tuple):
        assert (status, location) == answer
    else:
        assert status == answer, (status, location)


class TestMatrix:
    @pytest.mark.parametrize(("name", "case", "role", "scope"), CASES)
    def test_it_answers_each_role_as_the_matrix_says(self, client, base, name, case, role, scope):
        w = World(base, role, scope)
        url = case.url(w)
        data = case.data(w)
        shown = case.shows(w) if case.shows else None
        base.log_in(client, role)
        before = snapshot()

        r = client.post(url, data) if case.method == "POST" else client.get(url)

        expected = case.answer(role, scope)
        text = body(r)
        assert_answer(r, expected)
        if case.method == "POST":
            # A refusal changes nothing; an action that is allowed takes effect.
            assert (snapshot() != before) == ((role, scope) in case.acts)
        if shown is not None and expected == 200:
            sees = role != "provider" or case.provider_sees
            assert (shown in text) == ((scope == "in" and sees) or role == "admin")


# --- Every URL has an entry -------------------------------------------------------------------


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> list[tuple[str, str, URLPattern]]:
    """(key, route, pattern) for every pattern: the namespaced name, or the route if unnamed."""
    resolver = resolver or get_resolver()
    out = []
    for p in resolver.url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            out += url_patterns(p, route, ns)
        else:
            out.append((f"{namespace}{p.name}" if p.name else route, route, p))
    return out


PATTERNS = url_patterns()
# Everything under admin/ falls under the admin site's rule below, generated from the same walk.
ADMIN_PATTERNS = [(key, route, p) for key, route, p in PATTERNS if route.startswith(ADMIN_PREFIX)]


def test_it_has_an_entry_for_every_url():
    keys = {key for key, route, _p in PATTERNS if not route.startswith(ADMIN_PREFIX)}
    pairs = sum(len(cases) for cases in MATRIX.values())
    print(
        f"access matrix: {len(MATRIX)} URLs, {pairs} (URL, method) pairs × {len(ROLES)} roles"
        f" × {len(SCOPES)} scopes = {len(CASES)} cases; admin site: {len(ADMIN_PATTERNS)}"
        f" patterns × {len(ROLES) - 1} roles, {len(REGISTERED)} models"
    )

    assert keys == set(MATRIX)
    assert len({key for key, _r, _p in PATTERNS}) == len(PATTERNS)
    assert ADMIN_PATTERNS


def test_it_has_a_case_for_every_workflow_action():
    posted = {c.label for c in MATRIX["issues:transition"] if c.method == "POST"}

    assert posted == set(TRANSITIONS)


def test_it_has_a_case_for_every_wish_workflow_action():
    cases = MATRIX["wishes:action"] + MATRIX["wishes:dispatch"]
    posted = {c.label for c in cases if c.method == "POST"}

    assert posted == set(wish_workflow.TRANSITIONS)


# --- The admin site's rule ------------------------------------------------------------------

# A value for each argument of the admin's patterns: the rule is about who gets in, not
# what is found, and the admin's views check the user before they look anything up.
ADMIN_ARGS = {
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "app_label": "grids",
    "url": "no-such-page/",
}
REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name) for model in admin.site._registry
)


def admin_path(route: str) -> str:
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: ADMIN_ARGS[m[1]], route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ADMIN_ARGS[m[1]], path)
    return "/" + path.replace("^", "").replace("$", "")


class TestAdminSite:
    def test_it_sends_everyone_but_the_admin_to_a_login_page(self, client, base):
        # Django's own rule, checked on every admin URL as every role without the admin's
        # rights: one test that names every URL answered otherwise.
        wrong = []
        for key, route, pattern in ADMIN_PATTERNS:
            path = admin_path(route)
            assert resolve(path).func == pattern.callback, path
            for role in ROLES[:-1]:
                client.cookies.clear()
                base.log_in(client, role)
                # Each request rolls back what it wrote, as a test of its own would.
                with transaction.atomic():
                    r = client.get(path)
                    transaction.set_rollback(True)
                try:
                    if key == "admin:login":
                        # The admin's login page is public; a user without the admin's rights
                        # is told so.
                        assert r.status_code == 200
                    elif key == "admin:logout" and role != "anonymous":
                        # The admin site sends a user who is not its own from its logout to its
                        # index, which sends them to its login page.
                        assert_answer(r, (302, reverse("admin:index")))
                        with transaction.atomic():
                            assert_answer(client.get(reverse("admin:index")), LOGIN)
                            transaction.set_rollback(True)
                    else:
                        assert_answer(r, LOGIN)
                except AssertionError:
                    wrong.append(f"{role} GET {path}: {r.status_code} {r.get('Location', '')}")

        assert wrong == []

    @pytest.mark.parametrize(("app", "model"), REGISTERED, ids=[f"{a}.{m}" for a, m in REGISTERED])
    def test_it_opens_every_models_changelist_and_add_page_to_the_admin(
        self, client, base, app, model
    ):
        base.log_in(client, "admin")
        model_admin = next(
            ma for m, ma in admin.site._registry.items() if m._meta.model_name == model
        )
        fake = RequestFactory().get("/")
        fake.user = base.users["admin"]

        changelist = client.get(reverse(f"admin:{app}_{model}_changelist"))
        add = client.get(reverse(f"admin:{app}_{model}_add"))

        assert changelist.status_code == 200
        # Audit trails are read only: their add page is refused to the admin too.
        assert add.status_code == (200 if model_admin.has_add_permission(fake) else 403)

    def test_it_opens_the_admin_index_and_each_app_to_the_admin(self, client, base):
        base.log_in(client, "admin")

        assert client.get(reverse("admin:index")).status_code == 200
        for app in sorted({app for app, _m in REGISTERED}):
            assert client.get(reverse("admin:app_list", args=[app])).status_code == 200, app
        assert_answer(client.get(reverse("admin:login")), (302, reverse("admin:index")))


# --- Exports and dashboards: nothing from outside the area ------------------------------------


@pytest.fixture
def places(community, grid, other_grid, courtyard, other_courtyard, other_community):
    """Issues, visits, mediations and patrols in each place a role boundary runs between.

    ours: the first grid; other_grid: the second grid of the community; sibling: another
    community of the subdistrict; cousin: a community of another subdistrict of the district;
    foreign: the outsider's community, in another district. Each place has a different number
    of issues, so that a figure that counts one place too many cannot come out right.
    """
    subdistrict = community.subdistrict
    sibling = CommunityFactory(subdistrict=subdistrict, name="八一社区")
    cousin = CommunityFactory(
        subdistrict=SubdistrictFactory(district=subdistrict.district, name="娘热街道"),
        name="慈松塘社区",
    )
    courtyards = {
        "ours": courtyard,
        "other_grid": other_courtyard,
        "sibling": CourtyardFactory(
            grid=GridFactory(community=sibling, name="八一网格"), name="八一大院"
        ),
        "cousin": CourtyardFactory(
            grid=GridFactory(community=cousin, name="慈松塘网格"), name="慈松塘大院"
        ),
        "foreign": CourtyardFactory(
            grid=GridFactory(community=other_community, name="色麦网格"), name="色麦大院"
        ),
    }
    counts = {"ours": 1, "other_grid": 2, "sibling": 3, "cousin": 4, "foreign": 5}
    walker = UserFactory(username="walker")
    now = timezone.now()
    issues: dict[str, list[Issue]] = {}
    for name, where in courtyards.items():
        issues[name] = [
            IssueFactory(courtyard=where, created_by=walker, title=f"{where.name}的问题")
            for _ in range(counts[name])
        ]
        resolved = IssueFactory(
            courtyard=where,
            created_by=walker,
            category=category("dispute"),
            status=S.RESOLVED,
            resolved_at=now,
            due_at=now + timedelta(days=1),
        )
        MediationFactory(issue=resolved, mediated_on=timezone.localdate())
        FollowUpFactory(
            issue=resolved,
            assignee=walker,
            due_at=now,
            done_at=now,
            done_by=walker,
            method=FollowUp.Method.PHONE,
            satisfaction=FollowUp.Satisfaction.SATISFIED,
        )
        Patrol.objects.create(grid_worker=walker, grid=where.grid, started_at=now)
        issues[name].append(resolved)
    return {"courtyards": courtyards, "issues": issues}


# Which places each role sees (as in grids/tests/test_access.py).
SEES = {
    "grid_worker": {"ours"},
    "other_grid_worker": {"other_grid"},
    "staff": {"ours", "other_grid"},
    "official": {"ours", "other_grid", "sibling"},
    "district_official": {"ours", "other_grid", "sibling", "cousin"},
    "outsider": {"foreign"},
    "admin_user": {"ours", "other_grid", "sibling", "cousin", "foreign"},
}
PLACES = ("ours", "other_grid", "sibling", "cousin", "foreign")


def place_names(places: dict[str, Any], names: set[str]) -> set[str]:
    """The names of the courtyards, grids and communities of the given places."""
    out = set()
    for name in names:
        c = places["courtyards"][name]
        out |= {c.name, c.grid.name, c.grid.community.name}
    return out


def outside_names(places: dict[str, Any], who: str) -> set[str]:
    """Names only the places outside the role's area have (ours and other_grid share one)."""
    return place_names(places, set(PLACES) - SEES[who]) - place_names(places, SEES[who])


def export_rows(response: Any) -> list[list[str]]:
    text = body(response) if "csv" in response["Content-Type"] else None
    if text is not None:
        return list(csv.reader(io.StringIO(text)))[1:]
    wb = openpyxl.load_workbook(io.BytesIO(content(response)), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))[1:]
    return [["" if v is None else str(v) for v in row] for row in rows]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("who", list(SEES))
def test_it_exports_only_the_rows_of_the_users_area(client, request, places, who, fmt):
    client.force_login(request.getfixturevalue(who))

    r = client.get(reverse(f"issues:export_{fmt}") + "?status=all")

    assert r.status_code == 200
    rows = export_rows(r)
    expected = {i.reference for name in SEES[who] for i in places["issues"][name]}
    assert {row[0] for row in rows} == expected
    assert len(rows) == len(expected)
    text = "\n".join(",".join(row) for row in rows)
    for name in outside_names(places, who):
        assert name not in text, name


FIGURE_LINK = re.compile(r'data-figure="collected" href="([^"]+)"')


@pytest.mark.parametrize("who", list(SEES))
def test_it_counts_only_the_users_area_in_every_dashboard_figure(client, request, places, who):
    client.force_login(request.getfixturevalue(who))
    seen = SEES[who]
    inside = {i.reference for name in seen for i in places["issues"][name]}

    r = client.get(reverse("issues:dashboard"))

    assert r.status_code == 200
    t = r.context["t"]
    # Each place has its own issues plus one resolved dispute, mediated and visited, and one
    # patrol of its grid.
    assert t["collected"] == len(inside)
    assert (t["resolved"], t["mediated"], t["visits_done"], t["patrols"]) == (len(seen),) * 4
    assert t["open"] == len(inside) - len(seen)
    assert sum(row.get("collected") or 0 for _c, row in r.context["categories"]) == len(inside)
    if r.context["child"]:
        assert sum(row["collected"] for _a, row in r.context["child_rows"]) == len(inside)
    page = r.content.decode()
    hidden = outside_names(places, who)
    for name in hidden:
        assert name not in page, name
    # The figure opens the list of exactly the issues behind it.
    href = html.unescape(FIGURE_LINK.search(page)[1])
    listed = client.get(href)
    assert listed.context["total"] == len(inside)
    assert {i.reference for i in listed.context["page"].object_list} == inside
    # The breakdown table's downloads hold only the areas and counts of the user's area.
    for fmt in ("csv", "xlsx"):
        download = client.get(reverse("issues:dashboard") + f"?format={fmt}")
        assert download.status_code == 200
        rows = export_rows(download)
        text = "\n".join(",".join(row) for row in rows)
        for name in hidden:
            assert name not in text, (fmt, name)
        area_rows = rows[: len(r.context["child_rows"])]
        assert {row[0] for row in area_rows} == {a.name for a, _r in r.context["child_rows"]}
        assert sum(int(row[1]) for row in rows[len(area_rows) :]) == len(inside), fmt


@pytest.mark.parametrize("who", ["grid_worker", "staff", "official"])
def test_it_answers_404_for_a_dashboard_of_an_area_outside_the_users(client, request, places, who):
    client.force_login(request.getfixturevalue(who))
    foreign = places["courtyards"]["foreign"]

    for param in (
        f"grid={foreign.grid_id}",
        f"community={foreign.grid.community_id}",
        f"subdistrict={foreign.grid.community.subdistrict_id}",
        f"district={foreign.grid.community.subdistrict.district_id}",
    ):
        for fmt in ("", "&format=csv", "&format=xlsx"):
            r = client.get(reverse("issues:dashboard") + f"?{param}{fmt}")
            assert r.status_code == 404, (param, fmt)


# --- Pages that list another object's issues --------------------------------------------------


def test_it_lists_on_a_courtyard_page_only_the_issues_of_the_users_area(
    client, grid_worker, other_grid_worker, courtyard, other_grid
):
    # Issues keep the grid they were logged in; the courtyard then moves to the next grid.
    before = IssueFactory(courtyard=courtyard, title="搬迁前的问题")
    courtyard.grid = other_grid
    courtyard.save(update_fields=["grid"])
    after = IssueFactory(courtyard=courtyard, title="搬迁后的问题")
    client.force_login(other_grid_worker)

    page = client.get(reverse("grids:courtyard", args=[courtyard.pk])).content.decode()

    assert after.title in page
    assert before.title not in page
    assert client.get(before.get_absolute_url()).status_code == 404


def test_it_lists_on_a_patrol_page_only_the_hazards_of_the_users_area(
    client, grid_worker, grid, other_grid, other_courtyard
):
    # A worker of both grids logs a hazard of the second grid on a patrol of the first.
    both = GridWorkerFactory(user__username="both", grids=[grid, other_grid]).user
    patrol = Patrol.objects.create(grid_worker=both, grid=grid, started_at=timezone.now())
    hazard = IssueFactory(
        courtyard=other_courtyard, patrol=patrol, source=Issue.Source.PATROL, title="第二网格的隐患"
    )
    client.force_login(grid_worker)

    page = client.get(reverse("grids:patrol", args=[patrol.pk])).content.decode()

    assert hazard.title not in page
    assert client.get(hazard.get_absolute_url()).status_code == 404


# --- Searching by a resident's name: only where the user sees the name -----------------------

# Where each role sees a resident's full name (issues/privacy.py): officials see a surname only,
# so a search by the rest of a name must not tell them whose issue it is.
SEES_NAMES = {
    "grid_worker": {"ours"},
    "other_grid_worker": {"other_grid"},
    "staff": {"ours", "other_grid"},
    "official": set(),
    "district_official": set(),
    "outsider": {"foreign"},
    "admin_user": set(PLACES),
}
RESIDENT = "张三丰"


@pytest.fixture
def named(places):
    """In every place, one issue raised by 张三丰 whose title and description do not name him."""
    return {
        name: IssueFactory(
            courtyard=where,
            created_by=UserFactory(),
            title="楼道灯不亮",
            description="晚上看不见台阶。",
            resident_name=RESIDENT,
            resident_phone="13812345678",
        )
        for name, where in places["courtyards"].items()
    }


def searched(client: Client, url: str, term: str) -> set[str]:
    """The references a list or an export shows for a search of all statuses."""
    r = client.get(url, {"status": "all", "q": term})
    assert r.status_code == 200
    if url == reverse("issues:list"):
        assert r.context["total"] == len(r.context["page"].object_list)
        return {i.reference for i in r.context["page"].object_list}
    return {row[0] for row in export_rows(r)}


SEARCHED_URLS = ["issues:list", "issues:export_csv", "issues:export_xlsx"]


@pytest.mark.parametrize("url", SEARCHED_URLS)
@pytest.mark.parametrize("term", [RESIDENT, "三丰"], ids=["full-name", "given-name"])
@pytest.mark.parametrize("who", list(SEES_NAMES))
def test_it_finds_a_resident_by_name_only_where_the_user_sees_the_name(
    client, request, named, who, term, url
):
    client.force_login(request.getfixturevalue(who))

    found = searched(client, reverse(url), term)

    assert found == {named[place].reference for place in SEES_NAMES[who]}


@pytest.mark.parametrize("url", SEARCHED_URLS)
@pytest.mark.parametrize("who", list(SEES_NAMES))
def test_it_still_finds_by_title_the_issues_whose_name_a_user_may_not_search(
    client, request, named, who, url
):
    client.force_login(request.getfixturevalue(who))

    found = searched(client, reverse(url), "楼道灯")

    assert found == {named[place].reference for place in SEES[who]}
