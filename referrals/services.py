"""Referral services."""


def referral_apply(*, user, code: str, source: str):
    """Record that ``user`` joined with referral ``code`` (source: site, api, miniapp, bot).

    Raises portal.errors.DomainError subclasses with a clear message on refusal.
    """
    from portal.errors import ValidationError

    raise ValidationError("Referral codes are not available yet.", code="referrals_unavailable")
