import pytest

pytestmark = pytest.mark.django_db


def test_it_forbids_inline_and_remote_scripts(client, staff):
    client.force_login(staff)

    r = client.get("/issues/")

    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"


def test_the_pages_carry_no_inline_script(client, staff):
    client.force_login(staff)

    html = client.get("/issues/").content.decode()

    # json_script data blocks are inert; every executable script has a src.
    for tag in html.split("<script")[1:]:
        head = tag.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head, head


@pytest.mark.parametrize(
    "url",
    ["/admin/", "/admin/issues/issue/", "/admin/issues/issue/add/", "/admin/login/"],
)
def test_it_gives_the_admin_a_policy_of_its_own(client, admin_user, url):
    client.force_login(admin_user)

    r = client.get(url)

    csp = r.headers["Content-Security-Policy"]
    script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
    assert script_src.strip() == "'self'"
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp


# --- Nothing personal outlives the session in the browser's cache ---------------------------


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


@pytest.mark.parametrize(
    "url", ["/issues/", "/issues/mine/", "/issues/new/", "/issues/export.csv", "/dashboard/"]
)
def test_it_keeps_a_logged_in_users_pages_out_of_every_cache(client, staff, url):
    client.force_login(staff)

    r = client.get(url)

    assert r.status_code == 200
    assert no_store(r), r.get("Cache-Control")


def test_it_keeps_a_photo_out_of_every_cache(client, staff, courtyard, settings, tmp_path):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from issues.models import Attachment
    from issues.tests.factories import IssueFactory

    settings.MEDIA_ROOT = tmp_path
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "JPEG")
    issue = IssueFactory(courtyard=courtyard)
    photo = Attachment.objects.create(
        issue=issue, image=ContentFile(out.getvalue(), name="p.jpg"), uploaded_by=staff
    )
    client.force_login(staff)

    r = client.get(f"/issues/{issue.reference}/photos/{photo.pk}/full.jpg")

    assert r.status_code == 200
    assert no_store(r), r["Cache-Control"]
    assert "max-age" not in r["Cache-Control"]


def test_it_lets_static_files_be_cached(client, staff):
    client.force_login(staff)

    r = client.get("/static/css/app.css")

    assert r.status_code == 200
    assert "no-store" not in r.get("Cache-Control", "")
    assert "max-age" in r["Cache-Control"]
