"""What every benchmark needs: a child process with its own settings, its own
database, free ports, and servers stopped as a whole process group."""

import os
import signal
import socket
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Production settings (DJANGO_DEBUG=0) refuse empty or demo secrets; a benchmark
# server run in production mode gets these stand-ins.
PRODUCTION_SECRETS = {
    "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
    "ROBOKASSA_LOGIN": "citydesk-bench",
    "ROBOKASSA_PASSWORD1": "bench-password-one",
    "ROBOKASSA_PASSWORD2": "bench-password-two",
}


def run_child(module: str, env: dict) -> int:
    """Run ``python -m <module> --run`` with ``env`` on top of this environment.

    Settings are read once at import, so each benchmark measures in a process
    of its own with the settings it needs.
    """
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    return subprocess.call([sys.executable, "-m", module, "--run"], cwd=ROOT, env=env)


def create_database(server_url: str, name: str) -> None:
    """Create database ``name`` on the PostgreSQL server unless it exists (data sets are reused)."""
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(*processes: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM each process group (started with ``start_new_session=True``), SIGKILL what lingers."""
    for proc in processes:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for proc in processes:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=timeout)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 of ``samples``."""
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]
