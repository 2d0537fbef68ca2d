"""Run Python in a fresh process with production settings (DJANGO_DEBUG off).

Settings are read once, at import, and the test process itself runs with debug
on; production behaviour is therefore checked in a child process with an
environment of its own.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A complete production environment: every secret set to a non-demo value.
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k9#2mz!q8@v7x6c5b4n3m2l1k0j9h8g7f6d5s4a3p2o1i0u9y8t7r6e5w4q3",
    "DJANGO_ALLOWED_HOSTS": "citydesk.ru",
    "SITE_URL": "https://citydesk.ru",
    "ROBOKASSA_LOGIN": "citydesk",
    "ROBOKASSA_PASSWORD1": "real-secret-1",
    "ROBOKASSA_PASSWORD2": "real-secret-2",
}


def clean_environ(**env: str) -> dict[str, str]:
    """This process's environment without our settings' variables, plus ``env``."""
    prefixes = (
        "DJANGO_",
        "DATABASE_",
        "REDIS_",
        "CELERY_",
        "ROBOKASSA_",
        "AWS_",
        "LOG_",
        "METRICS_",
        "PROMETHEUS_",
        "SENTRY_",
        "WORKER_METRICS_",
    )
    return {**{k: v for k, v in os.environ.items() if not k.startswith(prefixes)}, **env}


def run_python(code: str, env: dict[str, str], *, timeout: int = 60) -> subprocess.CompletedProcess:
    """Run ``code`` after ``django.setup()`` in a child process whose environment is ``env`` (cleaned)."""
    prelude = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'portal.settings'; django.setup()\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env=clean_environ(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean_environ(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
