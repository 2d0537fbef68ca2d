from datetime import UTC, datetime
from decimal import Decimal

from django.template import Context, Template

from portal.templatetags.citydesk import rub


def _render(source: str, **context) -> str:
    return Template("{% load citydesk %}" + source).render(Context(context))


def test_in_zone_survives_the_date_filter():
    # 03:00 UTC is 10:00 in Novosibirsk (UTC+7), whatever the active zone (Moscow).
    moment = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)

    assert _render('{{ t|in_zone:"Asia/Novosibirsk"|date:"H:i" }}', t=moment) == "10:00"
    assert _render('{{ t|in_zone:"Europe/Moscow"|time:"H:i" }}', t=moment) == "06:00"


def test_in_zone_leaves_empty_values_alone():
    assert _render('{{ t|in_zone:"Asia/Novosibirsk" }}', t=None) == "None"


def test_rub_formats_the_russian_way():
    assert rub(Decimal("1990")) == "1\u00a0990\u00a0₽"
    assert rub("1990.50") == "1\u00a0990,50\u00a0₽"
    assert rub(Decimal("-100")) == "−100\u00a0₽"
    assert rub(None) == ""
    assert rub("abc") == "abc"
