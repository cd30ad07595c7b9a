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
