"""Secrets a public deployment must never run with: empty or known demo values.

``portal/settings.py`` refuses to start with ``DJANGO_DEBUG`` off when
``insecure_settings`` names anything, whatever ``ROBOKASSA_IS_TEST`` says: a
Robokassa test shop signed with a published password credits balances just as
well. ``manage.py check --deploy`` reports the same problems (``citydesk.E001``)
in any mode, so a staging box running with debug on sees them too.
"""

from collections.abc import Mapping

from django.core import checks

# Values this repository ships as local defaults or examples, and the
# well-known defaults of the services it talks to (MinIO's root account).
DEMO_VALUES = frozenset(
    {
        "insecure-local-development-key-citydesk-not-for-production",
        "citydesk-demo",
        "demo-password-1",
        "demo-password-2",
        "citydesk-minio-secret",
        "minioadmin",
        "changeme",
        "change-me",
        "password",
        "secret",
    }
)

# setting name → the environment variable that sets it (for the messages)
SECRET_SETTINGS = {
    "SECRET_KEY": "DJANGO_SECRET_KEY",
    "ROBOKASSA_LOGIN": "ROBOKASSA_LOGIN",
    "ROBOKASSA_PASSWORD1": "ROBOKASSA_PASSWORD1",
    "ROBOKASSA_PASSWORD2": "ROBOKASSA_PASSWORD2",
}
# Needed only when uploads go to S3 (AWS_STORAGE_BUCKET_NAME set).
STORAGE_SECRET_SETTINGS = {
    "AWS_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY",
}
CHECKED_SETTINGS = [*SECRET_SETTINGS, *STORAGE_SECRET_SETTINGS, "AWS_STORAGE_BUCKET_NAME"]


def is_demo_value(value: object) -> bool:
    """Empty, a demo value of this repository, or Django's generated development key."""
    text = str(value or "").strip()
    return not text or text.lower() in DEMO_VALUES or text.startswith("django-insecure-")


def insecure_settings(values: Mapping[str, object]) -> list[str]:
    """The environment variables, among the secrets in ``values``, that are empty or a demo value.

    ``values`` maps setting names to values: the settings module's namespace
    while it loads, or the values read from ``django.conf.settings``.
    """
    required = dict(SECRET_SETTINGS)
    if values.get("AWS_STORAGE_BUCKET_NAME"):
        required.update(STORAGE_SECRET_SETTINGS)
    return [variable for name, variable in required.items() if is_demo_value(values.get(name))]


def insecure_settings_message(variables: list[str]) -> str:
    return (
        f"{', '.join(variables)}: empty or a known demo value. Set real secrets for a deployment "
        "(DJANGO_DEBUG is off); see README.md, Configuration."
    )


def check_deploy_secrets(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``check --deploy``: every payment, storage and signing secret is set to a real value."""
    from django.conf import settings

    found: list[checks.CheckMessage] = [
        checks.Error(
            f"{variable} is empty or a known demo value.",
            hint=f"Set {variable} to the real secret of this deployment.",
            id="citydesk.E001",
        )
        for variable in insecure_settings({name: getattr(settings, name, "") for name in CHECKED_SETTINGS})
    ]
    if getattr(settings, "ROBOKASSA_IS_TEST", False):
        found.append(
            checks.Warning(
                "ROBOKASSA_IS_TEST is on: anyone can pay with Robokassa's test payments, "
                "and each one credits a real balance here.",
                hint="Set ROBOKASSA_IS_TEST=0 on a public deployment.",
                id="citydesk.W001",
            )
        )
    return found


def register() -> None:
    checks.register(check_deploy_secrets, checks.Tags.security, deploy=True)
