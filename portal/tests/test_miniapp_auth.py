import threading
import time

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import connection

from portal.miniapp_auth import (
    MiniAppAuthError,
    telegram_init_data_verify,
    telegram_user_from_init_data,
    vk_launch_params_verify,
    vk_sign,
)
from portal.models import User
from portal.services import user_block
from portal.tests.miniapp_signing import BOT_TOKEN, VK_SECRET, telegram_init_data, vk_launch_params

PUBLISHED_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
PUBLISHED_INIT_DATA = (
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C"
    "%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C"
    "%22is_premium%22%3Atrue%7D&auth_date=1662771648&hash=c501b71e775f74ce10e377dea85a7ea24ecd640b223ea86dfe453e0eaed2e2b2"
)
PUBLISHED_VK_SECRET = "wvl68m4dR1UpLrVRli"
PUBLISHED_VK_QUERY = (
    "vk_user_id=494075&vk_app_id=6736218&vk_is_app_user=1&vk_are_notifications_enabled=1&vk_language=ru"
    "&vk_access_token_settings=&vk_platform=android"
)
PUBLISHED_VK_SIGN = "htQFduJpLxz7ribXRZpDFUH-XEUhC9rBPTJkjUFEkRA"


@pytest.fixture(autouse=True)
def _miniapp_settings(settings):
    settings.TELEGRAM_BOT_TOKEN = BOT_TOKEN
    settings.VK_APP_SECRET = VK_SECRET
    settings.MINIAPP_AUTH_MAX_AGE = 86400


# --- the published vectors ------------------------------------------------------------


def test_telegram_published_vector_validates():
    params = telegram_init_data_verify(PUBLISHED_INIT_DATA, bot_token=PUBLISHED_TOKEN, max_age=None)

    assert telegram_user_from_init_data(params)["id"] == 279058397
    assert params["auth_date"] == "1662771648"


def test_telegram_published_vector_is_stale_with_the_age_check_on():
    with pytest.raises(MiniAppAuthError) as exc:
        telegram_init_data_verify(PUBLISHED_INIT_DATA, bot_token=PUBLISHED_TOKEN, max_age=86400)
    assert exc.value.code == "miniapp_expired"


def test_telegram_published_vector_fails_with_another_token():
    with pytest.raises(MiniAppAuthError) as exc:
        telegram_init_data_verify(PUBLISHED_INIT_DATA, bot_token=BOT_TOKEN, max_age=None)
    assert exc.value.code == "miniapp_bad_signature"


def test_vk_published_vector_signs_as_published():
    from urllib.parse import parse_qsl

    params = dict(parse_qsl(PUBLISHED_VK_QUERY, keep_blank_values=True))

    assert vk_sign(params, secret=PUBLISHED_VK_SECRET) == PUBLISHED_VK_SIGN
    verified = vk_launch_params_verify(
        f"{PUBLISHED_VK_QUERY}&sign={PUBLISHED_VK_SIGN}", secret=PUBLISHED_VK_SECRET, max_age=None
    )
    assert verified["vk_user_id"] == "494075"


def test_vk_published_vector_fails_with_another_secret():
    with pytest.raises(MiniAppAuthError):
        vk_launch_params_verify(f"{PUBLISHED_VK_QUERY}&sign={PUBLISHED_VK_SIGN}", secret=VK_SECRET, max_age=None)


def test_telegram_signature_field_is_part_of_the_checked_data():
    init_data = telegram_init_data(signature="abc123")
    assert telegram_init_data_verify(init_data, bot_token=BOT_TOKEN, max_age=60)["signature"] == "abc123"

    tampered = init_data.replace("signature=abc123", "signature=abc124")
    with pytest.raises(MiniAppAuthError):
        telegram_init_data_verify(tampered, bot_token=BOT_TOKEN, max_age=60)


# --- the API with fresh signatures ------------------------------------------------------


@pytest.mark.django_db
def test_fresh_telegram_init_data_signs_in_and_creates_one_user(api_client):
    init_data = telegram_init_data(user={"id": 42, "first_name": "Анна", "last_name": "Иванова", "username": "anna"})

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {init_data}")

    assert response.status_code == 200, response.content
    assert response.json()["first_name"] == "Анна"
    account = SocialAccount.objects.get(provider="telegram", uid="42")
    assert account.user.last_name == "Иванова"
    assert account.extra_data["username"] == "anna"
    # the same identity again is the same user
    again = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': 42})}")
    assert again.json()["id"] == response.json()["id"]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_fresh_vk_launch_params_sign_in(api_client):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"vk {vk_launch_params(user_id=777)}")

    assert response.status_code == 200, response.content
    account = SocialAccount.objects.get(provider="vk", uid="777")
    assert response.json()["id"] == account.user_id
    assert "sign" not in account.extra_data
    assert api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"vk {vk_launch_params(user_id=777)}").status_code == 200
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_start_param_is_kept_and_a_referral_code_is_tried_on_first_sign_in(api_client, caplog):
    init_data = telegram_init_data(user={"id": 5}, start_param="ref_FRIEND1")

    with caplog.at_level("INFO", logger="portal.services"):
        response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {init_data}")

    # a refused referral (placeholder or unknown code) never blocks the sign-up
    assert response.status_code == 200
    assert SocialAccount.objects.get(uid="5").extra_data["start_param"] == "ref_FRIEND1"


def _now():
    return int(time.time())


def _changed_parameter():
    return telegram_init_data().replace("query_id=AAHdF6IQAAAAAN0XohDhrOrc", "query_id=AAHdF6IQAAAAAN0XohDhrOrd")


def _changed_user():
    init = telegram_init_data(user={"id": 1000, "first_name": "A"})
    return init.replace("1000", "1001")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "code"),
    [
        pytest.param(lambda: f"tma {_changed_parameter()}", "miniapp_bad_signature", id="changed-parameter"),
        pytest.param(lambda: f"tma {_changed_user()}", "miniapp_bad_signature", id="changed-user-id"),
        pytest.param(lambda: f"tma {telegram_init_data(auth_date=_now() - 86400 - 5)}", "miniapp_expired", id="stale"),
        pytest.param(lambda: f"tma {telegram_init_data(auth_date=_now() + 3600)}", "miniapp_future", id="future"),
        pytest.param(lambda: f"tma {telegram_init_data()[:-10]}", "miniapp_bad_signature", id="truncated"),
        pytest.param(lambda: f"tma {telegram_init_data().split('&hash=')[0]}", "miniapp_malformed", id="no-hash"),
        pytest.param(lambda: "tma ", "miniapp_malformed", id="empty"),
        pytest.param(lambda: "tma", "miniapp_malformed", id="keyword-only"),
        pytest.param(lambda: "tma \x00\x01\x02ÿþ garbage", "miniapp_malformed", id="garbage-bytes"),
        pytest.param(lambda: "tma %%%&&&===", "miniapp_malformed", id="garbage-query"),
        pytest.param(lambda: "tma " + "a=b&" * 5000, "miniapp_malformed", id="too-long"),
        pytest.param(
            lambda: f"tma {telegram_init_data(bot_token='999:other-bot')}", "miniapp_bad_signature", id="other-bot"
        ),
        pytest.param(
            lambda: f"tma {telegram_init_data(user='not json')}".replace("%22not+json%22", "not+json"),
            "miniapp_bad_signature",
            id="user-not-json-unsigned",
        ),
        pytest.param(lambda: f"tma {telegram_init_data()}&hash=0", "miniapp_malformed", id="duplicate-hash"),
        pytest.param(
            lambda: f"vk {vk_launch_params()}".replace("vk_user_id=494075", "vk_user_id=1"),
            "miniapp_bad_signature",
            id="vk-changed-user",
        ),
        pytest.param(lambda: f"vk {vk_launch_params(ts=_now() - 90000)}", "miniapp_expired", id="vk-stale"),
        pytest.param(lambda: f"vk {vk_launch_params(ts=_now() + 3600)}", "miniapp_future", id="vk-future"),
        pytest.param(lambda: f"vk {vk_launch_params()[:-5]}", "miniapp_bad_signature", id="vk-truncated"),
        pytest.param(lambda: "vk \x7f\x80garbage", "miniapp_malformed", id="vk-garbage"),
        pytest.param(lambda: f"vk {vk_launch_params(secret='other')}", "miniapp_bad_signature", id="vk-other-secret"),
    ],
)
def test_bad_launch_data_is_401_with_a_clear_detail(api_client, header, code):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header())

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_signed_launch_data_without_a_user_is_401(api_client):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'name': 'x'})}")

    assert response.status_code == 401
    assert response.json()["code"] == "miniapp_malformed"


@pytest.mark.django_db
def test_vk_without_timestamp_is_401(api_client):
    from urllib.parse import parse_qsl, urlencode

    params = dict(parse_qsl(PUBLISHED_VK_QUERY, keep_blank_values=True))
    params["sign"] = vk_sign(params, secret=VK_SECRET)

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"vk {urlencode(params)}")

    assert response.status_code == 401


@pytest.mark.django_db
def test_missing_credentials_is_401_with_the_scheme(api_client):
    response = api_client.get("/api/v1/me/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "tma"


@pytest.mark.django_db
def test_not_configured_is_401_not_500(api_client, settings):
    settings.TELEGRAM_BOT_TOKEN = ""

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data()}")

    assert response.status_code == 401
    assert response.json()["code"] == "miniapp_not_configured"


@pytest.mark.django_db
def test_blocked_user_gets_403_user_blocked_from_the_mini_app(api_client, staff_user):
    api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': 9})}")
    user_block(user=SocialAccount.objects.get(uid="9").user, reason="spam", by=staff_user)

    for path in ("/api/v1/me/", "/api/v1/tickets/", "/api/v1/auth/miniapp/"):
        method = api_client.post if path.endswith("miniapp/") else api_client.get
        response = method(path, HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': 9})}")
        assert response.status_code == 403, path
        assert response.json()["code"] == "user_blocked"


@pytest.mark.django_db
def test_miniapp_session_opens_a_django_session_for_the_pages(client):
    response = client.post("/api/v1/auth/miniapp/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': 77})}")

    assert response.status_code == 200
    assert response.json()["id"] == SocialAccount.objects.get(uid="77").user_id
    # the session cookie now opens the HTML pages and the API without the header
    assert client.get("/profile/").status_code == 200
    assert client.get("/api/v1/me/").json()["id"] == response.json()["id"]


@pytest.mark.django_db
def test_miniapp_session_needs_launch_data(client, user):
    client.force_login(user)

    response = client.post("/api/v1/auth/miniapp/")

    assert response.status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_sign_ins_create_exactly_one_user():
    from rest_framework.test import APIClient

    header = f"tma {telegram_init_data(user={'id': 31337, 'first_name': 'Гонка'})}"
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results: list = []

    def sign_in():
        try:
            barrier.wait()
            response = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=header)
            results.append((response.status_code, response.json().get("id")))
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _id in results] == [200] * threads_count
    assert len({user_id for _status, user_id in results}) == 1
    assert User.objects.count() == 1
    assert SocialAccount.objects.filter(provider="telegram", uid="31337").count() == 1


@pytest.mark.django_db
def test_first_sign_in_with_a_valid_referral_code_records_the_referral(
    api_client, user, django_capture_on_commit_callbacks
):
    from referrals.models import Referral
    from referrals.services import referral_code_create

    code = referral_code_create(user=user).code
    init_data = telegram_init_data(user={"id": 8080, "first_name": "Друг"}, start_param=f"ref_{code}")

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {init_data}")

    assert response.status_code == 200
    referral = Referral.objects.get()
    assert (referral.referrer, referral.referred_id) == (user, response.json()["id"])


@pytest.mark.django_db
@pytest.mark.parametrize("user_id", [0, -5, 2**64, 10**300, "42", 1.5, True, None])
def test_signed_but_impossible_user_ids_are_401(api_client, user_id):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': user_id})}")

    assert response.status_code == 401
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_huge_vk_user_id_is_401(api_client):
    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"vk {vk_launch_params(user_id=10**40)}")

    assert response.status_code == 401


@pytest.mark.django_db
def test_deactivated_user_is_401(api_client):
    api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': 11})}")
    User.objects.update(is_active=False)

    response = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"tma {telegram_init_data(user={'id': 11})}")

    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


@pytest.mark.django_db
def test_miniapp_session_is_throttled_with_retry_after(api_client, settings):
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["sensitive"]
    limit = int(rate.split("/")[0])
    header = f"tma {telegram_init_data(user={'id': 4242})}"
    for _ in range(limit):
        assert api_client.post("/api/v1/auth/miniapp/", HTTP_AUTHORIZATION=header).status_code == 200

    response = api_client.post("/api/v1/auth/miniapp/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert response.json()["retry_after"] > 0


# --- garbage launch data: always 401, never 400 or 500 ----------------------------------


def _signed(fields: dict, safe: str = "") -> str:
    """Launch data with a valid Telegram signature over whatever ``fields`` hold (``safe``: left unescaped)."""
    import hashlib
    import hmac
    from urllib.parse import urlencode

    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", BOT_TOKEN.encode(), hashlib.sha256).digest()
    return urlencode({**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()}, safe=safe)


def _signed_vk(**extra) -> str:
    from urllib.parse import parse_qsl, urlencode

    params = dict(parse_qsl(vk_launch_params(**extra), keep_blank_values=True))
    params.pop("sign")
    params.update(extra)
    params["sign"] = vk_sign(params, secret=VK_SECRET)
    return urlencode(params)


GARBAGE_LAUNCH_DATA = [
    # anyone can send these
    pytest.param(lambda: "tma ;;;", id="not-a-query-string"),
    pytest.param(lambda: "tma =", id="empty-key"),
    pytest.param(lambda: "tma user=%7B&auth_date=1", id="no-hash"),
    pytest.param(lambda: "tma hash=", id="empty-hash"),
    pytest.param(lambda: "tma user=%ZZ&hash=00", id="bad-percent-escape"),
    pytest.param(lambda: "tma a=%00&hash=00", id="nul-unsigned"),
    pytest.param(lambda: "TMA\tx=1", id="tab-separator"),
    pytest.param(lambda: "vk sign=", id="vk-empty-sign"),
    pytest.param(lambda: "vk vk_user_id=abc&vk_ts=now&sign=x", id="vk-garbage-values"),
    # signed (the platform's or a leaked key), but garbage inside
    pytest.param(lambda: "tma " + _signed({"user": "{not json", "auth_date": str(_now())}), id="signed-bad-json"),
    pytest.param(
        lambda: "tma " + _signed({"user": "[" * 2000 + "]" * 2000, "auth_date": str(_now())}, safe="[]"),
        id="signed-recursion-deep-json",
    ),
    pytest.param(
        lambda: "tma " + _signed({"user": '{"id": 5, "x": [[[[[[1]]]]]]}', "auth_date": str(_now())}), id="nest"
    ),
    pytest.param(lambda: "tma " + _signed({"user": '{"id": 5}', "auth_date": "yesterday"}), id="signed-text-date"),
    pytest.param(lambda: "tma " + _signed({"user": '{"id": 5}'}), id="signed-no-date"),
    pytest.param(lambda: "tma " + _signed({"user": '{"id": "5"}', "auth_date": str(_now())}), id="signed-text-id"),
    pytest.param(
        lambda: "tma " + _signed({"user": '{"id": 5, "first_name": "a\\u0000b"}', "auth_date": str(_now())}),
        id="signed-nul-in-user",
    ),
    pytest.param(
        lambda: "tma " + _signed({"user": '{"id": 6}', "auth_date": str(_now()), "start_param": "ref_\x00"}),
        id="signed-nul-in-start-param",
    ),
    pytest.param(lambda: "vk " + _signed_vk(vk_language="r\x00u"), id="vk-signed-nul"),
    pytest.param(lambda: "vk " + _signed_vk(vk_ts="yesterday"), id="vk-signed-text-ts"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("header", GARBAGE_LAUNCH_DATA)
@pytest.mark.parametrize(("method", "path"), [("get", "/api/v1/me/"), ("post", "/api/v1/auth/miniapp/")])
def test_garbage_launch_data_is_401_like_any_invalid_signature(api_client, header, method, path):
    response = getattr(api_client, method)(path, HTTP_AUTHORIZATION=header())

    assert response.status_code == 401, response.content
    assert response.json()["detail"] and response.json()["code"]
    assert User.objects.count() == 0
