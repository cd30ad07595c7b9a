import pytest
from django.apps import apps
from django.contrib import admin

pytestmark = pytest.mark.django_db


def test_it_registers_every_wish_model_and_opens_each_changelist(client, admin_user):
    client.force_login(admin_user)

    for model in apps.get_app_config("wishes").get_models():
        assert model in admin.site._registry, model
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url


def test_it_keeps_wishes_changed_only_through_the_pages(client, admin_user):
    client.force_login(admin_user)

    assert client.get("/admin/wishes/wish/add/").status_code == 403
    assert client.get("/admin/wishes/servicekind/add/").status_code == 200
