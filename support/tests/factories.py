import factory

from portal.tests.factories import UserFactory
from support.models import Ticket


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket written directly (fixtures); real tickets go through support.services.ticket_create."""

    class Meta:
        model = Ticket

    user = factory.SubFactory(UserFactory)
    subject = factory.Sequence(lambda n: f"Вопрос {n}")
    text = "Не могу оплатить подписку."
