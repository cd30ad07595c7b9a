"""Property-based fuzzing of the capture form, the list filters, the dashboard's parameters and
export cells: no input answers 500.

The capture form stores a concern exactly once with the text as sent (less the surrounding
whitespace every text field strips), or redisplays itself with errors and stores nothing. Any
text becomes an export cell that a workbook holds and no spreadsheet runs as a formula.
Runs are derandomised, so CI sees the same examples each time.
"""

from __future__ import annotations

import io
import uuid
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import openpyxl
import pytest
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from issues import exports
from issues.models import Category, Issue, IssueEvent, Urgency

pytestmark = pytest.mark.django_db


def fuzz(examples: int) -> settings:
    """Fixed examples for CI (derandomised, no example database); no per-example deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# Any character a browser can send: control characters and NUL included, lone surrogates
# not (they have no UTF-8 form, so no request carries them).
CHAR = st.characters(codec="utf-8")
HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        '=HYPERLINK("http://x")',
        "'; DROP TABLE issues_issue; --",
        "%_\\",
        "\x00",
        "\u202e\u200b\ufeff",
        "\x01=cmd|' /C calc'!A0\ufffe\uffff\x1b[31m",
        "../../etc/passwd",
        "路面破损" * 40,
        " \t\r\n ",
    ]
)


def long_text(low: int, high: int) -> st.SearchStrategy[str]:
    """A character repeated to a length around a field's limit."""
    return st.builds(lambda c, n: c * n, CHAR, st.integers(low, high))


def text(max_size: int, limit: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(CHAR, max_size=max_size),
        long_text(limit - 3, limit + 3),
        HOSTILE,
        st.builds(lambda a, b: a + b, HOSTILE, st.text(CHAR, max_size=10)),
    )


def number(**kwargs: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(**kwargs).map(str),
        st.integers(-(2**70), 2**70).map(str),
        st.text(CHAR, max_size=12),
        st.sampled_from(["", "1e3", "0x10", "1.5", "NaN", "-0", "²", "٣", " 7 ", "9" * 5000]),
    )


# --- Capture -------------------------------------------------------------------------------------

CAPTURE = reverse("issues:new")


# What a person may type: anything but NUL, which no text field accepts.
TYPED = st.characters(codec="utf-8", exclude_characters="\x00")


def typed(max_size: int, *, required: bool = False) -> st.SearchStrategy[str]:
    """Text a field accepts: within its length, and not blank where it is required."""
    strategy = st.one_of(
        st.text(TYPED, min_size=int(required), max_size=min(max_size, 300)),
        st.builds(lambda c, n: c * n, TYPED, st.integers(max(1, max_size - 5), max_size)),
    )
    return strategy.filter(str.strip) if required else strategy


@st.composite
def capture_forms(draw: st.DrawFn, ids: dict[str, list[int]]) -> dict[str, object]:
    """Half the forms are valid in every field; the others mix valid and hostile fields."""
    valid = draw(st.booleans())

    def field(good: st.SearchStrategy, bad: st.SearchStrategy) -> object:
        return draw(good if valid else st.one_of(good, bad))

    phones = st.one_of(
        st.just(""),
        st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
        st.from_regex(r"0[0-9]{2,3}-?[0-9]{7,8}", fullmatch=True),
    )
    return {
        "courtyard": field(
            st.just(str(ids["courtyard"][0])),
            st.one_of(st.sampled_from(ids["courtyard"]).map(str), number()),
        ),
        "category": field(
            st.sampled_from(ids["active_category"]).map(str),
            st.one_of(st.sampled_from(ids["category"]).map(str), number()),
        ),
        "urgency": field(st.sampled_from(Urgency.values), text(8, 6)),
        "title": field(typed(120, required=True), text(150, 120)),
        "description": field(typed(5000), text(300, 5000)),
        "source": field(st.sampled_from(Issue.Source.values), text(12, 10)),
        "resident_name": field(typed(50), text(60, 50)),
        "resident_phone": field(
            phones, st.one_of(st.text("0123456789-+ ()", max_size=24), text(24, 20))
        ),
        "people_affected": field(
            st.one_of(st.just(""), st.integers(0, 100_000).map(str)),
            number(min_value=-5, max_value=100_005),
        ),
        "amount_owed": field(
            st.one_of(
                st.just(""),
                st.decimals(0, Decimal("9999999999.99"), places=2).map(str),
            ),
            st.one_of(
                st.decimals(allow_nan=True, allow_infinity=True).map(str),
                number(min_value=-5, max_value=10**12),
            ),
        ),
        "patrol": field(st.just(""), number()),
        # None: a fresh token, made when the form is posted.
        "token": field(st.none(), text(40, 36)),
        "valid": valid,
        "urlencoded": draw(st.booleans()),
        "twice": draw(st.booleans()),
    }


def post(client, data: dict[str, object], urlencoded: bool):
    if urlencoded:
        return client.post(
            CAPTURE, urlencode(data), content_type="application/x-www-form-urlencoded"
        )
    return client.post(CAPTURE, data)


@pytest.fixture
def capture_ids(courtyard, other_courtyard, grid_worker) -> dict[str, list[int]]:
    # The worker's own courtyard, one of a grid they do not walk, and the categories
    # (an inactive one among them).
    Category.objects.filter(code="other").update(is_active=False)
    return {
        "courtyard": [courtyard.pk, other_courtyard.pk],
        "category": list(Category.objects.values_list("pk", flat=True)),
        "active_category": list(
            Category.objects.filter(is_active=True).values_list("pk", flat=True)
        ),
    }


def test_capture_fuzz(client, grid_worker, capture_ids, courtyard):
    client.force_login(grid_worker)

    @fuzz(200)
    @given(form=capture_forms(capture_ids))
    def check(form: dict[str, object]) -> None:
        valid, urlencoded, twice = form.pop("valid"), form.pop("urlencoded"), form.pop("twice")
        token = form["token"] if form["token"] is not None else str(uuid.uuid4())
        data = {**form, "token": token}
        before = Issue.objects.count()

        r = post(client, data, urlencoded)

        assert r.status_code in (302, 400), r.status_code
        # A form valid in every field is stored, whatever characters its text holds.
        assert r.status_code == 302 or not valid, r.context["form"].errors
        if r.status_code == 302:
            issue = Issue.objects.get(submission_token=token)
            assert Issue.objects.count() == before + 1
            # A title is one line: line breaks and runs of spaces become one space.
            assert issue.title == " ".join(str(data["title"]).split())
            assert issue.description == str(data["description"]).strip()
            assert issue.resident_name == str(data["resident_name"]).strip()
            assert issue.resident_phone == str(data["resident_phone"]).strip()
            assert issue.urgency == data["urgency"]
            assert issue.source == (
                Issue.Source.PATROL if data["patrol"] not in ("", None) else data["source"]
            )
            # As the database lookup reads a number: int() also takes " 7", "+7" and "1_0".
            assert issue.courtyard_id == int(str(data["courtyard"]))
            assert issue.courtyard_id == courtyard.pk  # never a courtyard outside the grids
            assert issue.category_id == int(str(data["category"]))
            amount = str(data["amount_owed"]).strip()
            assert issue.amount_owed == (Decimal(amount) if amount else None)
            people = str(data["people_affected"]).strip()
            assert issue.people_affected == (int(people) if people else None)
            assert issue.category.is_active
            assert IssueEvent.objects.filter(issue=issue).count() == 1
            assert r["Location"] == reverse("issues:created", args=[issue.reference])
            if twice:
                # The same form again (a retry on a bad connection): still one issue.
                again = post(client, data, urlencoded)
                assert again.status_code == 302
                assert again["Location"] == r["Location"]
                assert Issue.objects.count() == before + 1
        else:
            assert Issue.objects.count() == before
            html = r.content.decode()
            assert "errorlist" in html or "alert-error" in html
            form_errors = r.context["form"].errors
            assert form_errors
            # What was typed comes back, as text.
            for name in ("title", "resident_name", "description"):
                value = str(data[name])
                if value.strip():
                    assert escape(value) in html, name
            assert "<script>alert(1)</script>" not in html

    check()


# --- List filters --------------------------------------------------------------------------------

LIST_KEYS = [
    "status",
    "category",
    "urgency",
    "source",
    "district",
    "subdistrict",
    "community",
    "grid",
    "courtyard",
    "assignee",
    "overdue",
    "created_after",
    "created_before",
    "resolved_after",
    "resolved_before",
    "on_time",
    "mediated_after",
    "mediated_before",
    "visited_after",
    "visited_before",
    "visit",
    "q",
    "sort",
    "page",
]
DASHBOARD_KEYS = [
    "period",
    "from",
    "to",
    "sort",
    "format",
    "district",
    "subdistrict",
    "community",
    "grid",
]


def value_for(ids: list[int]) -> st.SearchStrategy[str]:
    """Any value: a real id, a word some filter knows, a number of any size, any text."""
    return st.one_of(
        st.sampled_from([str(i) for i in ids]),
        st.sampled_from([v for values in WORDS.values() for v in values]),
        number(),
        text(30, 100),
        st.dates().map(str),
    )


DAY = st.dates(date(1990, 1, 1), date(2100, 12, 31)).map(str)
# The values each key is meant to take.
WORDS = {
    "status": ["open", "all", *Issue.Status.values],
    "urgency": Urgency.values,
    "source": Issue.Source.values,
    "assignee": ["me", "unassigned"],
    "overdue": ["true", "false", "on", ""],
    "on_time": ["true", "false", "on", ""],
    "visit": ["on_time", "satisfied", "unsatisfied"],
    "sort": ["urgency", "created", "activity", "due", "-overdue", "name", "open"],
    "period": ["7d", "30d", "90d", "year", "custom"],
    "format": ["csv", "xlsx", ""],
}
DATE_KEYS = {
    "created_after",
    "created_before",
    "resolved_after",
    "resolved_before",
    "mediated_after",
    "mediated_before",
    "visited_after",
    "visited_before",
    "from",
    "to",
}


def meant_for(key: str, ids: list[int]) -> st.SearchStrategy[str]:
    if key in WORDS:
        return st.sampled_from(WORDS[key])
    if key in DATE_KEYS:
        return DAY
    if key == "q":
        return st.text(TYPED, max_size=100)
    if key == "page":
        return st.integers(1, 5).map(str)
    return st.sampled_from([str(i) for i in ids])


@st.composite
def queries(draw: st.DrawFn, keys: list[str], ids: list[int]) -> list[tuple[str, str]]:
    """Up to eight parameters, repeats allowed: half the time each meant for its key, else
    any key (known or not) with any value."""
    meant = draw(st.booleans())
    pairs = []
    for _ in range(draw(st.integers(0, 8))):
        if meant:
            key = draw(st.sampled_from(keys))
            pairs.append((key, draw(meant_for(key, ids))))
        else:
            key = draw(st.one_of(st.sampled_from(keys), st.text(CHAR, max_size=12)))
            pairs.append((key, draw(st.one_of(meant_for(key, ids), value_for(ids)))))
    return pairs


@pytest.fixture
def area_ids(community, grid, other_grid, courtyard, other_courtyard, other_community, assignee):
    from issues.tests.factories import IssueFactory

    IssueFactory(courtyard=courtyard, assignee=assignee)
    IssueFactory(courtyard=other_courtyard, status=Issue.Status.RESOLVED)
    IssueFactory(community=other_community)
    return sorted(
        {
            community.pk,
            community.subdistrict_id,
            community.subdistrict.district_id,
            grid.pk,
            other_grid.pk,
            courtyard.pk,
            other_courtyard.pk,
            other_community.pk,
            assignee.pk,
            *Category.objects.values_list("pk", flat=True)[:3],
        }
    )


def fetch(client, url: str, pairs: list[tuple[str, str]], **headers: str):
    r = client.get(f"{url}?{urlencode(pairs)}", **headers)
    if r.streaming and r.status_code == 200:
        b"".join(r.streaming_content)
    return r


@pytest.mark.parametrize("who", ["staff", "official", "grid_worker"])
def test_list_filter_fuzz(client, request, who, area_ids):
    client.force_login(request.getfixturevalue(who))

    @fuzz(100)
    @given(pairs=queries(LIST_KEYS, area_ids), htmx=st.booleans())
    def check(pairs: list[tuple[str, str]], htmx: bool) -> None:
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

        r = fetch(client, reverse("issues:list"), pairs, **headers)

        assert r.status_code in (200, 400), r.status_code
        html = r.content.decode()
        if r.status_code == 400:
            assert "alert-error" in html
        else:
            assert 'id="results"' in html
        assert "<script>alert(1)</script>" not in html

    check()


def test_export_filter_fuzz(client, staff, area_ids):
    client.force_login(staff)

    @fuzz(60)
    @given(
        pairs=queries(LIST_KEYS, area_ids),
        url=st.sampled_from([reverse("issues:export_csv"), reverse("issues:export_xlsx")]),
    )
    def check(pairs: list[tuple[str, str]], url: str) -> None:
        r = fetch(client, url, pairs)

        assert r.status_code in (200, 400), r.status_code

    check()


@pytest.mark.parametrize("who", ["staff", "official", "district_official"])
def test_dashboard_fuzz(client, request, who, area_ids):
    client.force_login(request.getfixturevalue(who))

    @fuzz(40)
    @given(pairs=queries(DASHBOARD_KEYS, area_ids))
    def check(pairs: list[tuple[str, str]]) -> None:
        r = fetch(client, reverse("issues:dashboard"), pairs)

        # 404: an area outside the user's scope, or no area at all, is not found.
        assert r.status_code in (200, 400, 404), r.status_code

    check()


# --- Export cells --------------------------------------------------------------------------------


def as_read(text: str) -> str:
    """XML turns a carriage return into a line feed."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@fuzz(200)
@given(values=st.lists(st.one_of(st.text(CHAR, max_size=40), HOSTILE), min_size=1, max_size=8))
def test_export_cell_fuzz(values: list[str]) -> None:
    """Any text a form takes becomes a cell that a workbook holds and no spreadsheet runs."""
    cells = [exports.neutralise(v) for v in values]
    for value, cell in zip(values, cells, strict=True):
        # Only what a workbook cannot hold is dropped, and a formula gets its apostrophe.
        kept = exports.CONTROL_CHARACTERS.sub("", value)
        assert cell in (kept, "'" + kept)
        assert not cell.startswith(exports.FORMULA_START)
    wb = Workbook(write_only=True)
    wb.create_sheet("x").append(cells)
    out = io.BytesIO()
    wb.save(out)

    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    read = [c for row in sheet.iter_rows() for c in row]
    assert [as_read(c.value or "") for c in read] == [as_read(c) for c in cells]
    assert all(c.data_type != "f" for c in read)
