"""Schemathesis finds nothing: every status, body and constraint the API answers is in its schema.

One run per client: anonymous, a Telegram Mini App user (``tma``) and a VK
Mini App user (``vk``), every phase (examples, coverage, fuzzing, stateful
links inferred from the schema) and every check. CI runs a bounded number of
examples with a fixed seed; ``make fuzz`` runs more with a new seed.
"""

import logging
import os
import time

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.throttling import SimpleRateThrottle

from portal.tests.miniapp_signing import BOT_TOKEN, VK_SECRET
from tests.api_fuzz import MODES, fuzz

SEED = 20261201


@pytest.fixture
def fuzz_setup(live_server, settings, monkeypatch):
    """Demo data to explore, the Mini App keys of the signed launch data, and no outside traffic."""
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.VK_APP_SECRET = VK_SECRET
    # Bots and notifications stay on this machine (nothing listens there: a delivery just fails).
    settings.TELEGRAM_API_BASE_URL = "http://127.0.0.1:9/bot"
    settings.VK_API_BASE_URL = "http://127.0.0.1:9/method/"
    # Thousands of requests from one address in a minute: the throttles would answer most of
    # them 429 (documented, so not a failure) and leave nothing explored.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "1000000/min")
    )
    # The live server answers on kept-alive connections; a database connection kept past
    # the request would outlive the test and keep the test database from being dropped.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    started = time.monotonic()
    call_command("seed_demo", verbosity=0)
    print(f"seed_demo: {time.monotonic() - started:.0f} s")
    return live_server.url


@pytest.mark.parametrize("mode", MODES)
def test_schemathesis_finds_nothing(fuzz_setup, mode, caplog):
    # Thousands of expected 4xx would each log a warning; server errors are still logged.
    caplog.set_level(logging.ERROR, logger="django.request")
    caplog.set_level(logging.WARNING, logger="celery")
    seed = os.environ.get("API_FUZZ_SEED", str(SEED))
    result = fuzz(base_url=fuzz_setup, mode=mode, seed=None if seed == "random" else int(seed))

    print(result.summary())
    assert result.tested_operations == result.operations
    assert not result.failures and not result.errors, result.report()
