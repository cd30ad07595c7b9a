"""Settings from the environment: production must be complete and clean; /healthz answers."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from grassroots.celery import app


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run manage.py as production would: no test flag, DEBUG and secrets only as given."""
    base = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is set for the test process only (grassroots/testing.py).
        if k
        not in {
            "GRASSROOTS_TESTING",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
        }
    }
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def production(**env: str) -> dict[str, str]:
    return {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "example.org", **env}


def test_it_passes_the_deploy_check_in_production():
    r = manage("check", "--deploy", "--fail-level", "WARNING", **production())

    assert r.returncode == 0, r.stderr
    assert "System check identified no issues" in r.stdout
    assert "WARNING" not in r.stderr + r.stdout


def test_it_fails_the_deploy_check_with_a_weak_secret_key():
    r = manage("check", "--deploy", "--fail-level", "WARNING", **production(SECRET_KEY="short"))

    assert r.returncode != 0
    assert "security.W009" in r.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_the_deploy_check_names_a_missing_production_variable(missing):
    env = production()
    del env[missing]

    r = manage("check", "--deploy", **env)

    assert r.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in r.stderr


@pytest.mark.parametrize("entry", ["grassroots.wsgi", "grassroots.asgi"])
def test_the_web_process_refuses_to_start_without_them(entry):
    env = {k: v for k, v in os.environ.items() if k not in {"GRASSROOTS_TESTING", "DEBUG"}}
    env.pop("SECRET_KEY", None)
    env.pop("ALLOWED_HOSTS", None)

    r = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-c", f"import {entry}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr
    assert "SECRET_KEY and ALLOWED_HOSTS must be set when DEBUG is off" in r.stderr


def test_the_celery_processes_refuse_to_start_without_them(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from grassroots.celery import refuse_without_production_settings

    monkeypatch.setattr(settings, "MISSING_FOR_PRODUCTION", ["SECRET_KEY"])
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        refuse_without_production_settings()


def test_migrations_are_checked_with_no_environment_at_all():
    r = manage("makemigrations", "--check", "--dry-run")

    assert r.returncode == 0, r.stderr
    assert "No changes detected" in r.stdout


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_it_refuses_a_malformed_debug(value):
    r = manage("check", **production(DEBUG=value))

    assert r.returncode != 0
    assert "ImproperlyConfigured" in r.stderr
    assert "DEBUG must be true or false" in r.stderr


def test_it_runs_in_development_without_secrets():
    r = manage("check", DEBUG="true")

    assert r.returncode == 0, r.stderr


SCALE_TOOLS = ["benchmark", "loadfault", "loadtest", "seed_scale"]


def commands(r: subprocess.CompletedProcess[str]) -> set[str]:
    """The command names `manage.py help` lists, one an indented line."""
    assert r.returncode == 0, r.stderr
    return {line.strip() for line in r.stdout.splitlines() if line.startswith("    ")}


def test_production_does_not_list_the_scale_and_fault_tools():
    listed = commands(manage("help", **production()))

    # loadfault drops databases and restarts PostgreSQL: not a production site's command.
    assert not listed & set(SCALE_TOOLS)
    assert {"tallies", "seed_demo", "migrate"} <= listed


@pytest.mark.parametrize(
    "env",
    [{"GRASSROOTS_TESTING": "true"}, {"DEBUG": "true"}, production(GRASSROOTS_SCALE_TOOLS="true")],
    ids=["tests", "development", "asked for"],
)
def test_the_scale_and_fault_tools_are_listed_where_they_are_used(env):
    assert set(SCALE_TOOLS) <= commands(manage("help", **env))


def test_it_refuses_a_malformed_scale_tools_switch():
    r = manage("help", **production(GRASSROOTS_SCALE_TOOLS="sometimes"))

    assert r.returncode != 0
    assert "GRASSROOTS_SCALE_TOOLS must be true or false" in r.stderr


# --- /healthz -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_answers_healthz_when_database_and_broker_answer(client):
    r = client.get("/healthz")

    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok", "broker": "ok"}
    assert "no-cache" in r["Cache-Control"]


@pytest.mark.django_db
def test_it_checks_the_configured_broker(client, monkeypatch):
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    # Nothing listens on port 1: a broker that does not answer turns the check red.
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")

    r = client.get("/healthz")

    assert r.status_code == 503
    assert r.json() == {"status": "error", "database": "ok", "broker": "error"}


# --- X-Forwarded-Proto ------------------------------------------------------------------------

ASK_OVER_HTTP = (
    "from django.test import Client; "
    "r = Client().get('/i18n/setlang/', HTTP_X_FORWARDED_PROTO='https'); "
    "print(r.status_code, r.get('Location', '-'))"
)


def test_it_redirects_plain_http_that_claims_https_when_no_proxy_is_named():
    r = manage(
        "shell", "--verbosity=0", "-c", ASK_OVER_HTTP, **production(ALLOWED_HOSTS="testserver")
    )

    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["301", "https://testserver/i18n/setlang/"]


def test_it_believes_the_named_proxy_that_the_request_came_over_https():
    r = manage(
        "shell",
        "--verbosity=0",
        "-c",
        ASK_OVER_HTTP,
        **production(ALLOWED_HOSTS="testserver", GRASSROOTS_TRUSTED_PROXIES="1"),
    )

    assert r.returncode == 0, r.stderr
    # Served: the language view's own redirect, not the HTTPS one.
    assert r.stdout.split() == ["302", "/"]
