"""Settings are read from the environment; production refuses to guess secrets."""

import pytest

from portal.deploy_checks import insecure_settings
from portal.tests.production import PRODUCTION_ENV, run_manage, run_python

DEBUG_ON = {"DJANGO_DEBUG": "1"}


def _settings(env: dict, expr: str):
    return run_python(f"from django.conf import settings as s; print({expr})", env)


def test_debug_defaults_need_no_other_environment():
    result = _settings(
        DEBUG_ON,
        "s.DEBUG, s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], s.CELERY_BROKER_URL, s.LANGUAGE_CODE, s.TIME_ZONE, s.USE_TZ",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True django.db.backends.sqlite3 portal.metered_cache.LocMemCache filesystem:// ru Europe/Moscow True"
    )


def test_a_deployment_that_forgets_django_debug_is_a_production_one():
    # No DJANGO_DEBUG at all: debug is off, so the demo secrets are refused.
    refused = _settings({}, "s.DEBUG")
    started = _settings(
        {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_DEBUG"}, "s.DEBUG, s.ROBOKASSA_IS_TEST"
    )

    assert refused.returncode != 0
    assert "DJANGO_DEBUG is off" in refused.stderr
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["False", "False"]  # and Robokassa's test mode is off too


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
            **DEBUG_ON,
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
        "portal.metered_cache.RedisCache",
        "redis://cache.example:6379/1",
        "sha256",
    ]


def test_database_connections_are_persistent_without_health_checks_or_pooled_on_demand():
    postgres = {**DEBUG_ON, "DATABASE_URL": "postgres://u:p@db.example:5432/citydesk"}
    expr = (
        "s.DATABASES['default']['CONN_MAX_AGE'], s.DATABASES['default']['CONN_HEALTH_CHECKS'], "
        "s.DATABASES['default'].get('OPTIONS', {}).get('pool')"
    )

    default = _settings(postgres, expr)
    checked = _settings({**postgres, "DATABASE_HEALTH_CHECKS": "1", "DATABASE_CONN_MAX_AGE": "30"}, expr)
    pooled = _settings({**postgres, "DATABASE_POOL": "1", "DATABASE_POOL_MAX_SIZE": "8"}, expr)

    assert default.stdout.strip() == "60 False None", default.stderr
    assert checked.stdout.strip() == "30 True None", checked.stderr
    assert pooled.stdout.strip() == "0 False {'min_size': 1, 'max_size': 8}", pooled.stderr


def test_explicit_broker_wins_over_redis():
    result = _settings(
        {**DEBUG_ON, "REDIS_URL": "redis://a:6379/0", "CELERY_BROKER_URL": "amqp://guest@mq//"}, "s.CELERY_BROKER_URL"
    )

    assert result.stdout.strip() == "amqp://guest@mq//"


def test_bad_robokassa_hash_is_refused():
    result = _settings({**DEBUG_ON, "ROBOKASSA_HASH": "crc32"}, "s.ROBOKASSA_HASH")

    assert result.returncode != 0
    assert "ROBOKASSA_HASH" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

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
    result = run_python(script, {**DEBUG_ON, "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}"})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] 2 wal"


DEMO_OR_EMPTY = {
    "SECRET_KEY": ["", "insecure-local-development-key-citydesk-not-for-production", "django-insecure-abc"],
    "ROBOKASSA_LOGIN": ["", "citydesk-demo"],
    "ROBOKASSA_PASSWORD1": ["", "demo-password-1"],
    "ROBOKASSA_PASSWORD2": ["", "demo-password-2", " DEMO-PASSWORD-2 "],
}
REAL = {
    "SECRET_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"],
    "ROBOKASSA_LOGIN": "citydesk",
    "ROBOKASSA_PASSWORD1": "real-secret-1",
    "ROBOKASSA_PASSWORD2": "real-secret-2",
}


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in DEMO_OR_EMPTY.items() for value in values]
)
def test_each_empty_or_demo_secret_is_named(name, value):
    variable = "DJANGO_SECRET_KEY" if name == "SECRET_KEY" else name

    assert insecure_settings({**REAL, name: value}) == [variable]
    assert insecure_settings(REAL) == []


def test_storage_keys_count_only_when_uploads_go_to_s3():
    demo_keys = {"AWS_ACCESS_KEY_ID": "minioadmin", "AWS_SECRET_ACCESS_KEY": ""}

    assert insecure_settings({**REAL, **demo_keys}) == []
    assert insecure_settings({**REAL, **demo_keys, "AWS_STORAGE_BUCKET_NAME": "citydesk"}) == [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ]


@pytest.mark.parametrize(
    ("is_test", "variable", "value"),
    [
        ("1", "ROBOKASSA_PASSWORD2", "demo-password-2"),  # the finding: test mode let the demo Password2 through
        ("1", "ROBOKASSA_PASSWORD1", ""),
        ("0", "DJANGO_SECRET_KEY", "insecure-local-development-key-citydesk-not-for-production"),
        ("0", "ROBOKASSA_LOGIN", "citydesk-demo"),
    ],
)
def test_production_refuses_to_start_with_an_empty_or_demo_secret_whatever_robokassa_mode(is_test, variable, value):
    result = _settings({**PRODUCTION_ENV, "ROBOKASSA_IS_TEST": is_test, variable: value}, "s.DEBUG")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("is_test", ["0", "1"])
def test_production_starts_with_real_secrets_in_either_robokassa_mode(is_test):
    result = _settings({**PRODUCTION_ENV, "ROBOKASSA_IS_TEST": is_test}, "s.DEBUG")

    assert result.returncode == 0, result.stderr


def test_production_refuses_demo_storage_keys_when_uploads_go_to_s3():
    bucket = {"AWS_STORAGE_BUCKET_NAME": "citydesk", "AWS_ACCESS_KEY_ID": "citydesk"}

    refused = _settings({**PRODUCTION_ENV, **bucket, "AWS_SECRET_ACCESS_KEY": "citydesk-minio-secret"}, "s.DEBUG")
    started = _settings({**PRODUCTION_ENV, **bucket, "AWS_SECRET_ACCESS_KEY": "x7Gq2v-s3-secret"}, "s.DEBUG")

    assert refused.returncode != 0
    assert "AWS_SECRET_ACCESS_KEY" in refused.stderr.splitlines()[-1]
    assert started.returncode == 0, started.stderr


def test_check_deploy_reports_demo_secrets_and_robokassa_test_mode():
    # With debug on the settings start on the demo values; `check --deploy` names each of them.
    result = run_manage("check", "--deploy", env=DEBUG_ON)
    output = result.stdout + result.stderr

    assert result.returncode != 0
    for variable in ("DJANGO_SECRET_KEY", "ROBOKASSA_LOGIN", "ROBOKASSA_PASSWORD1", "ROBOKASSA_PASSWORD2"):
        assert f"(citydesk.E001) {variable} is empty or a known demo value" in output, output
    assert "(citydesk.W001) ROBOKASSA_IS_TEST is on" in output


def test_production_session_and_csrf_cookies_are_samesite_lax_and_secure():
    # SameSite=None let another site's <img> or form carry the session (finding: a GET from anywhere).
    result = _settings(
        PRODUCTION_ENV,
        "s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Lax", "Lax", "True", "True", "True"]


@pytest.mark.django_db
def test_the_session_cookie_is_set_samesite_lax(client, user):
    from portal.tests.factories import USER_PASSWORD

    response = client.post("/accounts/login/", {"login": user.email, "password": USER_PASSWORD})

    assert response.status_code == 302
    assert response.cookies["sessionid"]["samesite"] == "Lax"
