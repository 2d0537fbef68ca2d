"""Demo data for accounts: a staff account and a few users."""

from allauth.account.models import EmailAddress

from portal.models import User

DEMO_PASSWORD = "citydesk-demo"
STAFF_EMAIL = "admin@citydesk.local"
DEMO_USERS = [
    ("anna@citydesk.local", "Анна", "Смирнова"),
    ("ivan@citydesk.local", "Иван", "Петров"),
    ("olga@citydesk.local", "Ольга", "Кузнецова"),
]


def first_or_create(model, *, defaults: dict | None = None, **lookup):
    """``get_or_create`` for lookups the database does not keep unique.

    Users may well add a ticket, service or mailing named like a demo one; a
    re-run of seed_demo then takes the oldest match instead of failing.
    """
    existing = model.objects.filter(**lookup).order_by("pk").first()
    if existing is not None:
        return existing, False
    return model.objects.create(**lookup, **(defaults or {})), True


def _ensure_verified_email(user: User) -> None:
    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})


def seed(stdout) -> dict:
    staff, created = User.objects.get_or_create(
        email=STAFF_EMAIL,
        defaults={"first_name": "Администратор", "is_staff": True, "is_superuser": True},
    )
    if created:
        staff.set_password(DEMO_PASSWORD)
        staff.save()
    _ensure_verified_email(staff)
    users = []
    for email, first, last in DEMO_USERS:
        user, created = User.objects.get_or_create(email=email, defaults={"first_name": first, "last_name": last})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        _ensure_verified_email(user)
        users.append(user)
    stdout.write(f"  staff: {STAFF_EMAIL} / {DEMO_PASSWORD} (sets up two-factor sign-in on the first admin visit)")
    for user in users:
        stdout.write(f"  user:  {user.email} / {DEMO_PASSWORD}")
    return {"staff": staff, "users": users}
