"""No answer tells a stranger whether an email is registered (SPEC, API section).

The audit of every answer that takes an email: signup and the referral field
(referrals/tests/test_views.py), booking invitations (bookings tests), the
referral lookup (referrals/tests/test_lookup.py), and here the account pages
allauth serves: login, password reset and adding an email to one's account.
"""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Right-pass-123"


@pytest.fixture
def registered():
    user = UserFactory()
    user.set_password(PASSWORD)
    user.save()
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def _messages(response, email):
    return [str(m).replace(email, "<email>") for m in get_messages(response.wsgi_request)]


def test_login_refuses_a_registered_and_an_unknown_email_alike(client, registered):
    answers = []
    for email in (registered.email, "nobody@example.com"):
        response = client.post(reverse("account_login"), {"login": email, "password": "Wrong-pass-123"})
        answers.append((response.status_code, response.context["form"].errors.as_json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200


def test_password_reset_answers_alike_and_mails_only_the_address_typed(client, registered):
    answers = []
    for email in (registered.email, "nobody@example.com"):
        response = client.post(reverse("account_reset_password"), {"email": email})
        answers.append((response.status_code, response["Location"], _messages(response, email)))
    assert answers[0] == answers[1]
    assert answers[0][1] == reverse("account_reset_password_done")
    # Each address got one mail; only its owner learns which kind.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([registered.email, "nobody@example.com"])


def test_adding_an_email_of_another_account_looks_like_adding_a_free_one(client, registered):
    client.force_login(UserFactory())
    answers = []
    for email in (registered.email, "free@example.com"):
        response = client.post(reverse("account_email"), {"action_add": "", "email": email}, follow=True)
        listed = email in response.content.decode()
        answers.append((response.status_code, response.redirect_chain, _messages(response, email), listed))
    assert answers[0] == answers[1]
