"""Accounts: login throttling, password rules, logout on password change, deactivation."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grassroots.security import client_ip
from grassroots.tests.test_settings import manage, production

PASSWORD = "grassroots-test"


def attempt(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


# --- Login throttling -----------------------------------------------------------------------


def test_five_wrong_passwords_pause_the_account_from_that_address(client, staff):
    for _ in range(4):
        r = attempt(client, "staff", "wrong")
        assert r.status_code == 200
        assert "请输入" in r.content.decode() or "正确" in r.content.decode()

    r = attempt(client, "staff", "wrong")

    assert r.status_code == 429
    page = r.content.decode()
    assert "密码错误次数过多" in page
    assert "30" in page
    # Even the right password is refused while the pause lasts, and no session is made.
    r = attempt(client, "staff", PASSWORD)
    assert r.status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("limit", [5, 3])
def test_each_wrong_password_says_how_many_tries_are_left(client, staff, settings, limit):
    settings.AXES_FAILURE_LIMIT = limit
    for failures in range(1, limit):
        r = attempt(client, "staff", "wrong")

        assert r.status_code == 200
        # axes pauses at its limit: after n failures, limit - n more may be typed.
        assert r.context["tries_left"] == limit - failures
        assert f"还可再试{limit - failures}次" in r.content.decode()
        assert "暂停30分钟" in r.content.decode()
        assert AccessAttempt.objects.get(username="staff").failures_since_start == failures

    assert attempt(client, "staff", "wrong").status_code == 429


def test_the_tries_left_are_counted_per_account_and_address(client, staff, assignee):
    for _ in range(3):
        attempt(client, "staff", "wrong", ip="10.0.0.1")

    assert attempt(Client(), "staff", "wrong", ip="10.0.0.2").context["tries_left"] == 4
    assert attempt(Client(), "assignee", "wrong", ip="10.0.0.1").context["tries_left"] == 4
    assert attempt(client, "staff", "wrong", ip="10.0.0.1").context["tries_left"] == 1


def test_the_first_visit_to_the_login_page_says_nothing_of_tries(client, staff):
    r = client.get(reverse("login"))

    assert r.status_code == 200
    assert 'data-testid="tries-left"' not in r.content.decode()


def test_the_pause_does_not_touch_other_accounts_or_other_addresses(client, staff, assignee):
    for _ in range(5):
        attempt(client, "staff", "wrong", ip="10.0.0.1")

    assert attempt(Client(), "assignee", PASSWORD, ip="10.0.0.1").status_code == 302
    # A stranger typing a colleague's name elsewhere cannot lock the colleague out.
    assert attempt(Client(), "staff", PASSWORD, ip="10.0.0.2").status_code == 302


def test_the_pause_ends_after_the_cool_off(client, staff):
    for _ in range(5):
        attempt(client, "staff", "wrong")
    assert attempt(client, "staff", PASSWORD).status_code == 429

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        r = attempt(Client(), "staff", PASSWORD)

    assert r.status_code == 302


def test_a_good_login_clears_the_failures(client, staff):
    for _ in range(4):
        attempt(client, "staff", "wrong")

    assert attempt(Client(), "staff", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="staff").exists()
    # Counting starts again: four more wrong passwords do not pause it.
    for _ in range(4):
        assert attempt(client, "staff", "wrong").status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for i in range(5):
        client.post(
            reverse("login"),
            {"username": "staff", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"1.2.3.4, 10.0.0.{i}",
        )

    # Every request came through the same proxy, but from five different clients.
    assert AccessAttempt.objects.filter(username="staff").count() == 5
    r = Client().post(
        reverse("login"),
        {"username": "staff", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.0.0.9",
    )
    assert r.status_code == 302


# --- Passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("12345678", "太常见"),
        ("83920571", "全都是数字"),
        ("short", "密码太短"),
        ("staff@example.org", "相似"),
    ],
)
def test_a_weak_new_password_is_refused_with_the_reason(client, staff, new_password, message):
    client.force_login(staff)

    r = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert r.status_code == 200
    assert message in r.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_changing_the_password_logs_out_every_other_device(client, staff):
    other_device = Client()
    other_device.force_login(staff)
    client.force_login(staff)
    assert other_device.get(reverse("issues:list")).status_code == 200

    r = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "布达拉宫-2026-lhasa",
            "new_password2": "布达拉宫-2026-lhasa",
        },
    )

    assert r.status_code == 302
    assert client.get(reverse("issues:list")).status_code == 200
    r = other_device.get(reverse("issues:list"))
    assert r.status_code == 302
    assert r.url.startswith(reverse("login"))


def test_the_header_links_to_changing_the_password(client, grid_worker):
    client.force_login(grid_worker)

    page = client.get(reverse("issues:mine")).content.decode()

    assert reverse("password_change") in page


# --- Deactivation ---------------------------------------------------------------------------


def test_deactivating_in_the_admin_logs_the_user_out_at_once(client, admin_user, grid_worker):
    phone = Client()
    phone.force_login(grid_worker)
    assert phone.get(reverse("issues:mine")).status_code == 200
    client.force_login(admin_user)

    r = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate", "_selected_action": [grid_worker.pk, admin_user.pk]},
        follow=True,
    )

    assert r.status_code == 200
    grid_worker.refresh_from_db()
    admin_user.refresh_from_db()
    assert not grid_worker.is_active
    assert admin_user.is_active, "an administrator cannot lock themselves out"
    r = phone.get(reverse("issues:mine"))
    assert r.status_code == 302
    assert r.url.startswith(reverse("login"))
    assert not any(
        s.get_decoded().get(SESSION_KEY) == str(grid_worker.pk) for s in Session.objects.all()
    )
    # The change is in the admin's history, and logging in again is refused.
    assert LogEntry.objects.filter(object_id=str(grid_worker.pk), user=admin_user).exists()
    assert attempt(Client(), grid_worker.username, PASSWORD).status_code == 200


def test_reactivating_lets_the_user_log_in_again(client, admin_user, grid_worker):
    grid_worker.is_active = False
    grid_worker.save()
    client.force_login(admin_user)

    client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "reactivate", "_selected_action": [grid_worker.pk]},
    )

    assert attempt(Client(), grid_worker.username, PASSWORD).status_code == 302


# --- Production cookies ---------------------------------------------------------------------


# What a production process answers, through the middleware the site runs (no database, no
# templates): a view that writes a session and a CSRF token, as the login form does.
PRODUCTION_ANSWERS = """
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.middleware.security import SecurityMiddleware
from django.test import RequestFactory, override_settings

def view(request):
    request.session["seen"] = True
    get_token(request)
    return HttpResponse("ok")

with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
    chain = SecurityMiddleware(XFrameOptionsMiddleware(SessionMiddleware(CsrfViewMiddleware(view))))
    plain = chain(RequestFactory().get("/accounts/login/"))
    page = chain(RequestFactory().get("/accounts/login/", secure=True))
for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
    print("cookie", bool(page.cookies[name]["secure"]), bool(page.cookies[name]["httponly"]))
print("http", plain.status_code, plain.headers.get("Location"))
print("https", page.status_code, page.headers.get("Strict-Transport-Security", "no-hsts"),
      page.headers["X-Frame-Options"], page.headers["Referrer-Policy"])
"""


def test_a_production_process_sends_secure_cookies_and_hardening_headers():
    r = manage("shell", "-c", PRODUCTION_ANSWERS, **production(ALLOWED_HOSTS="testserver"))

    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()[-4:]
    # The session cookie is never sent over HTTP nor read by scripts; the CSRF cookie is
    # never sent over HTTP.
    assert lines[0] == "cookie True True"
    assert lines[1] == "cookie True False"
    # Plain HTTP is sent to HTTPS; HTTPS pages pin it for a year and refuse frames.
    assert lines[2] == "http 301 https://testserver/accounts/login/"
    assert lines[3].split() == [
        "https",
        "200",
        "max-age=31536000;",
        "includeSubDomains;",
        "preload",
        "DENY",
        "same-origin",
    ]


def test_the_tests_and_development_run_on_plain_http():
    # The same process under the tests' configuration: what loopback and the test client need.
    r = manage("shell", "-c", PRODUCTION_ANSWERS, GRASSROOTS_TESTING="true")

    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-4:] == [
        "cookie False True",
        "cookie False False",
        "http 200 None",
        "https 200 no-hsts DENY same-origin",
    ]


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("", "127.0.0.1"),
        ("1.2.3.4", "1.2.3.4"),
        ("6.6.6.6, 1.2.3.4", "1.2.3.4"),
        ("not-an-address", "127.0.0.1"),
        ("'; DROP TABLE", "127.0.0.1"),
    ],
)
def test_the_counted_address_is_an_address(rf, settings, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.post("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request) == expected


def test_a_forged_forwarded_header_cannot_break_the_login(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    r = client.post(
        reverse("login"),
        {"username": "staff", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="<script>",
    )

    assert r.status_code == 200
