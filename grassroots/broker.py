"""The embedded broker: kombu's filesystem transport, with each message written whole.

kombu creates a message's file and then writes it, while a consumer lists the folder and reads
files without taking their lock (celery/kombu#1551). A worker that polls in between reads an
empty message and stops with "Unrecoverable error: JSONDecodeError". Here a message is written
under a dot-name the consumer ignores and renamed into place, which is atomic on one file
system. Redis, the production broker, is not affected.
"""

import os
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "grassroots-filesystem"


class Channel(filesystem.Channel):
    # kombu's filesystem.Channel._put, which this replaces, already takes (queue, payload,
    # **kwargs) where AbstractChannel declares (queue, message).
    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        # The consumer takes only files named <stamp>_<id>.<queue>.msg: ".….part" is not one.
        part = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(part, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(part, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add {name!r} to the broker folder") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[SCHEME] = "grassroots.broker:Transport"
