"""A capture draft on a shared phone: its user's only, and gone at logout."""

import pytest

from conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def type_a_resident(phone, live_server) -> None:
    phone.goto(f"{live_server.url}/issues/new/")
    phone.fill("#id_title", "楼道灯不亮")
    phone.fill("#id_resident_name", "张三丰")
    phone.fill("#id_resident_phone", "13812345678")


def log_out(phone) -> None:
    phone.click("form[data-logout] button[type=submit]")
    phone.wait_for_url("**/accounts/login/")


def drafts(phone) -> list[str]:
    return phone.evaluate(
        "Object.keys(localStorage).filter(function (k) { return k.indexOf('draft:') === 0; })"
    )


def test_it_keeps_a_draft_for_its_user_while_logged_in(phone, live_server, grid_worker):
    login(phone, live_server, "gridworker")
    type_a_resident(phone, live_server)

    phone.reload()

    assert phone.input_value("#id_resident_name") == "张三丰"
    assert phone.input_value("#id_resident_phone") == "13812345678"


def test_it_leaves_no_resident_on_the_phone_after_logout(
    phone, live_server, grid_worker, staff, courtyard
):
    login(phone, live_server, "gridworker")
    type_a_resident(phone, live_server)
    assert len(drafts(phone)) == 1

    log_out(phone)

    assert drafts(phone) == []
    # The next user of the phone finds an empty form.
    login(phone, live_server, "staff")
    phone.goto(f"{live_server.url}/issues/new/")
    assert phone.input_value("#id_resident_name") == ""
    assert phone.input_value("#id_resident_phone") == ""
    assert phone.input_value("#id_title") == ""
    shot(phone, "capture-after-another-user-phone.png")
    # So does the same user, logging in again.
    log_out(phone)
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    assert phone.input_value("#id_resident_name") == ""
    assert phone.input_value("#id_resident_phone") == ""


def test_another_users_draft_is_not_filled_in(phone, live_server, grid_worker, staff, courtyard):
    """A draft left without logging out (a closed tab, an expired session) stays its user's."""
    login(phone, live_server, "gridworker")
    type_a_resident(phone, live_server)
    phone.context.clear_cookies()

    login(phone, live_server, "staff")
    phone.goto(f"{live_server.url}/issues/new/")

    assert phone.input_value("#id_resident_name") == ""
    assert phone.input_value("#id_resident_phone") == ""
