"""What production cannot do without: named by `check --deploy`, enforced where it serves."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

HINT = "Set it in the environment (README.md, Configuration); for development set DEBUG=true."


@register(deploy=True)
def production_variables(app_configs: object = None, **kwargs: object) -> list[Error]:
    return [
        Error(f"{name} must be set when DEBUG is off", hint=HINT, id="grassroots.E001")
        for name in settings.MISSING_FOR_PRODUCTION
    ]


def require_production_settings() -> None:
    """Called as the web and Celery processes start: refuse to serve without them."""
    missing = settings.MISSING_FOR_PRODUCTION
    if missing:
        raise ImproperlyConfigured(f"{' and '.join(missing)} must be set when DEBUG is off. {HINT}")
