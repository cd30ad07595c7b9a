import os

from celery import Celery

from grassroots import broker  # noqa: F401 - registers the embedded broker's scheme

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.settings")

app = Celery("grassroots")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
