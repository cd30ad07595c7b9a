"""Browsers ask every site for /favicon.ico: it answers, and every page links the icon."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_answers_favicon_ico_with_the_icon(client) -> None:
    r = client.get("/favicon.ico", follow=True)

    assert r.status_code == 200
    assert r.redirect_chain[-1][0].endswith("favicon.svg")
    assert r["Content-Type"].startswith("image/svg+xml")
    assert b"<svg" in b"".join(r.streaming_content)


def test_it_links_the_icon_from_every_page(client) -> None:
    r = client.get("/accounts/login/")

    assert r.status_code == 200
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in r.text
