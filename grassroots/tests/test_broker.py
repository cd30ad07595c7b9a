"""The embedded broker never lets a consumer read a message that is still being written."""

from queue import Empty

import pytest
from kombu import Connection

from grassroots import broker


@pytest.fixture
def channel(tmp_path):
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder, "store_processed": False}
    with Connection("grassroots-filesystem://", transport_options=options) as conn:
        yield conn.default_channel


def test_a_message_is_invisible_until_it_is_whole(channel, monkeypatch):
    seen_while_writing = []
    rename = broker.os.replace

    def replace(src, dst):
        try:
            seen_while_writing.append(channel._get("tasks"))
        except Empty:
            seen_while_writing.append(None)
        rename(src, dst)

    monkeypatch.setattr(broker.os, "replace", replace)

    channel._put("tasks", {"body": "全文"})

    assert seen_while_writing == [None]
    assert channel._get("tasks") == {"body": "全文"}


def test_its_scheme_names_the_whole_message_transport(tmp_path):
    folder = str(tmp_path)
    options = {"data_folder_in": folder, "data_folder_out": folder}
    with Connection("grassroots-filesystem://", transport_options=options) as conn:
        assert isinstance(conn.transport, broker.Transport)
        assert isinstance(conn.default_channel, broker.Channel)
