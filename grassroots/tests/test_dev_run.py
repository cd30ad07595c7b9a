"""`python3 dev.py run`: a quiet start whose "running at" banner comes last.

Runs the real command on the embedded default (SQLite and the filesystem broker in a
temporary folder) on a free port, for as long as it takes to start (about 15 s), then stops
it with Ctrl-C as a newcomer would.
"""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings

BANNER = "Grassroots is running at"


def dev_module():
    spec = importlib.util.spec_from_file_location("dev", settings.BASE_DIR / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_starts_quietly_and_prints_the_banner_last(tmp_path: Path) -> None:
    if not dev_module().installed("requirements.txt"):
        pytest.skip("dev.py run would install the requirements first")
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "GRASSROOTS_TESTING",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "EMAIL_BACKEND",
            "EMAIL_FILE_PATH",
        }
    }
    env.update(GRASSROOTS_VAR_DIR=str(tmp_path), PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, "dev.py", "run"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    banner = threading.Event()

    def read() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if BANNER in line:
                banner.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert banner.wait(120), "\n".join(lines[-40:])
        time.sleep(5)  # what follows the banner at once counts too
        started = list(lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    reader.join(5)

    def first(text: str) -> int:
        return next(i for i, line in enumerate(started) if text in line)

    at = first(BANNER)
    assert first(f"web    | Starting development server at http://127.0.0.1:{port}/") < at
    assert first("worker | ") < first(" ready.") < at
    assert first("beat: Starting...") < at
    assert f"http://127.0.0.1:{port}/" in started[at]
    # Demo data sends nothing at start: no e-mail in the log, a few screens of lines in all.
    assert not [line for line in started if "Subject:" in line]
    assert len(started) < 300, len(started)
    assert process.returncode == 0
    assert not list(tmp_path.glob("mail/*"))
