"""The shared rate limiter: one budget across processes (Redis), local without Redis."""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings as django_settings

from mailings import rate_limit

CHILD = """
import json, sys, time, django
django.setup()
from mailings.rate_limit import acquire
stamps = []
for _ in range(int(sys.argv[2])):
    acquire("10/second", sys.argv[1])
    stamps.append(time.time())
print(json.dumps(stamps))
"""


@pytest.mark.redis
def test_two_processes_share_one_budget():
    key = f"test:{uuid.uuid4()}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "REDIS_URL": django_settings.REDIS_URL}
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, key, "12"], stdout=subprocess.PIPE, env=env, text=True)
        for _ in range(2)
    ]
    stamps = sorted(s for child in children for s in json.loads(child.communicate(timeout=60)[0]))

    assert len(stamps) == 24
    # never more than 10 hits in any one-second window, across both processes. A stamp is taken
    # after the hit, so a process the machine schedules late can squeeze one window a little;
    # without a shared budget the two processes would put 20 hits in well under half a second.
    assert all(stamps[i + 10] - stamps[i] >= 0.8 for i in range(len(stamps) - 10))
    assert stamps[-1] - stamps[0] >= 1.9


def test_without_redis_a_process_local_limiter_is_used(settings):
    settings.REDIS_URL = ""
    key = f"local:{uuid.uuid4()}"

    assert [rate_limit.try_acquire("3/second", key) for _ in range(4)] == [True, True, True, False]
    started = time.monotonic()
    waited = rate_limit.acquire("3/second", key)
    assert waited > 0.5
    assert time.monotonic() - started < 2.0


@pytest.mark.redis
def test_paced_acquire_spreads_hits_evenly():
    key = f"paced:{uuid.uuid4()}"
    stamps = []
    for _ in range(6):
        rate_limit.acquire_paced("20/second", key)
        stamps.append(time.monotonic())

    # Not a burst: six hits at 20/s span about four 1/20 s slots (the first
    # gap may be the tail of a slot). A loaded machine can only stretch the span,
    # and one late hit can be followed by a quick one, so no single gap is asserted.
    assert stamps[-1] - stamps[0] >= 3.5 * 0.05
    assert stamps[-1] - stamps[0] < 5.0
