"""Audiences that only the apps above mailings can resolve are registered by them at ready()."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from mailings import selectors
from mailings.models import Mailing
from portal.models import User
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_apps_above_register_owners_city_and_active_owners():
    registered = {audience for audience, resolvers in selectors._audience_resolvers.items() if resolvers}

    assert registered == {Mailing.Audience.OWNERS, Mailing.Audience.ACTIVE_OWNERS, Mailing.Audience.CITY}


def test_an_audience_nobody_resolves_is_an_error_not_everybody(monkeypatch):
    UserFactory()
    monkeypatch.setattr(selectors, "_audience_resolvers", {Mailing.Audience.OWNERS: []})

    with pytest.raises(ImproperlyConfigured):
        selectors.audience_users(mailing=Mailing(audience=Mailing.Audience.OWNERS))


def test_resolvers_of_one_audience_are_combined(monkeypatch):
    first, second, _other = UserFactory(), UserFactory(), UserFactory()
    resolvers = [lambda mailing: User.objects.filter(pk=first.pk), lambda mailing: User.objects.filter(pk=second.pk)]
    monkeypatch.setattr(selectors, "_audience_resolvers", {Mailing.Audience.OWNERS: resolvers})

    found = set(selectors.audience_users(mailing=Mailing(audience=Mailing.Audience.OWNERS)))

    assert found == {first, second}


def test_registering_an_unknown_audience_is_refused():
    with pytest.raises(ValueError):
        selectors.audience_register(audience="martians", resolver=lambda mailing: None)
