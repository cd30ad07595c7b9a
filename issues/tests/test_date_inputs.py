"""Date inputs carry the one value format browsers read (YYYY-MM-DD), in every language.

Django renders a date in the language's first input format, `2026/12/02` in Chinese, which
an `<input type="date">` rejects: the field showed empty and every date was typed by hand.
"""

import re
from datetime import date, datetime

import pytest
from django.utils import timezone, translation

from grassroots.widgets import IsoDateTimeInput
from issues.filters import IssueFilter
from issues.forms import MediationForm, TransitionForm
from issues.tests.factories import IssueFactory, MediationFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 2)
LANGUAGES = ["zh-hans", "en"]


def values(html: str) -> list[str]:
    return re.findall(r'<input type="date"[^>]*value="([^"]*)"', str(html))


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_fills_the_mediation_date_with_an_iso_day(language):
    with translation.override(language):
        html = str(MediationForm(initial={"mediated_on": DAY})["mediated_on"])

    assert values(html) == ["2026-12-02"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_fills_the_mediation_date_with_today_by_default(language):
    with translation.override(language):
        html = str(MediationForm()["mediated_on"])

    assert values(html) == [timezone.localdate().isoformat()]


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_fills_the_due_date_of_listing_with_an_iso_day(language, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    with translation.override(language):
        form = TransitionForm(action="list", issue=issue, initial={"due_date": DAY})
        html = str(form["due_date"])

    assert values(html) == ["2026-12-02"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["created", "resolved", "mediated", "visited"])
def test_it_fills_the_list_filters_date_ranges_with_iso_days(language, name, staff):
    f = IssueFilter(None, user=staff)
    with translation.override(language):
        html = f.form.fields[name].widget.render(name, [DAY, date(2026, 12, 31)])

    assert values(html) == ["2026-12-02", "2026-12-31"]
    assert f'name="{name}_after"' in html
    assert f'name="{name}_before"' in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_fills_a_datetime_local_input_with_an_iso_minute(language):
    with translation.override(language):
        html = IsoDateTimeInput().render(
            "at", datetime(2026, 12, 2, 9, 5, tzinfo=timezone.get_current_timezone())
        )

    assert 'type="datetime-local"' in html
    assert 'value="2026-12-02T09:05"' in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_reads_back_the_iso_day_it_wrote(language):
    with translation.override(language):
        form = MediationForm(
            {
                "mediation-mediated_on": "2026-12-02",
                "mediation-parties": "甲、乙",
                "mediation-method": "in_person",
                "mediation-outcome": "agreement",
            }
        )
        assert form.is_valid(), form.errors

    assert form.cleaned_data["mediated_on"] == DAY


@pytest.mark.parametrize("language", LANGUAGES)
def test_it_leaves_the_admins_date_fields_working(client, admin_user, courtyard, staff, language):
    mediation = MediationFactory(issue=IssueFactory(courtyard=courtyard), mediated_on=DAY)
    client.force_login(admin_user)
    url = f"/admin/issues/mediation/{mediation.pk}/change/"

    page = client.get(url, headers={"accept-language": language})

    assert page.status_code == 200
    # The admin's own widget: a text input in the language's format, which it reads back.
    shown = {"zh-hans": "2026/12/02", "en": "2026-12-02"}[language]
    assert f'name="mediated_on" value="{shown}"' in page.content.decode()
