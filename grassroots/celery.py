import os

from celery import Celery
from celery.signals import beat_init, worker_init

from grassroots import broker  # noqa: F401 - registers the embedded broker's scheme

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grassroots.settings")

app = Celery("grassroots")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_without_production_settings(**kwargs: object) -> None:
    from grassroots.checks import require_production_settings

    require_production_settings()


def enqueue(task: str, *args: object) -> None:
    """Send the task named `task` to the workers.

    By name, so that services and notifications, which the tasks call, never import the tasks
    module: the tasks depend on the services, not the other way round. With
    `task_always_eager` (a test's setting) it runs inline, as `.delay()` would.
    """
    if app.conf.task_always_eager:
        app.tasks[task].apply(args=args)
        return
    app.send_task(task, args=args)
