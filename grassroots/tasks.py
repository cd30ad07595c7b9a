"""The project's own background work: account mails."""

from celery import shared_task

from issues.tasks import RETRY


@shared_task(**RETRY)
def send_password_reset(email: str) -> None:
    from grassroots.accounts import send_reset_mail

    send_reset_mail(email)
