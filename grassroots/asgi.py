import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.settings")
application = get_asgi_application()

from grassroots.checks import require_production_settings  # noqa: E402

require_production_settings()
