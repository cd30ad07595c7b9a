"""Exports of the filtered list: the same rows as the screen, the same privacy, safe cells."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from grids.tests.factories import CourtyardFactory
from issues.models import Issue, Urgency
from issues.tests.factories import IssueFactory, category

pytestmark = pytest.mark.django_db

CSV = reverse("issues:export_csv")
XLSX = reverse("issues:export_xlsx")
S = Issue.Status


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response) -> list[list[object]]:
    body = b"".join(response.streaming_content)
    wb = openpyxl.load_workbook(io.BytesIO(body))
    return [list(row) for row in wb.active.iter_rows(values_only=True)]


def by_ref(rows: list[list]) -> dict[str, list]:
    """The data rows (after the header) by their first column, the reference."""
    return {row[0]: row for row in rows[1:]}


@pytest.fixture
def issues(courtyard, other_courtyard, other_community, grid_worker):
    return {
        "open_road": IssueFactory(
            courtyard=courtyard, created_by=grid_worker, category=category("road")
        ),
        "open_parking": IssueFactory(
            courtyard=other_courtyard, created_by=grid_worker, category=category("parking")
        ),
        "resolved": IssueFactory(courtyard=courtyard, created_by=grid_worker, status=S.RESOLVED),
        "foreign": IssueFactory(community=other_community),
    }


@pytest.mark.parametrize(("url", "read"), [(CSV, csv_rows), (XLSX, xlsx_rows)])
def test_it_exports_the_lists_rows_only(client, staff, issues, url, read):
    client.force_login(staff)

    rows = read(client.get(url))

    assert set(by_ref(rows)) == {issues["open_road"].reference, issues["open_parking"].reference}
    assert len(rows[0]) == 24  # the header


@pytest.mark.parametrize(("url", "read"), [(CSV, csv_rows), (XLSX, xlsx_rows)])
def test_it_exports_the_filtered_rows(client, staff, issues, url, read):
    client.force_login(staff)

    assert set(by_ref(read(client.get(url, {"category": category("road").pk})))) == {
        issues["open_road"].reference
    }
    assert set(by_ref(read(client.get(url, {"status": ["resolved", "collected"]})))) == {
        issues["open_road"].reference,
        issues["open_parking"].reference,
        issues["resolved"].reference,
    }
    assert set(by_ref(read(client.get(url, {"q": issues["resolved"].reference})))) == set()
    assert set(by_ref(read(client.get(url, {"status": "all", "q": issues["resolved"].title})))) == {
        issues["resolved"].reference
    }


@pytest.mark.parametrize(("url", "read"), [(CSV, csv_rows), (XLSX, xlsx_rows)])
def test_it_exports_a_grid_worker_only_their_grids_issues(client, grid_worker, issues, url, read):
    client.force_login(grid_worker)

    rows = read(client.get(url, {"status": "all"}))

    assert set(by_ref(rows)) == {issues["open_road"].reference, issues["resolved"].reference}


@pytest.mark.parametrize(("url", "read"), [(CSV, csv_rows), (XLSX, xlsx_rows)])
def test_it_exports_an_outsider_none_of_our_issues(client, outsider, issues, url, read):
    client.force_login(outsider)

    rows = read(client.get(url, {"status": "all"}))

    assert set(by_ref(rows)) == {issues["foreign"].reference}


@pytest.mark.parametrize(("url", "read"), [(CSV, csv_rows), (XLSX, xlsx_rows)])
def test_it_masks_the_resident_for_an_official(client, official, staff, issues, url, read):
    ref = issues["open_road"].reference

    client.force_login(official)
    row = by_ref(read(client.get(url)))[ref]
    assert "卓**" in row
    assert "138****1234" in row
    assert "卓玛" not in row
    assert "13812341234" not in row

    client.force_login(staff)
    row = by_ref(read(client.get(url)))[ref]
    assert "卓玛" in row
    assert "13812341234" in row


@pytest.mark.parametrize(("url", "read"), [(CSV, csv_rows), (XLSX, xlsx_rows)])
def test_it_neutralises_cells_a_spreadsheet_would_run(client, staff, courtyard, url, read):
    issue = IssueFactory(
        courtyard=courtyard,
        title='=HYPERLINK("http://x")',
        resident_name="@SUM(A1)",
        description="+1 call me",
    )
    client.force_login(staff)

    row = by_ref(read(client.get(url)))[issue.reference]

    assert '\'=HYPERLINK("http://x")' in row
    assert "'@SUM(A1)" in row
    assert "'+1 call me" in row
    assert '=HYPERLINK("http://x")' not in row


def test_it_stores_the_neutralised_title_as_text_in_excel(client, staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, title='=HYPERLINK("http://x")')
    client.force_login(staff)

    body = b"".join(client.get(XLSX).streaming_content)

    ws = openpyxl.load_workbook(io.BytesIO(body)).active
    cells = {row[0].value: row for row in ws.iter_rows(min_row=2)}
    title = cells[issue.reference][1]
    assert title.data_type == "s"
    assert title.value == '\'=HYPERLINK("http://x")'


def test_it_streams_the_csv_with_a_bom_and_a_file_name(client, staff, issues):
    client.force_login(staff)

    r = client.get(CSV)

    assert r.status_code == 200
    assert r.streaming
    assert r["Content-Type"] == "text/csv; charset=utf-8"
    assert r["Content-Disposition"].startswith('attachment; filename="issues-')
    assert r["Content-Disposition"].endswith('.csv"')
    assert b"".join(r.streaming_content).startswith("\ufeff".encode())


def test_it_sends_the_workbook_as_an_attachment(client, staff, issues):
    client.force_login(staff)

    r = client.get(XLSX)

    assert r.status_code == 200
    assert r["Content-Disposition"].startswith('attachment; filename="issues-')
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("url", [CSV, XLSX])
@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"grid": "abc"},
        {"created_after": "notadate"},
        {"created_after": "0001-01-01"},
        {"q": "x" * 10_000},
    ],
)
def test_it_answers_400_to_bad_filters(client, staff, issues, url, params):
    client.force_login(staff)

    assert client.get(url, params).status_code == 400


def test_it_marks_overdue_rows(client, staff, courtyard):
    from datetime import timedelta

    from django.utils import timezone

    late = IssueFactory(
        courtyard=courtyard, status=S.LISTED, due_at=timezone.now() - timedelta(days=1)
    )
    fine = IssueFactory(
        courtyard=courtyard, status=S.LISTED, due_at=timezone.now() + timedelta(days=1)
    )
    client.force_login(staff)

    rows = by_ref(csv_rows(client.get(CSV)))

    overdue_column = 21
    assert rows[late.reference][overdue_column] != ""
    assert rows[fine.reference][overdue_column] == ""


@pytest.mark.parametrize(("url", "read"), [(CSV, csv_rows), (XLSX, xlsx_rows)])
@pytest.mark.parametrize("who", ["staff", "official", "grid_worker"])
def test_it_exports_in_the_same_queries_at_any_size(
    client, request, courtyard, staff, grid_worker, django_assert_num_queries, url, read, who
):
    user = request.getfixturevalue(who)
    second = CourtyardFactory(grid=courtyard.grid)
    client.force_login(user)
    for n in (5, 60):
        Issue.objects.all().delete()
        for i in range(n):
            IssueFactory(
                courtyard=(courtyard, second)[i % 2],
                created_by=grid_worker,
                assignee=(staff, grid_worker, None)[i % 3],
                urgency=(Urgency.URGENT, Urgency.NORMAL)[i % 2],
            )
        # 1. session, 2. user, 3. scope, 4. every row, with its names joined, read in chunks
        with django_assert_num_queries(4):
            rows = read(client.get(url))
        assert len(rows) == n + 1
