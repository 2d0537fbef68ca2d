"""GET /metrics: guarded by METRICS_TOKEN; HTTP, database, cache and task metrics; multiprocess sums."""

import subprocess
import sys
import textwrap
import uuid

import pytest
from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.test import Client

from portal import metrics
from portal.tests.metrics import TOKEN, sample, scrape
from portal.tests.production import ROOT, clean_environ

pytestmark = pytest.mark.django_db


@shared_task(name="portal.tests.test_metrics.explode")
def explode() -> None:
    raise RuntimeError("boom")


# --- the guard ---------------------------------------------------------------------


def test_without_a_token_configured_metrics_is_404_even_with_a_bearer(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    ["", f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer", f"Bearer {TOKEN[:-1]}"],
)
def test_a_missing_or_wrong_token_is_the_sites_404(client, settings, authorization):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 404
    assert b"citydesk_" not in response.content


def test_the_right_token_gets_the_prometheus_text_format(client, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    for name in ("citydesk_bookings_total", "citydesk_payments_total", "citydesk_celery_queue_length"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_only_get_is_answered(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


def test_the_scrape_works_by_node_address_and_over_plain_http_in_production(client, settings):
    """Prometheus finds nodes by DNS and scrapes http://<address>:8000/metrics: no allowed host, no TLS."""
    settings.METRICS_TOKEN = TOKEN
    settings.ALLOWED_HOSTS = ["citydesk.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    scrape = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="172.18.0.7:8000")
    other = client.get("/healthz", HTTP_HOST="172.18.0.7:8000")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", HTTP_HOST="172.18.0.7:8000")

    assert scrape.status_code == 200 and b"citydesk_" in scrape.content
    assert other.status_code == 400  # everything else still checks the host
    assert wrong.status_code == 400


# --- what is counted -------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_are_counted_by_view_and_status_and_timed(client, settings):
    before = scrape(Client(), settings)

    assert client.get("/healthz").status_code == 200
    assert client.get("/no-such-page/").status_code == 404

    after = scrape(Client(), settings)
    assert sample(after, "citydesk_http_requests_total", view="healthz", method="GET", status="200") == (
        sample(before, "citydesk_http_requests_total", view="healthz", method="GET", status="200") + 1
    )
    assert sample(after, "citydesk_http_requests_total", view="unresolved", method="GET", status="404") == (
        sample(before, "citydesk_http_requests_total", view="unresolved", method="GET", status="404") + 1
    )
    assert sample(after, "citydesk_http_request_duration_seconds_count", view="healthz", method="GET") == (
        sample(before, "citydesk_http_request_duration_seconds_count", view="healthz", method="GET") + 1
    )


@pytest.mark.django_db
def test_database_statements_are_counted_and_errors_named(settings):
    from django.db import DatabaseError, transaction

    before = scrape(Client(), settings)

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("SELECT * FROM no_such_table_for_metrics")

    after = scrape(Client(), settings)
    alias = {"alias": "default"}
    # two statements of ours (the savepoint statements of atomic() are counted too)
    assert (
        sample(after, "citydesk_db_queries_total", **alias) >= sample(before, "citydesk_db_queries_total", **alias) + 2
    )
    errors = [
        value - sample(before, name, **dict(labels))
        for (name, labels), value in after.items()
        if name == "citydesk_db_errors_total"
    ]
    assert sum(errors) == 1


def test_a_user_execute_wrapper_does_not_remove_the_metrics_one(db):
    seen = []

    def spy(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    connection.ensure_connection()
    with connection.execute_wrapper(spy), connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    assert seen == ["SELECT 1"]
    assert any(getattr(wrapper, "citydesk_metrics", False) for wrapper in connection.execute_wrappers)
    assert spy not in connection.execute_wrappers


def test_cache_reads_are_hits_or_misses_and_nesting_counts_once(settings):
    kind = cache.metrics_name
    before = scrape(Client(), settings)
    key = f"metrics-{uuid.uuid4().hex}"

    assert cache.get(key) is None
    cache.set(key, "v", 30)
    assert cache.get(key) == "v"
    assert cache.get_many([key, key + "-missing"]) == {key: "v"}
    assert cache.get_or_set(key + "-gos", "w", 30) == "w"  # a get (miss), an add and a get (hit)

    after = scrape(Client(), settings)

    def moved(operation, result):
        labels = {"cache": kind, "operation": operation, "result": result}
        return sample(after, "citydesk_cache_requests_total", **labels) - sample(
            before, "citydesk_cache_requests_total", **labels
        )

    assert moved("get", "miss") == 2
    assert moved("get", "hit") == 2
    assert moved("set", "ok") == 1
    assert moved("add", "ok") == 1
    assert (moved("get_many", "hit"), moved("get_many", "miss")) == (1, 1)


def test_task_outcomes_are_counted(settings):
    from portal.celery import app as celery_app
    from portal.tasks import ping

    before = scrape(Client(), settings)

    ping.delay("metrics")
    # A worker does not propagate a task's error (eager tests do, and Celery then sends no task_failure).
    celery_app.conf.task_eager_propagates = False
    assert explode.delay().failed()

    after = scrape(Client(), settings)
    ping_ok = {"task": "portal.tasks.ping", "state": "succeeded"}
    boom = {"task": "portal.tests.test_metrics.explode", "state": "failed"}
    assert (
        sample(after, "citydesk_celery_tasks_total", **ping_ok)
        == sample(before, "citydesk_celery_tasks_total", **ping_ok) + 1
    )
    assert (
        sample(after, "citydesk_celery_tasks_total", **boom)
        == sample(before, "citydesk_celery_tasks_total", **boom) + 1
    )
    assert sample(after, "citydesk_celery_task_duration_seconds_count", task="portal.tasks.ping") >= 1


@pytest.mark.redis
def test_queue_length_is_read_from_the_broker_at_scrape_time(settings):
    import redis

    settings.CELERY_BROKER_URL = settings.REDIS_URL
    queue = f"metrics-queue-{uuid.uuid4().hex[:8]}"
    settings.MAILINGS_QUEUE = queue
    broker = redis.Redis.from_url(settings.REDIS_URL)
    try:
        broker.lpush(queue, "a", "b")
        broker.lpush(f"{queue}\x06\x163", "c")  # a priority list of the same queue

        samples = scrape(Client(), settings)

        assert sample(samples, "citydesk_celery_queue_length", queue=queue) == 3
    finally:
        broker.delete(queue, f"{queue}\x06\x163")


def test_a_failing_collector_does_not_break_the_scrape(settings):
    def broken():
        raise RuntimeError("collector down")

    metrics.collector_register("test-broken", broken)
    try:
        samples = scrape(Client(), settings)
    finally:
        metrics._collectors.pop("test-broken")

    assert ("citydesk_mailings_sending", frozenset()) in samples


# --- processes add up -------------------------------------------------------------------

MULTIPROCESS_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django
    django.setup()
    from portal import metrics

    metrics.multiprocess_clear()
    children = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            metrics.bookings_total.labels(result="created").inc()
            metrics.messages_total.labels(channel="telegram", result="sent").inc(5)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
        metrics.multiprocess_process_dead(pid)
    sys.stdout.write(metrics.exposition(include_collectors=False)[0].decode())
    """
)


def test_in_multiprocess_mode_the_processes_add_up(tmp_path):
    env = clean_environ(DJANGO_DEBUG="1", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"))

    result = subprocess.run(
        [sys.executable, "-c", MULTIPROCESS_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert 'citydesk_bookings_total{result="created"} 3.0' in result.stdout
    assert 'citydesk_messages_total{channel="telegram",result="sent"} 15.0' in result.stdout
