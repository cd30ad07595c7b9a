"""The admin: every model in it, in Chinese, in a newcomer's order, people by name."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model

from grids.models import GridWorker

User = get_user_model()

pytestmark = pytest.mark.django_db


def test_it_registers_every_model_and_opens_each_changelist(client, admin_user):
    client.force_login(admin_user)
    for model in [
        *apps.get_app_config("grids").get_models(),
        *apps.get_app_config("issues").get_models(),
    ]:
        assert model in admin.site._registry, model
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url


# --- The index: Chinese, areas in their hierarchy's order, no internal tallies ----------------

TALLIES = [
    "issuetally",
    "communityissuetally",
    "resolvetimetally",
    "subdistrictresolvetimetally",
    "visittally",
    "visitissuetally",
    "subdistrictvisitissuetally",
]


def index_models(response, app_label: str) -> list[str]:
    app = next(a for a in response.context["app_list"] if a["app_label"] == app_label)
    return [m["model"]._meta.model_name for m in app["models"]]


def test_it_lists_the_areas_in_their_hierarchys_order(client, admin_user):
    client.force_login(admin_user)

    r = client.get("/admin/")

    assert [a["app_label"] for a in r.context["app_list"]][:2] == ["grids", "issues"]
    assert index_models(r, "grids") == [
        "district",
        "subdistrict",
        "community",
        "grid",
        "courtyard",
        "gridworker",
        "staffassignment",
        "officialassignment",
        "patrol",
    ]
    text = r.text
    names = ["区/县", "街道/乡镇", "社区/村", "网格", "大院"]
    positions = [text.index(f">{name}</a>") for name in names]
    assert positions == sorted(positions), positions


def test_it_keeps_the_tallies_off_the_index_but_open_by_url(client, admin_user):
    client.force_login(admin_user)

    r = client.get("/admin/")

    listed = {m for app in r.context["app_list"] for m in index_models(r, app["app_label"])}
    assert listed.isdisjoint(TALLIES)
    assert index_models(r, "issues")[0] == "issue"
    assert "tally" not in client.get("/admin/issues/").text.lower()
    for name in TALLIES:
        page = client.get(f"/admin/issues/{name}/")
        assert page.status_code == 200, name
        assert client.get(f"/admin/issues/{name}/add/").status_code == 403, name


def test_it_speaks_chinese_in_the_admins_own_and_packages_strings(client, admin_user):
    client.force_login(admin_user)

    index = client.get("/admin/").text
    user_add = client.get("/admin/auth/user/add/").text
    attempts = client.get("/admin/axes/accessattempt/").text

    assert "<title>站点管理 | 基层治理平台</title>" in index
    assert "基层治理平台管理后台" in index
    assert "Django" not in index
    assert "Grassroots" not in index
    for chinese in ["登录安全", "登录尝试", "登录失败记录", "登录日志"]:
        assert chinese in index, chinese
    for english in ["Axes", "Access attempts", "Access failures", "Access logs", "Model name"]:
        assert english not in index, english
    assert "创建用户后，可以编辑更多用户选项。" in user_add
    assert "After you" not in user_add
    assert "尝试时间" in attempts
    assert "Attempt Time" not in attempts


# --- One form to add a grid worker ------------------------------------------------------------


def add_form_data(grid, **changes) -> dict[str, object]:
    return {
        "full_name": "次仁卓玛",
        "phone": "１３９８９００５６７８",  # typed on a Chinese keyboard: full-width digits
        "username": "cirenzhuoma",
        "email": "",
        "password1": "Lhasa-grid-2026",
        "password2": "Lhasa-grid-2026",
        "grids": [grid.pk],
        **changes,
    }


def test_it_adds_a_grid_worker_with_account_and_grids_in_one_form(
    client, admin_user, grid, other_grid
):
    client.force_login(admin_user)

    page = client.get("/admin/grids/gridworker/add/")
    assert page.status_code == 200
    for field in ["full_name", "phone", "username", "password1", "password2", "grids"]:
        assert f'name="{field}"' in page.text, field
    assert 'name="user"' not in page.text

    r = client.post(
        "/admin/grids/gridworker/add/", add_form_data(grid, grids=[grid.pk, other_grid.pk])
    )

    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    worker = GridWorker.objects.select_related("user").get(user__username="cirenzhuoma")
    assert worker.user.get_full_name() == "次仁卓玛"
    assert worker.user.check_password("Lhasa-grid-2026")
    assert worker.user.is_active
    assert not worker.user.is_staff
    assert worker.phone == "13989005678"
    assert worker.is_active
    assert set(worker.grids.all()) == {grid, other_grid}
    assert r["Location"] == "/admin/grids/gridworker/"
    # The new worker logs in and lands on their own issues.
    client.logout()
    login = {"username": "cirenzhuoma", "password": "Lhasa-grid-2026"}
    assert client.post("/accounts/login/", login, follow=True).redirect_chain[-1][0] == (
        "/issues/mine/"
    )


def test_it_redisplays_the_grid_worker_form_with_what_was_typed(
    client, admin_user, grid, grid_worker
):
    client.force_login(admin_user)
    users = User.objects.count()

    r = client.post(
        "/admin/grids/gridworker/add/",
        add_form_data(grid, username="GridWorker", phone="12345", password2="something-else"),
    )

    assert r.status_code == 200
    errors = r.context["adminform"].form.errors
    assert set(errors) == {"username", "phone", "password2"}
    assert "GridWorker" in errors["username"][0]
    assert User.objects.count() == users
    assert (
        not GridWorker.objects.filter(user__username__iexact="gridworker")
        .exclude(user=grid_worker)
        .exists()
    )
    text = r.text
    assert 'value="次仁卓玛"' in text
    assert 'value="12345"' in text
    assert 'value="GridWorker"' in text
    assert f'<option value="{grid.pk}" selected>' in text


# --- People by name in every picker -------------------------------------------------------------


def test_it_names_people_in_user_pickers_and_autocomplete(client, admin_user, assignee, rf):
    from grids.models import StaffAssignment
    from issues.models import Issue
    from issues.tests.factories import IssueFactory

    client.force_login(admin_user)
    request = rf.get("/")
    request.user = admin_user
    for model, field in [(StaffAssignment, "user"), (Issue, "assignee")]:
        form = admin.site._registry[model].get_form(request)()
        assert form.fields[field].label_from_instance(assignee) == "央金 (assignee)", model
    issue = IssueFactory(community=assignee.staff_assignments.get().community, assignee=assignee)

    change = client.get(f"/admin/issues/issue/{issue.pk}/change/")
    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "issues", "model_name": "issue", "field_name": "assignee", "term": "央金"},
    )

    assert f'<option value="{assignee.pk}" selected>央金 (assignee)</option>' in change.text
    assert {"id": str(assignee.pk), "text": "央金 (assignee)"} in found.json()["results"]


def test_it_ends_the_admins_chinese_labels_with_a_full_width_colon(client, admin_user):
    client.force_login(admin_user)

    page = client.get("/admin/grids/gridworker/add/").text

    assert 'for="id_full_name">姓名：</label>' in page
    assert "姓名:" not in page


def test_it_names_people_in_the_role_lists(client, admin_user, assignee, official):
    client.force_login(admin_user)

    staff_list = client.get("/admin/grids/staffassignment/", {"q": "央金"}).text
    officials = client.get("/admin/grids/officialassignment/").text

    assert "央金 (assignee)" in staff_list
    assert f"{official.get_full_name()} ({official.username})" in officials
