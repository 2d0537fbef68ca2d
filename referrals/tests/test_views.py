"""The site: signup with a referral code (field and ?ref= links) and the "my referrals" page."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import User
from referrals.models import Referral, ReferralCode
from referrals.tests.factories import ReferralCodeFactory, ReferralFactory

pytestmark = pytest.mark.django_db
SIGNUP = "/accounts/signup/"
PASSWORD = "a-very-good-pass-42"


def _signup(client, email, **extra):
    data = {"email": email, "password1": PASSWORD, "password2": PASSWORD, **extra}
    return client.post(SIGNUP, data)


def test_signup_form_has_the_optional_referral_field(client):
    response = client.get(SIGNUP)
    assert response.status_code == 200
    assert 'name="referral_code"' in response.content.decode()


def test_signup_with_the_field_records_the_referral_and_emails_the_referrer(
    client, other_user, django_capture_on_commit_callbacks
):
    code = ReferralCodeFactory(user=other_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(client, "newbie@example.com", referral_code=code.code.lower())

    assert response.status_code == 302
    newbie = User.objects.get(email="newbie@example.com")
    referral = Referral.objects.get(referred=newbie)
    assert referral.referrer == other_user and referral.source == "site"
    assert [m.to for m in mail.outbox if other_user.email in m.to] == [[other_user.email]]


def test_ref_link_prefills_the_field_and_is_remembered(client, other_user, django_capture_on_commit_callbacks):
    code = ReferralCodeFactory(user=other_user)

    # The visitor lands on the home page through a shared link, then opens the signup page.
    client.get(f"/?ref={code.code.lower()}")
    page = client.get(SIGNUP).content.decode()
    assert f'value="{code.code}"' in page

    # The share link goes straight to the signup page, too.
    page = client.get(f"{SIGNUP}?ref={code.code}").content.decode()
    assert f'value="{code.code}"' in page

    with django_capture_on_commit_callbacks(execute=True):
        _signup(client, "friend@example.com", referral_code=code.code)
    assert Referral.objects.get(referred__email="friend@example.com").referrer == other_user
    # used once: the session no longer carries the code
    assert "referral_code" not in client.session


@pytest.mark.parametrize(
    "make_code, expected_message",
    [
        (lambda u: "NOPE2345", "не найден"),
        (lambda u: ReferralCodeFactory(user=u, is_active=False).code, "не действует"),
        (lambda u: ReferralCodeFactory(user=u, expires_at=timezone.now() - timedelta(hours=1)).code, "истёк"),
    ],
)
def test_refused_code_is_a_field_error_before_the_account_exists(client, other_user, make_code, expected_message):
    code_text = make_code(other_user)

    response = _signup(client, "still-joins@example.com", referral_code=code_text)

    assert response.status_code == 200
    errors = response.context["form"].errors["referral_code"]
    assert any(expected_message in error for error in errors), errors
    assert not User.objects.filter(email="still-joins@example.com").exists()
    # Cleared, the same form signs up.
    assert _signup(client, "still-joins@example.com", referral_code="").status_code == 302


@pytest.mark.parametrize("with_code", [False, True])
def test_signup_answers_alike_for_a_registered_and_a_new_email(client, user, other_user, with_code):
    """Before: only a new account got "Referral code … applied" or "Your account was created, but…",
    and only its session forgot the ?ref= code, so a stranger could tell a registered email apart."""
    code = ReferralCodeFactory(user=other_user).code if with_code else ""

    def attempt(email):
        client.cookies.clear()
        client.get(f"{SIGNUP}?ref={code}" if code else SIGNUP)
        response = _signup(client, email, referral_code=code)
        texts = [str(m).replace(email, "<email>") for m in get_messages(response.wsgi_request)]
        form_again = client.get(SIGNUP).content.decode()
        return response.status_code, response["Location"], texts, f'value="{code}"' in form_again if code else None

    assert attempt(user.email) == attempt("brand-new@example.com")
    # Both addresses got mail; only their owners can tell which one it was.
    assert {m.to[0] for m in mail.outbox} >= {user.email, "brand-new@example.com"}


def test_signup_without_a_code_records_nothing(client):
    assert _signup(client, "plain@example.com").status_code == 302
    assert User.objects.filter(email="plain@example.com").exists()
    assert not Referral.objects.exists()


def test_my_referrals_needs_login(client):
    response = client.get(reverse("referrals:mine"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_my_referrals_page_shows_share_links_codes_and_friends(client, user, settings):
    code = ReferralCodeFactory(user=user)
    ReferralFactory(code=code, referred__first_name="Борис", referred__last_name="Орлов")
    client.force_login(user)

    page = client.get(reverse("referrals:mine")).content.decode()

    assert f"{settings.SITE_URL}/accounts/signup/?ref={code.code}" in page
    assert f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start=ref_{code.code}" in page
    assert "Борис Орлов" in page
    assert "Всего 1 друг" in page


def test_create_activate_deactivate_delete_through_the_page(client, user):
    client.force_login(user)

    response = client.post(reverse("referrals:code_create"), {"days": 14})
    assert response.status_code == 302
    code = ReferralCode.objects.get(user=user)
    assert code.is_active

    client.post(reverse("referrals:code_deactivate", args=[code.pk]))
    code.refresh_from_db()
    assert not code.is_active
    client.post(reverse("referrals:code_activate", args=[code.pk]))
    code.refresh_from_db()
    assert code.is_active
    client.post(reverse("referrals:code_delete", args=[code.pk]))
    assert not ReferralCode.objects.filter(pk=code.pk).exists()


def test_each_code_action_names_the_code_in_its_message(client, user):
    code = ReferralCodeFactory(user=user, code="MSGS2345")
    client.force_login(user)

    texts = []
    for name in ["code_deactivate", "code_activate", "code_delete"]:
        response = client.post(reverse(f"referrals:{name}", args=[code.pk]))
        texts.append(str(list(get_messages(response.wsgi_request))[-1]))

    assert all("MSGS2345" in text for text in texts), texts
    assert "удалён" in texts[-1]


def test_bad_lifetime_shows_the_error_next_to_the_field(client, user):
    client.force_login(user)
    response = client.post(reverse("referrals:code_create"), {"days": 9999})
    assert response.status_code == 400
    assert "invalid-feedback" in response.content.decode()
    assert not ReferralCode.objects.exists()


def test_another_users_code_cannot_be_touched_from_the_page(client, user, other_user):
    code = ReferralCodeFactory(user=other_user)
    client.force_login(user)
    for name in ["code_activate", "code_deactivate", "code_delete"]:
        response = client.post(reverse(f"referrals:{name}", args=[code.pk]), follow=True)
        assert response.status_code == 200
    code.refresh_from_db()
    assert code.is_active


def test_admin_lists_codes_and_referrals(staff_client):
    ReferralFactory()
    assert staff_client.get("/admin/referrals/referralcode/?usable=yes&q=T").status_code == 200
    assert staff_client.get("/admin/referrals/referral/?bonus_paid=no&q=example").status_code == 200
    assert staff_client.get("/admin/referrals/referral/?o=3").status_code == 200


def test_admin_cannot_switch_a_code_on_beside_the_active_one(staff_client):
    active = ReferralCodeFactory()
    spare = ReferralCodeFactory(user=active.user, is_active=False)

    response = staff_client.post(
        f"/admin/referrals/referralcode/{spare.pk}/change/",
        {"is_active": "on", "expires_at_0": "2030-01-01", "expires_at_1": "12:00:00"},
    )

    assert response.status_code == 403
    spare.refresh_from_db()
    active.refresh_from_db()
    assert active.is_active and not spare.is_active


def test_admin_deactivates_and_deletes_codes_through_the_services(staff_client, api_client):
    first, second = ReferralCodeFactory(), ReferralCodeFactory()
    lookup = "/api/v1/referrals/code/"
    for code in (first, second):
        assert api_client.get(lookup, {"email": code.user.email}).status_code == 200  # cached

    response = staff_client.post(
        "/admin/referrals/referralcode/", {"action": "deactivate_selected", "_selected_action": [first.pk]}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert not first.is_active
    assert api_client.get(lookup, {"email": first.user.email}).status_code == 404

    response = staff_client.post(
        "/admin/referrals/referralcode/",
        {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ReferralCode.objects.filter(pk=second.pk).exists()
    assert api_client.get(lookup, {"email": second.user.email}).status_code == 404


def test_my_referrals_page_query_count_does_not_grow_with_friends(client, user, django_assert_max_num_queries):
    code = ReferralCodeFactory(user=user)
    client.force_login(user)
    ReferralFactory(code=code)
    with django_assert_max_num_queries(100) as few:
        assert client.get(reverse("referrals:mine")).status_code == 200
    for _ in range(15):
        ReferralFactory(code=code)
        ReferralCodeFactory(user=user, is_active=False)

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("referrals:mine")).status_code == 200
