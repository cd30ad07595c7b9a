"""Text messages (SMS) through a pluggable backend, named in the SMS_BACKEND setting.

The shape of Django's email backends: a backend class with `send_messages`. The console one
is the default (a deployment plugs in its carrier's gateway in the same shape), the file one
writes one file per message into SMS_FILE_PATH (browser tests, the demo), and the locmem one
keeps them in `outbox` for unit tests.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class TextMessage(NamedTuple):
    to: str
    body: str


class BaseBackend:
    def send_messages(self, messages: Sequence[TextMessage]) -> int:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def send_messages(self, messages: Sequence[TextMessage]) -> int:
        for message in messages:
            sys.stdout.write(f"SMS to {message.to}:\n{message.body}\n{'-' * 40}\n")
        sys.stdout.flush()
        return len(messages)


class FileBackend(BaseBackend):
    """One UTF-8 file per message: the recipient on the first line, a blank line, the text."""

    def send_messages(self, messages: Sequence[TextMessage]) -> int:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S-%f}-{secrets.token_hex(4)}.txt"
            (folder / name).write_text(f"{message.to}\n\n{message.body}\n", encoding="utf-8")
        return len(messages)


outbox: list[TextMessage] = []


class LocmemBackend(BaseBackend):
    def send_messages(self, messages: Sequence[TextMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


def send_sms(to: str, body: str) -> int:
    backend = import_string(settings.SMS_BACKEND)()
    return backend.send_messages([TextMessage(to, body)])
