"""Password-reset requests: throttled per address and per client, mailed by a Celery task
enqueued on commit, and answered the same whether the address has an account or not."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from grassroots import tasks
from grids.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("password_reset")


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def resident_user(db):
    return UserFactory(username="zhuoma", email="zhuoma@example.org")


def post(client, email: str, ip: str = "10.0.0.1"):
    return client.post(URL, {"email": email}, REMOTE_ADDR=ip)


def answer(r) -> tuple:
    return (r.status_code, r.get("Location"), r.content)


def test_it_sends_at_most_three_mails_for_twenty_requests_of_one_address(
    client, resident_user, django_capture_on_commit_callbacks, settings
):
    settings.PASSWORD_RESET_PER_CLIENT = 100
    answers = set()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for _ in range(20):
            answers.add(answer(post(client, "zhuoma@example.org")))

    # Each enqueued task, run here as the worker would.
    assert len(callbacks) == settings.PASSWORD_RESET_PER_ADDRESS == 3
    assert len(answers) == 1


def test_the_enqueued_task_sends_the_mail_after_the_request(
    client, resident_user, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(tasks.send_password_reset, "delay", lambda email: sent.append(email))

    with django_capture_on_commit_callbacks() as callbacks:
        r = post(client, "zhuoma@example.org")
        # Nothing is mailed inside the request.
        assert mail.outbox == []

    assert r.status_code == 302
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == ["zhuoma@example.org"]
    assert mail.outbox == []


def test_the_task_mails_a_reset_link_to_the_account(resident_user, settings):
    settings.SITE_URL = "https://grassroots.example.org"

    tasks.send_password_reset("ZhuoMa@example.org")

    (message,) = mail.outbox
    assert message.to == ["zhuoma@example.org"]
    assert "https://grassroots.example.org/accounts/reset/" in message.body


def test_the_task_mails_nothing_for_an_address_without_an_account(resident_user):
    tasks.send_password_reset("nobody@example.org")

    assert mail.outbox == []


def test_it_answers_the_same_for_a_known_an_unknown_and_a_throttled_address(
    client, resident_user, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_PER_ADDRESS = 1
    with django_capture_on_commit_callbacks() as callbacks:
        known = post(client, "zhuoma@example.org")
        unknown = post(client, "nobody@example.org")
        throttled = post(client, "zhuoma@example.org")

    assert answer(known) == answer(unknown) == answer(throttled)
    assert known["Location"] == reverse("password_reset_done")
    # The unknown address is enqueued too: only the worker looks the address up.
    assert len(callbacks) == 2


def test_it_throttles_one_client_asking_for_many_addresses(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_PER_CLIENT = 5
    with django_capture_on_commit_callbacks() as callbacks:
        for i in range(20):
            post(client, f"person{i}@example.org", ip="10.0.0.9")
        # Another client is still served.
        post(client, "other@example.org", ip="10.0.0.10")

    assert len(callbacks) == 6


def test_it_counts_the_client_behind_a_trusted_proxy(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_PER_CLIENT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    with django_capture_on_commit_callbacks() as callbacks:
        for i in range(4):
            client.post(
                URL,
                {"email": f"p{i}@example.org"},
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{i % 2}",
            )

    # Two clients behind the proxy, two requests each: all within two per client.
    assert len(callbacks) == 4


def test_it_redisplays_an_address_that_is_not_one(client):
    r = post(client, "not-an-address")

    assert r.status_code == 200
    assert "email" in r.context["form"].errors
