#!/usr/bin/env python
"""Run the web server, a Celery worker and Celery beat together.

Ctrl-C (or SIGTERM) stops all three; if one of them exits, the others are
stopped too, so nothing is left running in the background.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Addresses a server listens on but a browser cannot open: links use the loopback instead.
WILDCARD_HOSTS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - names, not a bind


def site_url_for(host: str, port: str) -> str:
    """The address links should use for a server on ``host``:``port`` (``http://127.0.0.1:8100``)."""
    host = WILDCARD_HOSTS.get(host, host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"http://{host}:{port}"


def dev_environment(environ: dict, *, host: str, port: str) -> dict:
    """The environment of the three processes: debug on and SITE_URL derived from the address unless set.

    SITE_URL is what confirmation, QR, referral and payment links (and the fake
    Robokassa's callback) point at, so it must follow ``--port``.
    """
    env = {**environ, "PYTHONUNBUFFERED": "1"}
    # Local development runs in debug mode (embedded defaults, the fake Robokassa);
    # the settings default to production, so say it unless the caller already did.
    env.setdefault("DJANGO_DEBUG", "1")
    if not env.get("SITE_URL"):
        env["SITE_URL"] = site_url_for(host, port)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()

    python = sys.executable
    celery = [python, "-m", "celery", "-A", "portal"]
    commands = {
        "web": [python, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"],
        # One local worker: no cluster chatter (heartbeat, gossip, mingle) over the filesystem broker.
        "worker": [
            *celery,
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        "beat": [
            *celery,
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile=",
        ],
    }
    env = dev_environment(dict(os.environ), host=args.host, port=args.port)
    processes = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in commands.items()}
    print(
        f"Citydesk is running at http://{args.host}:{args.port}/ (SITE_URL={env['SITE_URL']}; "
        "Ctrl-C stops web, worker and beat)",
        flush=True,
    )

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while not stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the others", flush=True)
                    exit_code = proc.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
    finally:
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
