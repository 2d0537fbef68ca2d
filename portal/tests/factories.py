import functools

import factory
from django.contrib.auth.hashers import make_password

from portal.models import City, User

USER_PASSWORD = "correct-horse-battery"


@functools.cache
def _password_hash(raw: str = USER_PASSWORD) -> str:
    # Hashing is deliberately slow; hash the shared test password once per process.
    return make_password(raw)


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City
        django_get_or_create = ("slug",)

    name = "Москва"
    slug = "moscow"
    timezone = "Europe/Moscow"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name", locale="ru_RU")
    last_name = factory.Faker("last_name", locale="ru_RU")
    password = factory.LazyFunction(_password_hash)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        """Give the user a verified allauth EmailAddress so they can log in."""
        if not create or not self.email:
            return
        from allauth.account.models import EmailAddress

        EmailAddress.objects.get_or_create(user=self, email=self.email, defaults={"verified": True, "primary": True})
