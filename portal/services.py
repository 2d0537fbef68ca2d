"""Account services: the security log, blocking and verification, Mini App
identities, account linking and the profile."""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from ipaddress import ip_address
from typing import IO, Any

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.errors import Conflict, PermissionDenied, UserBlocked, ValidationError
from portal.images import image_validate_and_normalize
from portal.models import SecurityEvent, TelegramLinkToken, User
from portal.phones import phone_normalize
from portal.signals import platform_user_created, platform_user_signed_in, user_erasing

logger = logging.getLogger(__name__)


# --- Security log -----------------------------------------------------------------


def _request_client_ip() -> str | None:
    """The client address of the request being served, if any (none in tasks and commands)."""
    from allauth.core import context

    from portal.client_address import client_ip

    request = context.request  # set for every request by allauth's AccountMiddleware
    return client_ip(request) if request is not None else None


def security_event_record(
    *,
    kind: str,
    user: User | None = None,
    actor: User | None = None,
    username: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Append an event to the security log (``SecurityEvent.Kind``).

    ``user``: whose account it is about; when only a typed ``username`` (email)
    is known, that account is looked up and the username kept in ``details``.
    ``actor``: the staff member who acted. ``ip``: the client address; by default
    the address of the request being served (portal.client_address), none
    outside a request. Called inside the caller's transaction, so an action
    that rolls back leaves no event.
    """
    details = dict(details or {})
    if username:
        details.setdefault("username", username)
        if user is None:
            user = User.objects.filter(email__iexact=username).first()
    if ip is None:
        ip = _request_client_ip()
    try:
        ip = str(ip_address(ip)) if ip else None
    except ValueError:
        ip = None
    return SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        actor=actor if actor is not None and actor.pk else None,
        ip=ip,
        details=details,
    )


# --- Acting users ------------------------------------------------------------------


def actor_ensure_active(user: User | AnonymousUser | None) -> None:
    """Refuse a user who may not act: anonymous (PermissionDenied ``not_authenticated``), blocked (UserBlocked).

    Every service that acts for a person calls this first, so "a blocked user
    changes nothing" holds in the pages, the API, the bots and the admin alike.
    """
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Log in to continue."), code="not_authenticated")
    if user.is_blocked:
        raise UserBlocked(_("Your account has been blocked."))


# --- Blocking and verification ----------------------------------------------------


@transaction.atomic
def user_block(*, user: User, reason: str, by: User | None = None) -> User:
    """Block a user: no login, 403 on the API, no mailings, listings hidden.

    Refuses an empty reason (ValidationError ``reason_required``) and staff
    blocking themselves (PermissionDenied ``block_self``), which would lock
    them out of the back office.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("A reason is required to block a user."), code="reason_required")
    if by is not None and by.pk == user.pk:
        raise PermissionDenied(_("You cannot block yourself."), code="block_self")
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_blocked = True
    user.blocked_reason = reason
    user.blocked_at = timezone.now()
    user.blocked_by = by
    user.save(update_fields=["is_blocked", "blocked_reason", "blocked_at", "blocked_by"])
    security_event_record(kind=SecurityEvent.Kind.USER_BLOCKED, user=user, actor=by, details={"reason": reason})
    return user


@transaction.atomic
def user_unblock(*, user: User, by: User | None = None) -> User:
    """Lift a block; the reason and time of the last block are cleared."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_blocked = False
    user.blocked_reason = ""
    user.blocked_at = None
    user.blocked_by = None
    user.save(update_fields=["is_blocked", "blocked_reason", "blocked_at", "blocked_by"])
    security_event_record(kind=SecurityEvent.Kind.USER_UNBLOCKED, user=user, actor=by)
    return user


@transaction.atomic
def user_verify(*, user: User, by: User | None = None) -> User:
    """Mark a user as verified by staff (idempotent: the first time is kept)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_verified:
        user.is_verified = True
        user.verified_at = timezone.now()
        user.verified_by = by
        user.save(update_fields=["is_verified", "verified_at", "verified_by"])
        security_event_record(kind=SecurityEvent.Kind.USER_VERIFIED, user=user, actor=by)
    return user


@transaction.atomic
def user_unverify(*, user: User, by: User | None = None) -> User:
    """Withdraw a verification."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_verified = False
    user.verified_at = None
    user.verified_by = None
    user.save(update_fields=["is_verified", "verified_at", "verified_by"])
    security_event_record(kind=SecurityEvent.Kind.USER_UNVERIFIED, user=user, actor=by)
    return user


# --- Mini App and bot identities ---------------------------------------------------

TELEGRAM_PROVIDER = "telegram"
VK_PROVIDER = "vk"


def _social_user_get_or_create(
    *, provider: str, uid: str, names: dict[str, str], extra_data: dict[str, Any]
) -> tuple[User, bool]:
    """Find the user of a platform identity, or create the user and the SocialAccount.

    Concurrent first requests race to insert the SocialAccount; allauth's unique
    (provider, uid) constraint lets exactly one win. The loser's savepoint
    (with its freshly created user) is rolled back and it re-reads the winner's row.
    """
    account = SocialAccount.objects.select_related("user").filter(provider=provider, uid=uid).first()
    if account is not None:
        return account.user, False
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=None, password=None, **names)
            SocialAccount.objects.create(user=user, provider=provider, uid=uid, extra_data=extra_data)
    except IntegrityError:
        account = SocialAccount.objects.select_related("user").get(provider=provider, uid=uid)
        return account.user, False
    return user, True


def _name_part(value: object, limit: int = 150) -> str:
    return str(value or "").strip()[:limit]


def _telegram_uid(telegram_user: dict[str, Any]) -> str:
    user_id = telegram_user.get("id") if isinstance(telegram_user, dict) else None
    if (
        isinstance(user_id, bool)
        or not isinstance(user_id, int | str)
        or not str(user_id).isascii()
        or not str(user_id).isdigit()
        or not 0 < int(user_id) < 2**63
    ):
        raise ValidationError(_("A Telegram user needs a numeric id."), code="telegram_user_invalid")
    return str(int(user_id))


def telegram_user_get_or_create(*, telegram_user: dict[str, Any], start_param: str = "") -> tuple[User, bool]:
    """The user of a Telegram identity (Telegram's ``user`` dict: ``id``, ``first_name``…).

    Creates the user and the ``telegram`` SocialAccount (uid = Telegram id) on the
    first visit; exactly one user even under concurrent first requests. Used by
    the Mini App authentication and the Telegram bot. The Mini App's
    ``start_param`` is kept in the SocialAccount's ``extra_data`` and, on the
    first sign-in, sent with ``portal.signals.platform_user_created`` (referrals
    applies a ``ref_<code>`` there).
    """
    uid = _telegram_uid(telegram_user)
    start_param = str(start_param or "")[:512]
    extra_data = dict(telegram_user)
    if start_param:
        extra_data["start_param"] = start_param
    names = {
        "first_name": _name_part(telegram_user.get("first_name")),
        "last_name": _name_part(telegram_user.get("last_name")),
    }
    user, created = _social_user_get_or_create(provider=TELEGRAM_PROVIDER, uid=uid, names=names, extra_data=extra_data)
    if created:
        platform_user_created.send(sender=User, user=user, provider=TELEGRAM_PROVIDER, start_param=start_param)
    return user, created


def vk_user_get_or_create(
    *, vk_user_id: str, first_name: str = "", last_name: str = "", launch_params: dict[str, Any] | None = None
) -> tuple[User, bool]:
    """The user of a VK identity (``vk`` SocialAccount, uid = VK user id), created on first use.

    Used by the VK Mini App authentication and the VK bot; exactly one user even
    under concurrent first requests. ``launch_params`` (without ``sign``) are kept
    in the SocialAccount's ``extra_data``.
    """
    uid = str(vk_user_id or "").strip()
    if not uid.isascii() or not uid.isdigit() or not 0 < int(uid) < 2**63:
        raise ValidationError(_("A VK user needs a numeric id."), code="vk_user_invalid")
    uid = str(int(uid))
    names = {"first_name": _name_part(first_name), "last_name": _name_part(last_name)}
    extra_data = {"id": int(uid), **(launch_params or {})}
    user, created = _social_user_get_or_create(provider=VK_PROVIDER, uid=uid, names=names, extra_data=extra_data)
    if created:
        platform_user_created.send(sender=User, user=user, provider=VK_PROVIDER, start_param="")
    return user, created


PLATFORM_PROVIDERS = (TELEGRAM_PROVIDER, VK_PROVIDER)


def platform_sign_in_announce(
    *, user: User, provider: str, uid: str, created: bool = False, start_param: str = ""
) -> None:
    """Tell the apps above that ``user`` signed in with a Telegram or VK identity (``uid``).

    Sends ``portal.signals.platform_user_signed_in`` (mailings links that
    identity's bot chat to the user; referrals applies a new user's
    ``ref_<code>``). Called by the Mini App session sign-in and by allauth's
    Telegram/VK logins and account connections; other providers are ignored.
    """
    if provider not in PLATFORM_PROVIDERS or not str(uid or "").isdigit():
        return
    platform_user_signed_in.send(
        sender=User, user=user, provider=provider, uid=str(uid), created=created, start_param=start_param or ""
    )


# --- Account linking (Telegram deep link) --------------------------------------------

TELEGRAM_LINK_TTL = timedelta(minutes=10)
TELEGRAM_LINK_PREFIX = "link_"


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def telegram_link_create(*, user: User) -> tuple[str, str, datetime]:
    """A one-time token (10 minutes) and the bot deep link that links a Telegram chat to ``user``.

    Returns ``(token, deep_link, expires_at)``; the deep link is
    ``https://t.me/<TELEGRAM_BOT_USERNAME>?start=link_<token>``.
    """
    actor_ensure_active(user)
    token = secrets.token_urlsafe(24)  # 32 URL-safe characters: fits Telegram's 64-char start payload
    expires_at = timezone.now() + TELEGRAM_LINK_TTL
    TelegramLinkToken.objects.create(user=user, token_hash=_token_digest(token), expires_at=expires_at)
    deep_link = f"https://t.me/{settings.TELEGRAM_BOT_USERNAME}?start={TELEGRAM_LINK_PREFIX}{token}"
    return token, deep_link, expires_at


@transaction.atomic
def telegram_link_consume(*, token: str, telegram_user: dict[str, Any]) -> User:
    """Link the Telegram identity ``telegram_user`` (Telegram's user dict) to the token's user.

    Single use, valid for 10 minutes. Accepts the bare token or ``link_<token>``.
    Refuses (portal.errors): an unknown token (ValidationError ``link_token_invalid``),
    an expired one (``link_token_expired``), a used one (Conflict ``link_token_used``),
    a Telegram identity already linked to another user (Conflict ``telegram_already_linked``),
    a user already linked to another Telegram identity (Conflict ``user_has_other_telegram``)
    and a blocked user (UserBlocked).
    """
    token = str(token or "").strip()
    if token.startswith(TELEGRAM_LINK_PREFIX):
        token = token[len(TELEGRAM_LINK_PREFIX) :]
    uid = _telegram_uid(telegram_user)
    link = (
        TelegramLinkToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=_token_digest(token))
        .first()
        if token
        else None
    )
    if link is None:
        raise ValidationError(_("This link is not valid. Ask for a new one on the site."), code="link_token_invalid")
    if link.used_at is not None:
        raise Conflict(_("This link has already been used."), code="link_token_used")
    if link.expires_at <= timezone.now():
        raise ValidationError(_("This link has expired. Ask for a new one on the site."), code="link_token_expired")
    user = User.objects.select_for_update().get(pk=link.user_id)
    if user.is_blocked:
        raise UserBlocked(_("This account has been blocked."))

    existing = SocialAccount.objects.filter(provider=TELEGRAM_PROVIDER, uid=uid).first()
    if existing is not None and existing.user_id != user.pk:
        raise Conflict(_("This Telegram account is already linked to another user."), code="telegram_already_linked")
    other = SocialAccount.objects.filter(provider=TELEGRAM_PROVIDER, user=user).exclude(uid=uid).first()
    if other is not None:
        raise Conflict(_("Your account is already linked to another Telegram account."), code="user_has_other_telegram")
    if existing is None:
        try:
            with transaction.atomic():
                SocialAccount.objects.create(
                    user=user, provider=TELEGRAM_PROVIDER, uid=uid, extra_data=dict(telegram_user)
                )
        except IntegrityError:  # linked by someone else a moment ago
            raise Conflict(
                _("This Telegram account is already linked to another user."), code="telegram_already_linked"
            )
    link.used_at = timezone.now()
    link.telegram_id = uid
    link.save(update_fields=["used_at", "telegram_id"])
    return user


# --- Profile ---------------------------------------------------------------------------

PROFILE_FIELDS = ("first_name", "last_name", "phone", "city")


@transaction.atomic
def user_profile_update(*, user: User, **fields: Any) -> User:
    """Change profile fields (any of first_name, last_name, phone, city); the phone is normalised."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown profile fields: {', '.join(sorted(unknown))}.", code="invalid")
    if "phone" in fields:
        fields["phone"] = phone_normalize(fields["phone"])
    for name in ("first_name", "last_name"):
        if name in fields:
            fields[name] = _name_part(fields[name])
    user = User.objects.select_for_update().get(pk=user.pk)
    for name, value in fields.items():
        setattr(user, name, value)
    if fields:
        user.save(update_fields=list(fields))
    return user


def user_avatar_set(*, user: User, file: IO[bytes]) -> User:
    """Validate, re-encode and store a new avatar (and its square thumbnail); the old files are deleted.

    Raises ValidationError (see portal.images) and changes nothing on bad input.
    """
    normalized = image_validate_and_normalize(file, max_side=1024, thumbnail_crop=True)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old = _stored_names(user)
        user.avatar.save(normalized.image.name, normalized.image, save=False)
        user.avatar_thumbnail.save(normalized.thumbnail.name, normalized.thumbnail, save=False)
        user.save(update_fields=["avatar", "avatar_thumbnail"])
        transaction.on_commit(lambda: _delete_files(old))
    return user


def _stored_names(user: User) -> list[str]:
    """The storage names of the user's avatar files (none when there is no avatar)."""
    return [f.name for f in (user.avatar, user.avatar_thumbnail) if f and f.name]


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # a leftover file is harmless; a failed request is not
            logger.warning("could not delete old file %s", name, exc_info=True)


# --- Account deletion ------------------------------------------------------------------

# RFC 2606 reserves ".invalid": mail to it can never be delivered, and the
# address is still a valid email, so the admin can open the anonymised row.
ERASED_EMAIL_DOMAIN = "deleted.invalid"


def erased_email(user_id: int) -> str:
    """The address an erased account keeps: ``deleted-<id>@deleted.invalid`` (frees the real one)."""
    return f"deleted-{user_id}@{ERASED_EMAIL_DOMAIN}"


def user_is_erased(user: User) -> bool:
    """True for an account deleted through ``user_delete``."""
    return not user.is_active and user.email == erased_email(user.pk)


@transaction.atomic
def user_delete(*, user: User, by: User | None = None) -> User:
    """Delete an account: erase the person's data, keep the accounting (anonymised).

    ``by`` is None (or the user) when the person deletes their own account, or a
    staff member erasing it on request. Refuses staff and superuser accounts
    (Conflict ``staff_account``: take the staff status away first), a blocked
    user deleting their own account (UserBlocked: staff erase it on request)
    and a non-staff ``by`` (PermissionDenied).

    The row stays, so the ledger, payments and past bookings keep pointing at
    it: it becomes inactive, with no name, phone, city, avatar (the files and
    the thumbnail are deleted from storage after commit), no usable password and
    the email ``deleted-<id>@deleted.invalid``, so the real address can sign up
    again. allauth email addresses, social accounts (with their tokens) and MFA
    authenticators are deleted, as are Telegram link tokens. Every session of the user ends (an inactive user is never
    authenticated again). Before all that, ``portal.signals.user_erasing`` lets
    the other apps release what they hold (see portal/signals.py). Deleting an
    erased account again changes nothing.
    """
    staff = None if by is None or by.pk == user.pk else by  # who erases someone else's account
    self_service = staff is None
    if staff is not None and not staff.is_staff:
        raise PermissionDenied(_("Only staff can delete another user's account."), code="permission_denied")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_staff or user.is_superuser:
        raise Conflict(
            _("A staff account cannot be deleted. Ask an administrator to remove the staff status first."),
            code="staff_account",
        )
    if self_service and user.is_blocked:
        raise UserBlocked(_("Your account has been blocked. Please contact support."))
    now = timezone.now()
    user_erasing.send(sender=User, user=user, by=staff, now=now)
    _identities_erase(user=user)

    files = _stored_names(user)
    user.email = erased_email(user.pk)
    user.first_name = ""
    user.last_name = ""
    user.phone = ""
    user.city = None
    user.avatar = ""
    user.avatar_thumbnail = ""
    user.is_active = False
    if user.has_usable_password():
        user.set_unusable_password()  # also changes the session hash: other sessions end at once
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    if files:
        transaction.on_commit(lambda: _delete_files(files))
    logger.info("account %s deleted (%s)", user.pk, "by the user" if staff is None else f"by staff {staff.pk}")
    return user


def _identities_erase(*, user: User) -> None:
    """Delete what lets anyone sign in as, or reach, the person: emails, social accounts, MFA, link tokens."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount
    from django.apps import apps

    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()  # their SocialTokens go with them
    if apps.is_installed("allauth.mfa"):
        apps.get_model("mfa", "Authenticator").objects.filter(user=user).delete()
    TelegramLinkToken.objects.filter(user=user).delete()
