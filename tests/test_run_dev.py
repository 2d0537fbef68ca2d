"""`make run`'s process runner: web, worker and beat start and stop together.

Runs scripts/run_dev.py for real on a free port, with its own SQLite database
and filesystem-broker folder, sends a task from a separate shell process, sees
the worker it started execute it, then presses Ctrl-C (SIGINT to the process
group, as a terminal does) and checks that nothing is left running.
"""

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp …; comm may contain spaces, so split after ")"
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def wait_for(predicate, timeout: float, interval: float = 0.3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    return predicate()


@pytest.fixture
def run_env(tmp_path):
    """The environment of `make run` on a fresh machine: no DJANGO_DEBUG (the runner turns debug on)."""
    unset = {"REDIS_URL", "CELERY_BROKER_URL", "PYTEST_XDIST_WORKER", "DJANGO_DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        CELERY_BROKER_DIR=str(tmp_path / "broker"),
        CELERY_TASK_ALWAYS_EAGER="0",
        PYTHONUNBUFFERED="1",
    )
    # beat's DatabaseScheduler needs only its own tables; the web checks need none.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "django_celery_beat", "--noinput", "--skip-checks", "-v", "0"],
        cwd=ROOT,
        env={**env, "DJANGO_DEBUG": "1"},
        check=True,
        timeout=60,
    )
    return env


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to list the process group")
def test_web_worker_and_beat_run_together_and_stop_together_on_ctrl_c(run_env, tmp_path):
    port = free_port()
    log_path = tmp_path / "run.log"
    token = uuid.uuid4().hex[:12]
    with log_path.open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, "scripts/run_dev.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=run_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    pgid = runner.pid
    try:
        # web answers /healthz (database, cache and the filesystem broker): the runner
        # started it in debug mode, or the settings would refuse the demo secrets
        def healthy():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        assert wait_for(healthy, timeout=30), log_path.read_text(errors="replace")
        # links (confirmation, QR, payment callback) follow the port unless SITE_URL is set
        assert f"SITE_URL=http://127.0.0.1:{port}" in log_path.read_text(errors="replace")
        assert len(group_members(pgid)) >= 4  # runner + web + worker + beat (+ pool processes)

        # a task sent from another process is executed by the worker the runner started
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", f"from portal.tasks import ping; ping.delay({token!r})"],
            cwd=ROOT,
            env={**run_env, "DJANGO_DEBUG": "1"},
            check=True,
            timeout=60,
            capture_output=True,
        )
        assert wait_for(lambda: f"ping {token}: pong" in log_path.read_text(errors="replace"), timeout=20), (
            log_path.read_text(errors="replace")
        )

        # Ctrl-C: the terminal sends SIGINT to the whole foreground process group
        os.killpg(pgid, signal.SIGINT)
        runner.wait(timeout=30)
        assert wait_for(lambda: not group_members(pgid), timeout=10), (
            f"still running: {group_members(pgid)}\n{log_path.read_text(errors='replace')}"
        )
    finally:
        if group_members(pgid):
            os.killpg(pgid, signal.SIGKILL)
        if runner.poll() is None:
            runner.kill()
            runner.wait()


def test_runner_stops_the_others_when_one_exits(run_env, tmp_path):
    """If one process dies (here: web cannot bind its port), the runner stops the rest and fails."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        runner = subprocess.Popen(
            [sys.executable, "scripts/run_dev.py", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=run_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        pgid = runner.pid
        try:
            assert runner.wait(timeout=40) != 0
            assert wait_for(lambda: not group_members(pgid), timeout=10)
        finally:
            if group_members(pgid):
                os.killpg(pgid, signal.SIGKILL)


def _runner_module():
    spec = importlib.util.spec_from_file_location("run_dev", ROOT / "scripts" / "run_dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", "8100", "http://127.0.0.1:8100"),
        ("0.0.0.0", "8000", "http://127.0.0.1:8000"),  # noqa: S104
        ("localhost", "9000", "http://localhost:9000"),
        ("::", "8100", "http://[::1]:8100"),
    ],
)
def test_site_url_follows_host_and_port(host, port, expected):
    runner = _runner_module()
    assert runner.dev_environment({}, host=host, port=port)["SITE_URL"] == expected


def test_a_site_url_that_is_set_is_kept():
    runner = _runner_module()
    env = runner.dev_environment({"SITE_URL": "https://demo.example.ru"}, host="127.0.0.1", port="8100")
    assert env["SITE_URL"] == "https://demo.example.ru"
    assert runner.dev_environment({"SITE_URL": ""}, host="127.0.0.1", port="8100")["SITE_URL"] == (
        "http://127.0.0.1:8100"
    )
