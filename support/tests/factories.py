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


# The management forms of the ticket change page's read-only inlines (conversation, history), posted
# with every save of that page.
TICKET_PAGE_INLINES = {
    "messages-TOTAL_FORMS": "0",
    "messages-INITIAL_FORMS": "0",
    "history-TOTAL_FORMS": "0",
    "history-INITIAL_FORMS": "0",
}
