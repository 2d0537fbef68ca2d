"""Demo billing data: plans, paid top-ups, balances and subscriptions (idempotent).

Everything goes through the billing services (top-ups through the same
signed Robokassa callback a real shop receives), so the ledger stays the
single source of truth and the revenue dashboard has something to show.
"""

from decimal import Decimal

from billing import robokassa, services
from billing.models import Payment, Plan, Subscription
from portal import errors

PLANS = [
    # name, price, months, description
    ("Старт", "990.00", 1, "Организация в каталоге на месяц"),
    ("Бизнес", "2490.00", 3, "Три месяца в каталоге"),
    ("Год", "9900.00", 12, "Целый год в каталоге — выгоднее всего"),
]
TOPUPS = [(0, "5000.00"), (0, "2000.00"), (1, "3000.00"), (2, "1500.00")]  # (user index, amount)
SUBSCRIBED_ORGANIZATIONS = 6


def _paid_topup(*, user, amount: str) -> None:
    payment = services.payment_create(user=user, amount=amount)
    out_sum = f"{payment.amount:.6f}"
    services.payment_result(
        params={
            "OutSum": out_sum,
            "InvId": str(payment.pk),
            "SignatureValue": robokassa.result_signature(out_sum=out_sum, inv_id=str(payment.pk)),
        },
        remote_addr="demo",
    )


def seed(stdout, context) -> dict:
    plans = []
    for position, (name, price, months, description) in enumerate(PLANS):
        plan, _created = Plan.objects.update_or_create(
            name=name,
            defaults={
                "price": Decimal(price),
                "period_months": months,
                "period_days": 0,
                "description": description,
                "is_active": True,
                "position": position,
            },
        )
        plans.append(plan)

    users = list(context.get("users") or [])
    staff = context.get("staff")
    if users and not Payment.objects.filter(user__in=users, status=Payment.Status.PAID).exists():
        for index, amount in TOPUPS:
            _paid_topup(user=users[index % len(users)], amount=amount)

    organizations = list(context.get("organizations") or [])[:SUBSCRIBED_ORGANIZATIONS]
    subscribed = 0
    for index, organization in enumerate(organizations):
        if Subscription.objects.filter(organization=organization).exists():
            continue
        plan = plans[index % 2]  # "Старт" and "Бизнес"
        owner = organization.owner
        if staff is not None:
            # A welcome grant so every demo owner can pay for a listing.
            services.balance_credit(
                user=owner,
                amount=plan.price,
                kind="grant",
                description="Приветственный бонус",
                created_by=staff,
                idempotency_key=f"demo:welcome:{organization.pk}",
            )
        try:
            services.subscription_create(user=owner, organization_id=organization.pk, plan_id=plan.pk)
            subscribed += 1
        except errors.DomainError as exc:
            stdout.write(f"  billing: {organization} not subscribed ({exc})")
    services.revenue_snapshot()
    stdout.write(f"  billing: {len(plans)} plans, {subscribed} new subscriptions")
    return {"plans": plans}
