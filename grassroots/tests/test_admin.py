"""Every model of the project is in the admin, and each changelist opens."""

import pytest
from django.apps import apps
from django.contrib import admin

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
