from decimal import Decimal

from django.template import Context, Template

from portal.templatetags.citydesk import rub


def _render(source: str, **context) -> str:
    return Template("{% load citydesk %}" + source).render(Context(context))


def test_rub_formats_the_russian_way():
    assert rub(Decimal("1990")) == "1\u00a0990\u00a0₽"
    assert rub("1990.50") == "1\u00a0990,50\u00a0₽"
    assert rub(Decimal("-100")) == "−100\u00a0₽"
    assert rub(None) == ""
    assert rub("abc") == "abc"
