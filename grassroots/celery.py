import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.settings")

app = Celery("grassroots")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def make_broker_folders(**kwargs: object) -> None:
    """The filesystem broker needs its folders before the first message."""
    from django.conf import settings

    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        for key in ("data_folder_in", "processed_folder"):
            os.makedirs(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key], exist_ok=True)
