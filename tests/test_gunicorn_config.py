"""deploy/gunicorn.conf.py: what the master does before it forks the workers."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json, runpy
import django
django.setup()
config = runpy.run_path("deploy/gunicorn.conf.py")
before = gc.get_freeze_count()
config["when_ready"](None)
print(json.dumps({"preload": config["preload_app"], "before": before, "after": gc.get_freeze_count()}))
"""


def probe(**env) -> dict:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DJANGO_DEBUG": "1", **env}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_preloaded_application_is_frozen_out_of_the_garbage_collector_before_the_fork():
    found = probe()

    assert found["preload"] is True
    assert found["before"] == 0 and found["after"] > 10_000  # the imported application, views included


def test_without_preload_nothing_is_frozen():
    found = probe(GUNICORN_PRELOAD="0")

    assert found["preload"] is False and found["after"] == 0
