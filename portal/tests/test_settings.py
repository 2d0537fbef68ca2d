"""Settings are read from the environment; production refuses to guess secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _settings(env: dict, expr: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    clean.update(env)
    code = f"import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup(); from django.conf import settings as s; print({expr})"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_defaults_need_no_environment():
    result = _settings(
        {},
        "s.DEBUG, s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL, s.LANGUAGE_CODE, s.TIME_ZONE, s.USE_TZ",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True django.db.backends.sqlite3 django.core.cache.backends.locmem.LocMemCache filesystem:// ru Europe/Moscow True"
    )


def test_production_refuses_to_start_without_secret_key():
    result = _settings({"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "citydesk.ru"}, "s.DEBUG")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _settings({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60}, "s.DEBUG")

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr


def test_services_come_from_urls():
    result = _settings(
        {
            "DATABASE_URL": "postgres://u:p@db.example:5432/citydesk",
            "REDIS_URL": "redis://cache.example:6379/1",
            "ROBOKASSA_HASH": "SHA256",
        },
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST'], s.DATABASES['default']['CONN_MAX_AGE'], "
        "s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL, s.ROBOKASSA_HASH",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "db.example",
        "60",
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.example:6379/1",
        "sha256",
    ]


def test_explicit_broker_wins_over_redis():
    result = _settings(
        {"REDIS_URL": "redis://a:6379/0", "CELERY_BROKER_URL": "amqp://guest@mq//"}, "s.CELERY_BROKER_URL"
    )

    assert result.stdout.strip() == "amqp://guest@mq//"


def test_bad_robokassa_hash_is_refused():
    result = _settings({"ROBOKASSA_HASH": "crc32"}, "s.ROBOKASSA_HASH")

    assert result.returncode != 0
    assert "ROBOKASSA_HASH" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "k9#2mz!q8@v7x6c5b4n3m2l1k0j9h8g7f6d5s4a3p2o1i0u9y8t7r6e5w4q3",
            "DJANGO_ALLOWED_HOSTS": "citydesk.ru",
            "SITE_URL": "https://citydesk.ru",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sqlite_lets_concurrent_read_then_write_transactions_wait_instead_of_failing(tmp_path):
    # Two transactions that read and then write at the same time: with SQLite's
    # default (deferred) transactions the second write fails at once with
    # "database is locked"; `make run`'s web, worker and beat do exactly this.
    script = """
import threading, time
from django.db import connection, transaction
with connection.cursor() as c:
    c.execute("CREATE TABLE counter (n integer)")
    c.execute("INSERT INTO counter VALUES (0)")
errors, barrier = [], threading.Barrier(2)
def bump():
    try:
        barrier.wait()
        with transaction.atomic(), connection.cursor() as c:
            c.execute("SELECT n FROM counter")
            n = c.fetchone()[0]
            time.sleep(0.3)
            c.execute("UPDATE counter SET n = %s", [n + 1])
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connection.close()
threads = [threading.Thread(target=bump) for _ in range(2)]
[t.start() for t in threads]; [t.join() for t in threads]
with connection.cursor() as c:
    c.execute("SELECT n FROM counter")
    n = c.fetchone()[0]
    c.execute("PRAGMA journal_mode")
    mode = c.fetchone()[0]
print(errors, n, mode)
""".strip()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    code = "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup()\n" + script
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] 2 wal"


@pytest.mark.parametrize(
    "passwords",
    [
        {"ROBOKASSA_PASSWORD1": "real-secret-1"},  # Password2 left at its demo value
        {"ROBOKASSA_PASSWORD2": "real-secret-2"},  # Password1 left at its demo value
    ],
)
def test_a_live_robokassa_shop_refuses_to_start_with_a_demo_password(passwords):
    production = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "citydesk.ru"}
    live = {**production, "ROBOKASSA_IS_TEST": "0", "ROBOKASSA_LOGIN": "citydesk"}

    refused = _settings({**live, **passwords}, "s.ROBOKASSA_IS_TEST")
    started = _settings(
        {**live, "ROBOKASSA_PASSWORD1": "real-secret-1", "ROBOKASSA_PASSWORD2": "real-secret-2"}, "s.ROBOKASSA_IS_TEST"
    )

    assert refused.returncode != 0
    assert "ROBOKASSA_PASSWORD1/ROBOKASSA_PASSWORD2" in refused.stderr
    assert started.returncode == 0, started.stderr
