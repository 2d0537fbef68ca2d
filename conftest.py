"""Fixtures shared by every app's tests.

The suite runs the development configuration: DJANGO_DEBUG on (embedded
defaults, demo payment values, the development URLs with the local fake
Robokassa). Tests of production behaviour start a subprocess with an
environment of their own. This module sets both variables before anything
loads the settings (DJANGO_SETTINGS_MODULE is deliberately not in
pyproject.toml, or pytest-django would load them before this file runs) and
sets Django up; pytest-django takes over from there.
"""

import contextlib
import os
import threading
from datetime import datetime, timedelta

os.environ["DJANGO_DEBUG"] = "1"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

import pytest  # noqa: E402
from django.conf import settings  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_side_effects(settings, tmp_path):
    """Each test gets its own media folder, a clean cache, eager Celery and fast password hashing."""
    from portal.celery import app as celery_app

    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Sign-in tests check many passwords (lockouts, 2FA, re-authentication); a fast
    # hasher keeps each check cheap. Production keeps Django's default (PBKDF2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    _clear_own_cache()
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    _clear_own_cache()


def _clear_own_cache() -> None:
    """Forget this test process's cache entries only.

    ``cache.clear()`` on Redis flushes the whole database, which would wipe the
    entries of other test processes sharing it (xdist workers, parallel runs).
    """
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    default = caches["default"]
    if not isinstance(default, RedisCache):  # Django's, or portal.metered_cache's subclass
        default.clear()
        return
    client = default._cache.get_client(write=True)
    pattern = f"{default.key_prefix}:*" if default.key_prefix else "*"
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)


def pytest_collection_modifyitems(config, items):
    is_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL)")
    for item in items:
        if "postgres" in item.keywords and not is_postgres:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(skip_redis)


@pytest.fixture
def user(db):
    from portal.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def other_user(db):
    from portal.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff_user(db):
    """A superuser with an activated authenticator app (staff need 2FA for the admin)."""
    from portal.tests.factories import UserFactory
    from portal.tests.mfa import totp_activate

    staff = UserFactory(is_staff=True, is_superuser=True)
    totp_activate(staff)
    return staff


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user_api(user):
    """An APIClient logged in (session) as ``user``."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    """``client`` signed in as ``staff_user`` with the TOTP step passed, as after a real sign-in."""
    from portal.tests.mfa import session_pass_second_factor

    client.force_login(staff_user)
    session_pass_second_factor(client, staff_user)
    return client


@pytest.fixture
def reauthenticated_staff_client(staff_client, staff_user):
    """``staff_client`` that has just re-entered the password (grants and blocks ask for it)."""
    from portal.tests.mfa import session_reauthenticate

    session_reauthenticate(staff_client, staff_user)
    return staff_client


@pytest.fixture
def fake_telegram(settings):
    """A local fake Telegram Bot API the real python-telegram-bot talks to (limits raised)."""
    from mailings.testing.fake_telegram import FakeTelegram

    with FakeTelegram(global_rate=1000, per_chat_rate=5) as fake:
        settings.TELEGRAM_BOT_TOKEN = "123456:TEST-token"
        settings.TELEGRAM_API_BASE_URL = fake.base_url
        settings.TELEGRAM_RATE_GLOBAL = "1000/second"
        settings.TELEGRAM_RATE_PER_CHAT = "5/second"
        yield fake


@pytest.fixture
def fake_vk(settings):
    """A local fake VK API the real vk-api client talks to (limit raised)."""
    from mailings.testing.fake_vk import FakeVK

    with FakeVK(group_id=77) as fake:
        settings.VK_GROUP_TOKEN = "vk-group-token"
        settings.VK_GROUP_ID = "77"
        settings.VK_API_BASE_URL = fake.base_url
        settings.VK_RATE = "1000/second"
        yield fake


@pytest.fixture
def midday():
    """Today at noon, Moscow time, with the clock running: a test about "today" whose data lies
    minutes ahead (a booking starting in 20 minutes) stays on one day whenever the suite runs."""
    import time_machine
    from django.utils import timezone

    today = timezone.localdate()
    noon = timezone.make_aware(datetime.combine(today, datetime.min.time()) + timedelta(hours=12))
    with time_machine.travel(noon, tick=True):
        yield noon


@pytest.fixture
def celery_retries_in_place():
    """Eager tasks normally raise Celery's Retry to the caller; with this they run their retries in place."""
    from portal.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@pytest.fixture
def row_locked_elsewhere():
    """``with row_locked_elsewhere(obj):`` another connection holds ``SELECT … FOR UPDATE`` on obj's row.

    Inside, this connection gives up waiting for a lock after ``lock_timeout``.
    Needs ``django_db(transaction=True)``: the other connection sees only committed rows.
    """
    from django.db import connection, transaction

    def set_lock_timeout(value: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, false)", [value])

    @contextlib.contextmanager
    def hold(obj, *, lock_timeout: str = "200ms"):
        locked, release = threading.Event(), threading.Event()

        def lock_the_row():
            try:
                with transaction.atomic():
                    type(obj).objects.select_for_update().get(pk=obj.pk)
                    locked.set()
                    release.wait(10)
            finally:
                connection.close()

        holder = threading.Thread(target=lock_the_row)
        holder.start()
        try:
            assert locked.wait(10), "the other connection never got the lock"
            set_lock_timeout(lock_timeout)
            yield
        finally:
            release.set()
            holder.join()
            set_lock_timeout("0")

    return hold


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 API (moto in server mode) on a free local port, for the whole session.

    Started by the tests themselves, so CI needs nothing extra; its state lives
    in this process and disappears with it.
    """
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server):
    """Uploads go to a fresh bucket of the local S3 server through django-storages, as in production.

    Yields a boto3 client of that server; the bucket's name is ``settings.AWS_STORAGE_BUCKET_NAME``.
    """
    import uuid

    import boto3

    bucket = f"citydesk-test-{uuid.uuid4().hex[:12]}"
    # The AWS_* settings first: the storage is built anew when STORAGES changes (last).
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_ACCESS_KEY_ID = "citydesk-test-key"
    settings.AWS_SECRET_ACCESS_KEY = "citydesk-test-secret"
    settings.AWS_S3_REGION_NAME = "us-east-1"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    yield client
    objects = client.list_objects_v2(Bucket=bucket).get("Contents", [])
    if objects:
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": o["Key"]} for o in objects]})
    client.delete_bucket(Bucket=bucket)
