"""The list's settings are the list's behaviour: its page size and its shortest search."""

import pytest
from django.urls import reverse

from grassroots.paginator import CappedPaginator
from issues.models import Issue
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

URL = reverse("issues:list")


def refs(response) -> list[str]:
    return [i.reference for i in response.context["page"].object_list]


def test_it_pages_the_list_by_the_page_size_setting(client, staff, courtyard, settings):
    settings.ISSUES_PER_PAGE = 3
    made = {IssueFactory(courtyard=courtyard).reference for _ in range(5)}
    client.force_login(staff)

    first = client.get(URL, {"sort": "created"})
    second = client.get(URL, {"sort": "created", "page": "2"})

    assert len(refs(first)) == 3
    assert len(refs(second)) == 2
    assert set(refs(first)) | set(refs(second)) == made
    assert first.context["page"].paginator.num_pages == 2


def test_it_refuses_a_search_shorter_than_the_setting(client, staff, courtyard, settings):
    IssueFactory(courtyard=courtyard, title="井盖缺失漏水")
    client.force_login(staff)

    assert len(refs(client.get(URL, {"q": "漏"}))) == 1
    settings.SEARCH_MIN_LENGTH = 2

    r = client.get(URL, {"q": "漏"})

    assert r.status_code == 400
    # The reason is shown: at least two characters.
    (error,) = r.context["filter"].form.errors["q"]
    assert " 2 " in error
    assert error in r.content.decode()
    assert len(refs(client.get(URL, {"q": "漏水"}))) == 1


def test_the_admins_paginator_counts_no_further_than_its_cap(courtyard, monkeypatch):
    for _ in range(4):
        IssueFactory(courtyard=courtyard)
    monkeypatch.setattr(CappedPaginator, "cap", 3)

    assert CappedPaginator(Issue.objects.order_by("pk"), 2).count == 3
    assert CappedPaginator(Issue.objects.filter(pk=0), 2).count == 0
