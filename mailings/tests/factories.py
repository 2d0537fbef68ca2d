import factory

from mailings.models import BotSubscriber


class BotSubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BotSubscriber

    channel = "telegram"
    chat_id = factory.Sequence(lambda n: str(100000 + n))
    first_name = "Иван"
