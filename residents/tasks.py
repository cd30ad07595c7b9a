"""Celery tasks of the residents' side: each takes ids and calls a service."""

from celery import shared_task

from issues.tasks import RETRY


@shared_task(**RETRY)
def text_resident(event_id: int) -> int:
    from residents import texts

    return texts.text_resident(event_id)
