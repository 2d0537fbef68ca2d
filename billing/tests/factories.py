from decimal import Decimal

import factory

from billing.models import Payment, Plan
from portal.tests.factories import UserFactory


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    name = factory.Sequence(lambda n: f"Тариф {n}")
    price = Decimal("990.00")
    period_months = 1
    period_days = 0


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Payment

    user = factory.SubFactory(UserFactory)
    amount = Decimal("500.00")
    description = "Пополнение баланса"
