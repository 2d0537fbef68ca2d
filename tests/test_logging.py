"""LOG_LEVEL holds for every logger, Django's own included."""

import subprocess
import sys
from pathlib import Path

from portal.tests.production import PRODUCTION_ENV, clean_environ

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import logging, os
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
import django
django.setup()
logging.getLogger("django.request").warning("conflict-warning")
logging.getLogger("django.request").error("request-error")
logging.getLogger("catalog").warning("app-warning")
"""


def _run(level: str) -> str:
    env = clean_environ(**PRODUCTION_ENV, LOG_LEVEL=level)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_log_level_error_silences_warnings_of_django_and_our_apps():
    output = _run("ERROR")

    assert "request-error" in output
    assert "conflict-warning" not in output
    assert "app-warning" not in output


def test_log_level_warning_shows_them():
    output = _run("WARNING")

    assert "conflict-warning" in output
    assert "app-warning" in output
