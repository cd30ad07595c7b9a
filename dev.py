#!/usr/bin/env python3
"""Set up and run Grassroots with nothing but Python 3.11+.

    python3 dev.py run     virtualenv, install, migrate, demo data; web + Celery worker + beat
    python3 dev.py test    virtualenv, install, checks (ruff, ruff format, mypy, migrations),
                           the whole test suite
        --update-screenshots   also refresh docs/screenshots/ from the browser tests

Uses only the standard library, so it works before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"\033[1m» {message}\033[0m", flush=True)


def digest() -> str:
    return hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(ROOT.glob("requirements*.txt")))
    ).hexdigest()


def installed(requirements: str) -> bool:
    """Whether this exact `requirements` file is installed in .venv already."""
    stamps = [VENV / f".installed-{requirements}"]
    if requirements == "requirements.txt":
        # requirements-dev.txt includes requirements.txt: its stamp will do for the app.
        stamps.append(VENV / ".installed-requirements-dev.txt")
    return any(s.exists() and s.read_text() == digest() for s in stamps)


def ensure_venv(requirements: str) -> None:
    """Create .venv and install `requirements` unless that exact file is installed already."""
    if sys.version_info < (3, 11):
        sys.exit("Grassroots needs Python 3.11 or newer.")
    if not PY.exists():
        say("Creating the virtualenv in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    if PY.exists() and installed(requirements):
        return
    say(f"Installing {requirements}")
    subprocess.run(
        [
            PY,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            ROOT / requirements,
        ],
        check=True,
    )
    (VENV / f".installed-{requirements}").write_text(digest())


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


# A line each process prints once it is ready for work.
READY_LINES = {"worker": " ready.", "beat": "beat: Starting..."}


def relay(name: str, process: subprocess.Popen[str], ready: threading.Event) -> None:
    """Print a process's output, each line named by its process; note its ready line."""
    marker = READY_LINES.get(name)
    assert process.stdout is not None
    for line in process.stdout:
        print(f"{name:<6} | {line}", end="", flush=True)
        if marker and marker in line:
            ready.set()


def port_answers(port: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def run() -> int:
    ensure_venv("requirements.txt")
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true")}
    env.setdefault("PYTHONUNBUFFERED", "1")
    port = os.environ.get("PORT", "8000")
    var_dir = Path(env.get("GRASSROOTS_VAR_DIR") or ROOT / "var")
    # Notification e-mails go to files, one per message, not into the console's log.
    env.setdefault("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    env.setdefault("EMAIL_FILE_PATH", str(var_dir / "mail"))
    say("Migrating the database")
    manage("migrate", "--no-input", env=env)
    say("Loading the demo data")
    manage("seed_demo", env=env)
    commands = {
        "web": [PY, "manage.py", "runserver", f"127.0.0.1:{port}"],
        "worker": [
            BIN / "celery",
            "-A",
            "grassroots",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "--hostname=worker@%h",
        ],
        "beat": [BIN / "celery", "-A", "grassroots", "beat", "--loglevel=INFO"],
    }
    # Own sessions: Ctrl-C reaches only this script, which stops each process exactly once
    # (a second SIGINT would make Celery abandon its running tasks).
    processes = {
        name: subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            start_new_session=os.name != "nt",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        for name, cmd in commands.items()
    }
    ready = {name: threading.Event() for name in processes}
    for name, process in processes.items():
        threading.Thread(target=relay, args=(name, process, ready[name]), daemon=True).start()

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # A service manager's SIGTERM stops the three processes as Ctrl-C does.
    signal.signal(signal.SIGTERM, stop)
    try:
        # The banner comes last, once the web server answers and the worker and beat are up.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and all(p.poll() is None for p in processes.values()):
            if not ready["web"].is_set() and port_answers(port):
                ready["web"].set()
            if all(event.is_set() for event in ready.values()):
                break
            time.sleep(0.3)
        waiting = [name for name, event in ready.items() if not event.is_set()]
        if all(p.poll() is None for p in processes.values()):
            files = env["EMAIL_BACKEND"].endswith("filebased.EmailBackend")
            mail = Path(env["EMAIL_FILE_PATH"]) if files else None
            print(banner(port, mail, waiting), flush=True)
        while all(p.poll() is None for p in processes.values()):
            time.sleep(0.5)
        failed = [name for name, p in processes.items() if p.poll() is not None]
        say(f"{', '.join(failed)} stopped; stopping the rest")
    except KeyboardInterrupt:
        say("Stopping")
    for p in processes.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM if os.name != "nt" else signal.CTRL_BREAK_EVENT)
    deadline = time.monotonic() + 15
    for p in processes.values():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    return 0


def banner(port: str, mail: Path | None, waiting: list[str]) -> str:
    late = f"\n  Still starting: {', '.join(waiting)}.\n" if waiting else ""
    mail_line = f"\n  Notification e-mails are written to {mail}/, one file each." if mail else ""
    return f"""
  Grassroots is running at http://127.0.0.1:{port}/
{late}
  Demo logins (password grassroots-demo):
    gridworker   grid worker of 冲赛康社区's first grid
    staff        community staff of 冲赛康社区
    official     official of 八廓街道
    admin        administrator (/admin/)
{mail_line}
  Another port: PORT=8001 python3 dev.py run

  Press Ctrl-C to stop the web server, the Celery worker and beat.
"""


def test(args: list[str]) -> int:
    ensure_venv("requirements-dev.txt")
    env = {**os.environ}
    env.pop("DEBUG", None)
    if "--update-screenshots" in args:
        args = [a for a in args if a != "--update-screenshots"]
        env["GRASSROOTS_SCREENSHOTS"] = str(ROOT / "docs" / "screenshots")
    say("ruff check")
    if subprocess.run([BIN / "ruff", "check", "."], cwd=ROOT).returncode:
        return 1
    say("ruff format --check")
    if subprocess.run([BIN / "ruff", "format", "--check", "."], cwd=ROOT).returncode:
        return 1
    # mypy's Django plugin loads the settings, in the environment pytest has: this one, with
    # the defaults grassroots/testing.py adds.
    say("mypy")
    checked = {**env}
    checked.setdefault("GRASSROOTS_TESTING", "true")
    checked.setdefault("GRASSROOTS_VAR_DIR", str(ROOT / "var" / "test"))
    if subprocess.run([BIN / "mypy"], cwd=ROOT, env=checked).returncode:
        return 1
    say("makemigrations --check")
    if subprocess.run(
        [PY, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT, env=env
    ).returncode:
        return 1
    db = env.get("DATABASE_URL", "") or "SQLite (embedded default)"
    say(f"pytest on {db.split('@')[-1]}, broker {env.get('REDIS_URL') or 'filesystem'}")
    return subprocess.run([PY, "-m", "pytest", *args], cwd=ROOT, env=env).returncode


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("run", "test"):
        print(__doc__)
        return 2
    os.chdir(ROOT)
    return run() if sys.argv[1] == "run" else test(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
