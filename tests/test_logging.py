"""LOG_LEVEL holds for every logger, Django's own included; LOG_FORMAT=json writes JSON lines."""

import json
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


JSON_SCRIPT = """
import logging, os
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
import django
django.setup()
from portal.request_ids import request_id_bound
with request_id_bound("req-json-1"):
    logging.getLogger("catalog").warning('said "hi"\\nand left', extra={"organization_id": 7})
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("billing").exception("broken")
"""


def test_log_format_json_writes_one_object_per_line_with_the_request_id():
    env = clean_environ(**PRODUCTION_ENV, LOG_FORMAT="json")
    result = subprocess.run(
        [sys.executable, "-c", JSON_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one JSON object

    said, broken = lines
    assert said["message"] == 'said "hi"\nand left'
    assert (said["level"], said["logger"], said["request_id"]) == ("WARNING", "catalog", "req-json-1")
    assert said["organization_id"] == 7
    assert said["time"].endswith("+00:00")
    assert broken["request_id"] == "-"
    assert "ZeroDivisionError" in broken["exc_info"]


def test_plain_lines_carry_the_request_id_too():
    env = clean_environ(**PRODUCTION_ENV)
    result = subprocess.run(
        [sys.executable, "-c", JSON_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "WARNING catalog [req-json-1]: said" in result.stderr


def test_an_unknown_log_format_is_refused():
    env = clean_environ(**PRODUCTION_ENV, LOG_FORMAT="xml")
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)

    assert result.returncode != 0
    assert "LOG_FORMAT" in result.stderr
