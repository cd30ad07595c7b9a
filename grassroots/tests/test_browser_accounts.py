"""The account screens in real Chromium on a phone: a paused login and a password change."""

import pytest

from conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_five_wrong_passwords_show_the_pause_in_chinese(phone, live_server, grid_worker):
    for _ in range(5):
        login(phone, live_server, "gridworker", "wrong-password")

    assert "密码错误次数过多" in phone.content()
    assert "30 分钟后再试" in phone.content()
    shot(phone, "login-paused-phone.png")
    # The right password is refused too while the pause lasts.
    login(phone, live_server, "gridworker")
    assert "密码错误次数过多" in phone.content()


def test_three_wrong_passwords_say_two_tries_are_left(phone, live_server, grid_worker):
    for _ in range(3):
        login(phone, live_server, "gridworker", "wrong-password")

    warning = phone.get_by_test_id("tries-left")
    assert "还可再试2次" in warning.inner_text()
    shot(phone, "login-tries-left-phone.png")
    login(phone, live_server, "gridworker", "wrong-password")
    assert "还可再试1次" in phone.get_by_test_id("tries-left").inner_text()


def test_a_grid_worker_changes_the_password_from_the_header(phone, live_server, grid_worker):
    login(phone, live_server, "gridworker")
    phone.click("a[href='/accounts/password_change/']")
    phone.fill("input[name=old_password]", "grassroots-test")
    phone.fill("input[name=new_password1]", "12345678")
    phone.fill("input[name=new_password2]", "12345678")
    phone.click("main button[type=submit]")

    assert "这个密码太常见了" in phone.content()
    shot(phone, "password-change-refused-phone.png")

    phone.fill("input[name=old_password]", "grassroots-test")
    phone.fill("input[name=new_password1]", "布达拉宫-lhasa-2026")
    phone.fill("input[name=new_password2]", "布达拉宫-lhasa-2026")
    phone.click("main button[type=submit]")
    phone.wait_for_url("**/password_change/done/")

    assert "密码已修改" in phone.content()
    shot(phone, "password-changed-phone.png")
