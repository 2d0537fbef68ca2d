"""X-Request-ID: kept when sane, made otherwise, on every response, log line and enqueued task."""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, timedelta

import pytest
from django.urls import reverse

from portal.request_ids import SANE_ID, request_id_bound, request_id_clean
from portal.tests.metrics import TOKEN
from portal.tests.production import ROOT


def test_a_response_gets_a_new_id_when_none_came(client, db):
    first = client.get("/healthz")
    second = client.get("/healthz")

    assert SANE_ID.fullmatch(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_sane_incoming_id_is_kept(client, db):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a.b2:9=+/x")

    assert response["X-Request-ID"] == "edge-7f3a.b2:9=+/x"


@pytest.mark.parametrize(
    "incoming",
    ["", "a" * 129, "id with spaces", "line\nbreak", "<script>", "кириллица", "semi;colon", 'quote"'],
)
def test_an_insane_incoming_id_is_replaced(client, db, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert SANE_ID.fullmatch(response["X-Request-ID"])


def test_redirects_and_errors_carry_it_too(client, db):
    assert client.get("/no-such-page/", HTTP_X_REQUEST_ID="r404")["X-Request-ID"] == "r404"
    assert client.get("/admin/", HTTP_X_REQUEST_ID="r302")["X-Request-ID"] == "r302"


def test_request_id_clean():
    assert request_id_clean("abc") == "abc"
    assert len(request_id_clean(None)) == 32


def test_every_log_line_of_the_request_carries_its_id(client, db, caplog):
    caplog.set_level(logging.INFO)

    client.get("/no-such-page/", HTTP_X_REQUEST_ID="trace-404")

    access = [r for r in caplog.records if r.name == "portal.access"]
    assert [r.getMessage().split()[:3] for r in access] == [["GET", "/no-such-page/", "404"]]
    assert access[0].request_id == "trace-404"
    assert access[0].http_status == 404
    django_warning = [r for r in caplog.records if r.name == "django.request"]
    assert django_warning and all(r.request_id == "trace-404" for r in django_warning)
    outside = logging.getLogger("portal").makeRecord("portal", logging.INFO, __file__, 1, "x", (), None)
    assert outside.request_id == "-"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_by_the_request_logs_with_the_requests_id(caplog, resource_for_booking):
    """Through the API: a booking commits, its notification task runs, and its log line has the id."""
    from rest_framework.test import APIClient

    user, resource, starts_at = resource_for_booking
    api = APIClient()
    api.force_login(user)
    caplog.set_level(logging.INFO)

    response = api.post(
        reverse("api:booking-list"),
        {
            "resource": resource.pk,
            "starts_at": starts_at.astimezone(UTC).isoformat(),
            "ends_at": (starts_at + timedelta(hours=1)).astimezone(UTC).isoformat(),
        },
        HTTP_X_REQUEST_ID="booking-req-1",
    )

    assert response.status_code == 201, response.content
    task_lines = [
        r
        for r in caplog.records
        if r.name == "celery.app.trace" and "mailings.tasks.deliver_notification" in r.msg % r.args
    ]
    assert task_lines, [r.getMessage() for r in caplog.records]
    assert {r.request_id for r in task_lines} == {"booking-req-1"}


@pytest.fixture
def resource_for_booking(db):
    from datetime import time as clock

    from django.utils import timezone

    from bookings.tests.factories import ResourceFactory, open_every_day
    from catalog.tests.factories import OrganizationFactory
    from portal.tests.factories import UserFactory

    organization = OrganizationFactory()
    open_every_day(organization, clock(0), clock(23, 59))
    resource = ResourceFactory(organization=organization)
    local = timezone.localtime(timezone.now() + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    return UserFactory(), resource, local


# --- a real worker --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@pytest.mark.redis
def test_a_real_worker_gets_the_id_in_the_message_and_exports_its_metrics(settings, tmp_path):
    """apply_async → Redis → a prefork worker: its JSON log line has the id; its exporter adds up the pool."""
    from portal.celery import app as celery_app
    from portal.tasks import ping

    queue = f"request-id-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_BROKER_URL": settings.REDIS_URL,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "METRICS_TOKEN": TOKEN,
        "WORKER_METRICS_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    log_path = tmp_path / "worker.log"
    celery_app.conf.task_always_eager = False
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=prefork", "--concurrency=1"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "-Q", queue, "-n", f"{queue}@%h"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with request_id_bound("from-request-42"):
            ping.apply_async(("traced",), queue=queue)

        def ping_line():
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith("{") and "ping traced: pong" in line:
                    return json.loads(line)
            return None

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ping_line() is None and worker.poll() is None:
            time.sleep(0.3)
        line = ping_line()
        assert line is not None, log_path.read_text(errors="replace")[-3000:]

        # then: the task's line carries the request's id, and says which task it is
        assert line["request_id"] == "from-request-42"
        assert line["task_name"] == "portal.tasks.ping" and line["logger"] == "portal.tasks"

        # and the worker's exporter shows the pool process's count, behind the token
        status, body = _get(f"http://127.0.0.1:{port}/metrics", TOKEN)
        assert status == 200
        assert 'citydesk_celery_tasks_total{state="succeeded",task="portal.tasks.ping"} 1.0' in body
        assert _get(f"http://127.0.0.1:{port}/metrics")[0] == 404
        assert _get(f"http://127.0.0.1:{port}/metrics", "wrong")[0] == 404
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        celery_app.conf.task_always_eager = True
