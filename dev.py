#!/usr/bin/env python3
"""Set up and run Grassroots with nothing but Python 3.11+.

    python3 dev.py run     virtualenv, install, migrate, demo data; web + Celery worker + beat
    python3 dev.py test    virtualenv, install, checks (ruff, migrations), the whole test suite
        --update-screenshots   also refresh docs/screenshots/ from the browser tests

Uses only the standard library, so it works before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def say(message: str) -> None:
    print(f"\033[1m» {message}\033[0m", flush=True)


def ensure_venv(requirements: str) -> None:
    """Create .venv and install `requirements` unless that exact file is installed already."""
    if sys.version_info < (3, 11):
        sys.exit("Grassroots needs Python 3.11 or newer.")
    if not PY.exists():
        say("Creating the virtualenv in .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    req = ROOT / requirements
    digest = hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(ROOT.glob("requirements*.txt")))
    ).hexdigest()
    stamp = VENV / f".installed-{requirements}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"Installing {requirements}")
    subprocess.run(
        [PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", req],
        check=True,
    )
    stamp.write_text(digest)


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run() -> int:
    ensure_venv("requirements.txt")
    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "true")}
    env.setdefault("PYTHONUNBUFFERED", "1")
    port = os.environ.get("PORT", "8000")
    say("Migrating the database")
    manage("migrate", "--no-input", env=env)
    say("Loading the demo data")
    manage("seed_demo", env=env)
    (ROOT / "var").mkdir(exist_ok=True)
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
        name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=os.name != "nt")
        for name, cmd in commands.items()
    }
    print(
        f"""
  Grassroots is running at http://127.0.0.1:{port}/

  Demo logins (password grassroots-demo):
    gridworker   grid worker of 冲赛康社区's first grid
    staff        community staff of 冲赛康社区
    official     official of 八廓街道
    admin        administrator (/admin/)

  Press Ctrl-C to stop the web server, the Celery worker and beat.
""",
        flush=True,
    )
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # A service manager's SIGTERM stops the three processes as Ctrl-C does.
    signal.signal(signal.SIGTERM, stop)
    try:
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
