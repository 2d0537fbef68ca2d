import hashlib
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from billing import robokassa, services
from billing.models import LedgerEntry, Payment, PaymentCallback
from billing.selectors import balance_get
from billing.signals import topup_paid
from billing.tests.factories import PaymentFactory
from billing.tests.helpers import assert_ledger_invariant, robokassa_test_shop, run_concurrently
from mailings.models import Notification
from portal import errors
from portal.tests.factories import UserFactory

RESULT_URL = "/billing/robokassa/result/"


@pytest.fixture(autouse=True)
def _robokassa(settings):
    robokassa_test_shop(settings)
    settings.ROBOKASSA_PAYMENT_URL = ""


def h(alg, text):
    return hashlib.new(alg, text.encode()).hexdigest()


@pytest.mark.parametrize("alg", ["md5", "sha256", "sha512"])
def test_payment_url_signature_without_shp(settings, alg):
    settings.ROBOKASSA_HASH = alg

    url = robokassa.payment_url(amount=Decimal("500"), inv_id=42, description="Пополнение")

    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://auth.robokassa.ru/Merchant/Index.aspx"
    assert query["MerchantLogin"] == "shop"
    assert query["OutSum"] == "500.00"
    assert query["InvId"] == "42"
    assert query["Description"] == "Пополнение"
    assert query["IsTest"] == "1"
    assert query["Culture"] == "ru"
    assert query["SignatureValue"] == h(alg, "shop:500.00:42:pass-one")


@pytest.mark.parametrize("alg", ["md5", "sha256", "sha512"])
def test_payment_url_signature_with_sorted_shp(settings, alg):
    settings.ROBOKASSA_HASH = alg

    url = robokassa.payment_url(amount=Decimal("99.90"), inv_id=7, description="x", shp={"Shp_user": "5", "Shp_a": "z"})

    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["SignatureValue"] == h(alg, "shop:99.90:7:pass-one:Shp_a=z:Shp_user=5")
    assert query["Shp_user"] == "5"


def test_live_mode_has_no_is_test(settings):
    settings.ROBOKASSA_IS_TEST = False
    assert "IsTest" not in robokassa.payment_url(amount=Decimal("1"), inv_id=1, description="x")


def test_payment_url_base_is_overridable(settings):
    settings.ROBOKASSA_PAYMENT_URL = "http://127.0.0.1:9/fake/"
    assert robokassa.payment_url(amount=Decimal("1"), inv_id=1, description="x").startswith("http://127.0.0.1:9/fake/?")


def result_params(payment, *, alg="md5", out_sum=None, password="pass-two", shp=None, upper=False):  # noqa: S107
    out_sum = out_sum or f"{payment.amount:.6f}"
    shp = shp or {}
    text = ":".join([out_sum, str(payment.pk), password] + [f"{k}={v}" for k, v in sorted(shp.items())])
    sig = h(alg, text)
    return {"OutSum": out_sum, "InvId": str(payment.pk), "SignatureValue": sig.upper() if upper else sig, **shp}


def state(payment):
    payment.refresh_from_db()
    return payment.status, balance_get(user=payment.user), LedgerEntry.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("alg", ["md5", "sha256", "sha512"])
@pytest.mark.parametrize("shp", [{}, {"Shp_user": "1", "Shp_campaign": "spring"}])
def test_valid_result_credits_once_and_answers_ok(client, settings, django_capture_on_commit_callbacks, alg, shp):
    settings.ROBOKASSA_HASH = alg
    payment = PaymentFactory(amount=Decimal("500.00"))
    received = []
    topup_paid.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(RESULT_URL, result_params(payment, alg=alg, shp=shp, upper=True))
            again = client.get(RESULT_URL, result_params(payment, alg=alg, shp=shp))
    finally:
        topup_paid.disconnect(dispatch_uid="t")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == f"OK{payment.pk}"
    assert again.content.decode() == f"OK{payment.pk}"
    assert state(payment) == ("paid", Decimal("500.00"), 1)
    assert len(received) == 1
    assert received[0]["payment"].pk == payment.pk and received[0]["is_first_topup"] is True
    assert Notification.objects.filter(kind="topup_received", user=payment.user).count() == 1
    assert PaymentCallback.objects.filter(payment=payment, is_valid=True).count() == 2
    assert_ledger_invariant()


@pytest.mark.django_db
def test_staff_are_notified_once_per_paid_topup(client, staff_user, django_capture_on_commit_callbacks):
    payment = PaymentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(RESULT_URL, result_params(payment))
        client.post(RESULT_URL, result_params(payment))
    notes = Notification.objects.filter(kind="topup_paid", user=staff_user)
    assert notes.count() == 1
    assert notes.get().dedupe_key == f"topup:{payment.pk}:staff:{staff_user.pk}"
    assert "500" in notes.get().subject


@pytest.mark.django_db
def test_second_topup_is_not_first(client):
    first = PaymentFactory()
    second = PaymentFactory(user=first.user)
    flags = []
    topup_paid.connect(lambda **kw: flags.append(kw["is_first_topup"]), weak=False, dispatch_uid="t2")
    try:
        client.post(RESULT_URL, result_params(first))
        client.post(RESULT_URL, result_params(second))
    finally:
        topup_paid.disconnect(dispatch_uid="t2")
    assert flags == [True, False]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p, params: {**params, "SignatureValue": "0" * 32}, id="forged-signature"),
        pytest.param(lambda p, params: result_params(p, password="pass-one"), id="password1-instead-of-2"),
        pytest.param(lambda p, params: result_params(p, out_sum="5000.000000"), id="wrong-amount-signed"),
        pytest.param(lambda p, params: {**params, "OutSum": "5000.000000"}, id="wrong-amount-unsigned"),
        pytest.param(lambda p, params: {**params, "Shp_user": "2"}, id="added-shp"),
        pytest.param(lambda p, params: {k: v for k, v in params.items() if k != "SignatureValue"}, id="no-signature"),
        pytest.param(lambda p, params: {k: v for k, v in params.items() if k != "InvId"}, id="no-invid"),
        pytest.param(lambda p, params: {k: v for k, v in params.items() if k != "OutSum"}, id="no-outsum"),
        pytest.param(lambda p, params: {}, id="empty"),
        pytest.param(lambda p, params: {**params, "OutSum": "abc"}, id="garbage-amount"),
    ],
)
def test_bad_result_callbacks_are_rejected_and_change_nothing(client, tamper):
    payment = PaymentFactory()
    params = tamper(payment, result_params(payment))

    response = client.post(RESULT_URL, params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert state(payment) == ("pending", Decimal("0.00"), 0)


@pytest.mark.django_db
def test_unknown_invid_is_rejected(client):
    payment = PaymentFactory()
    ghost = Payment(pk=payment.pk + 1000, amount=payment.amount)
    response = client.post(RESULT_URL, result_params(ghost))
    assert response.status_code == 400
    assert state(payment) == ("pending", Decimal("0.00"), 0)
    assert PaymentCallback.objects.filter(is_valid=False).count() == 1


@pytest.mark.django_db
def test_success_page_checks_password1_and_never_credits(client):
    payment = PaymentFactory()
    client.force_login(payment.user)
    params = result_params(payment, password="pass-one")

    ok = client.get("/billing/robokassa/success/", params)
    forged = client.get("/billing/robokassa/success/", result_params(payment))  # Password2 is not valid here

    assert ok.status_code == 200
    assert forged.status_code == 400
    assert state(payment) == ("pending", Decimal("0.00"), 0)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_fail_page_only_shows_and_a_late_result_still_credits(client, method):
    # FailURL is unsigned: an <img src=".../fail/?InvId=…"> on another site must change nothing.
    payment = PaymentFactory()
    client.force_login(payment.user)

    response = getattr(client, method)("/billing/robokassa/fail/", {"InvId": payment.pk, "OutSum": "500.00"})

    assert response.status_code == 200
    assert "Оплата не завершена" in response.content.decode()
    assert state(payment) == ("pending", Decimal("0.00"), 0)
    assert not PaymentCallback.objects.exists()
    assert client.post(RESULT_URL, result_params(payment)).status_code == 200
    assert state(payment) == ("paid", Decimal("500.00"), 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_identical_callbacks_credit_once():
    payment = PaymentFactory(amount=Decimal("750.00"))
    params = result_params(payment)
    answers = []

    run_concurrently(lambda: answers.append(Client().post(RESULT_URL, params).content.decode()), [()] * 50)

    assert answers == [f"OK{payment.pk}"] * 50
    assert state(payment) == ("paid", Decimal("750.00"), 1)
    assert LedgerEntry.objects.filter(idempotency_key=f"topup:{payment.pk}").count() == 1
    assert_ledger_invariant()


@pytest.mark.django_db
def test_payment_result_service_rejects_reused_invid_of_other_amount():
    user = UserFactory()
    payment = services.payment_create(user=user, amount="300")
    params = result_params(payment)
    services.payment_result(params=params)
    assert state(payment) == ("paid", Decimal("300.00"), 1)

    with pytest.raises(errors.ValidationError) as exc:
        services.payment_result(params=result_params(payment, out_sum="3000.000000"))
    assert exc.value.code == "amount_mismatch"
    assert state(payment) == ("paid", Decimal("300.00"), 1)


@pytest.mark.django_db
def test_rejected_result_callback_is_kept_on_the_payment_it_names(client):
    payment = PaymentFactory()

    response = client.post(RESULT_URL, result_params(payment, out_sum="5000.000000"))

    assert response.status_code == 400
    rejected = PaymentCallback.objects.get(kind="result")
    assert (rejected.payment, rejected.is_valid, rejected.error) == (payment, False, "amount mismatch")
    assert state(payment) == ("pending", Decimal("0.00"), 0)


@pytest.mark.django_db
@pytest.mark.parametrize("inv_id", ["", "abc", "²", "9" * 30])
def test_rejected_result_callback_with_a_strange_invid_is_kept_without_a_payment(client, inv_id):
    response = client.post(RESULT_URL, {"OutSum": "500.000000", "InvId": inv_id, "SignatureValue": "0" * 32})

    assert response.status_code == 400
    assert PaymentCallback.objects.get().payment is None


@pytest.mark.django_db
def test_success_redirects_are_kept_for_audit_valid_or_not(client):
    payment = PaymentFactory()

    client.get("/billing/robokassa/success/", result_params(payment, password="pass-one"))
    client.get("/billing/robokassa/success/", result_params(payment))  # Password2: not valid here

    kept = PaymentCallback.objects.filter(kind="success", payment=payment).order_by("pk")
    assert [(c.is_valid, c.error) for c in kept] == [(True, ""), (False, "bad signature")]


@pytest.mark.django_db
@pytest.mark.parametrize("inv_id", ["", "abc", "²", "9" * 30])
def test_fail_page_with_a_strange_invid_changes_nothing(client, inv_id):
    payment = PaymentFactory()
    client.force_login(payment.user)

    assert client.get("/billing/robokassa/fail/", {"InvId": inv_id}).status_code == 200
    assert state(payment) == ("pending", Decimal("0.00"), 0)


GARBAGE_CALLBACKS = [
    pytest.param({"OutSum": "1e999", "InvId": "1", "SignatureValue": "x"}, id="huge-sum"),
    pytest.param({"OutSum": "NaN", "InvId": "9" * 30, "SignatureValue": "x"}, id="nan-and-huge-invid"),
    pytest.param({"OutSum": "\x00", "InvId": "\x00", "SignatureValue": "\x00", "Shp_a": "\x00"}, id="nul-bytes"),
    pytest.param({"OutSum": "500", "InvId": "1", "SignatureValue": "подпись"}, id="non-ascii-signature"),
    pytest.param({"OutSum": "500", "InvId": "-1", "SignatureValue": "0" * 32}, id="negative-invid"),
    pytest.param({"Shp_" + "a" * 5000: "b" * 100_000}, id="huge-shp"),
    pytest.param({}, id="empty"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("params", GARBAGE_CALLBACKS)
@pytest.mark.parametrize("path", [RESULT_URL, "/billing/robokassa/success/", "/billing/robokassa/fail/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_garbage_callbacks_are_answered_without_a_server_error_and_credit_nothing(client, path, method, params):
    payment = PaymentFactory()

    response = getattr(client, method)(path, params)

    assert response.status_code == (200 if path.endswith("/fail/") else 400)
    assert state(payment) == ("pending", Decimal("0.00"), 0)
