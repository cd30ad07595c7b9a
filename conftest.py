"""The role matrix every test draws on, a real Celery worker, and real Chromium.

One community with two grids; a staff member of it, an assignee (also staff), a grid worker
of the first grid, a grid worker of the second, an official of the subdistrict, an official
of the district, a micro-wish provider serving the community, and an outsider who is staff of
another community of another district.
"""

import importlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from grids.models import Community, Courtyard, Grid
from grids.tests.factories import (
    CommunityFactory,
    CourtyardFactory,
    GridFactory,
    GridWorkerFactory,
    OfficialAssignmentFactory,
    StaffAssignmentFactory,
    UserFactory,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
def fast_password_hasher(settings) -> None:
    """Every user the factories make hashes a password; PBKDF2 costs half a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Data from data migrations ------------------------------------------------------------------
# A transactional test (a real worker, two threads, a live server) ends by flushing every table,
# which also empties the categories the data migration made: the tests after it (pytest may put
# browser tests anywhere, grouping them by browser) and, with --reuse-db, the next run would find
# none. They are put back at the start of a run and after each such test.


def restore_categories() -> None:
    from django.apps import apps

    from issues.models import Category

    migration = importlib.import_module("issues.migrations.0002_categories")
    codes = [row[0] for row in migration.CATEGORIES]
    if Category.objects.filter(code__in=codes).count() < len(codes):
        migration.create_categories(apps, None)
        importlib.import_module("issues.migrations.0018_residents").add_labels(apps, None)
    from wishes.models import ServiceKind

    kinds = importlib.import_module("wishes.migrations.0002_service_kinds")
    if ServiceKind.objects.count() < len(kinds.KINDS):
        kinds.create_kinds(apps, None)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker) -> None:
    with django_db_blocker.unblock():
        restore_categories()


def _is_transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)):
        return True
    fixtures = getattr(item, "fixturenames", ())
    return "transactional_db" in fixtures or "live_server" in fixtures


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    result = yield
    # After the flush (fixtures are torn down by now); after the last test there is no need,
    # and the test database may already be gone.
    if nextitem is not None and _is_transactional(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            restore_categories()
    return result


@pytest.fixture
def community(db: None) -> Community:
    return CommunityFactory(
        name="冲赛康社区", subdistrict__name="八廓街道", subdistrict__district__name="城关区"
    )


@pytest.fixture
def grid(community: Community) -> Grid:
    return GridFactory(community=community, name="第一网格")


@pytest.fixture
def other_grid(community: Community) -> Grid:
    return GridFactory(community=community, name="第二网格")


@pytest.fixture
def courtyard(grid: Grid) -> Courtyard:
    return CourtyardFactory(grid=grid, name="格东大院")


@pytest.fixture
def other_courtyard(other_grid: Grid) -> Courtyard:
    return CourtyardFactory(grid=other_grid, name="西嘎奴大院")


@pytest.fixture
def staff(community: Community):
    return StaffAssignmentFactory(
        community=community, user__username="staff", user__first_name="拉姆"
    ).user


@pytest.fixture
def assignee(community: Community):
    return StaffAssignmentFactory(
        community=community, user__username="assignee", user__first_name="央金"
    ).user


@pytest.fixture
def grid_worker(grid: Grid):
    return GridWorkerFactory(
        user__username="gridworker", user__first_name="扎西", grids=[grid]
    ).user


@pytest.fixture
def other_grid_worker(other_grid: Grid):
    return GridWorkerFactory(
        user__username="othergridworker", user__first_name="次旦", grids=[other_grid]
    ).user


@pytest.fixture
def official(community: Community):
    return OfficialAssignmentFactory(
        subdistrict=community.subdistrict, user__username="official", user__first_name="王"
    ).user


@pytest.fixture
def district_official(community: Community):
    return OfficialAssignmentFactory(
        district=community.subdistrict.district, user__username="districtofficial"
    ).user


@pytest.fixture
def other_community(db: None) -> Community:
    return CommunityFactory(
        name="色麦村", subdistrict__name="曲水镇", subdistrict__district__name="曲水县"
    )


@pytest.fixture
def outsider(other_community: Community):
    return StaffAssignmentFactory(community=other_community, user__username="outsider").user


@pytest.fixture
def provider(community: Community):
    """The login of a registered party member (报到党员) who serves `community`'s wishes."""
    from wishes.tests.factories import ProviderFactory

    user = UserFactory(username="provider", first_name="达瓦")
    ProviderFactory(user=user, name="达瓦", communities=[community])
    return user


@pytest.fixture
def admin_user(db: None):
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


# --- A real Celery worker --------------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, django_db_blocker) -> Iterator[object]:
    """A worker thread on the configured broker (Redis in CI, the filesystem one otherwise).

    Session-scoped: a function-scoped worker closes the test's database connection.
    """
    from celery.contrib.testing.worker import start_worker

    from grassroots.celery import app

    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
    else:
        for key in ("data_folder_in", "processed_folder", "control_folder"):
            folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder, exist_ok=True)
    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker,
    ):
        yield worker


# --- Real Chromium -----------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Real-worker tests run last; browser tests skip where there is no Chromium (never in CI).

    The worker is session-scoped: once started it runs every task any later test sends, and a
    task still writing while a transactional test's teardown truncates the tables deadlocks.
    """
    items.sort(key=lambda item: "celery_worker" in item.keywords)
    if CHROMIUM or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, object]:
    return {
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, object]:
    """Desktop by default; phone screens use the `phone` fixture."""
    return {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}


@pytest.fixture
def phone(browser) -> Iterator[object]:
    """A page in a 390×844 touch screen, as a grid worker's phone."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        device_scale_factor=2,
    )
    page = context.new_page()
    yield page
    context.close()


# The browser tests write their screenshots into a scratch folder, so that a test run never
# changes a tracked file; `python3 dev.py test --update-screenshots` points this at docs/.
SCREENSHOTS = Path(
    os.environ.get("GRASSROOTS_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "grassroots-screenshots"
)


def shot(page, name: str) -> None:
    """A full-page screenshot of what the user sees, saved under SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def login(page, live_server, username: str, password: str = "grassroots-test") -> None:
    """Log in through the real login form."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
