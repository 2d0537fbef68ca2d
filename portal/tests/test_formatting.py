"""Money and times are written one way (portal.formatting) on pages, in notifications and the admin."""

from datetime import UTC, datetime
from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from portal.formatting import DATE_FORMAT, TIME_FORMAT, datetime_format, money_format


def test_money_the_russian_way():
    assert money_format(Decimal("1990")) == "1\u00a0990\u00a0₽"
    assert money_format("1990.00") == "1\u00a0990\u00a0₽"  # as the API and stored contexts carry it
    assert money_format("1990.50") == "1\u00a0990,50\u00a0₽"
    assert money_format(Decimal("-100")) == "−100\u00a0₽"
    assert money_format(0) == "0\u00a0₽"
    assert money_format(None) == ""


def test_times_are_written_in_the_zone_given():
    moment = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # 06:30 in Moscow, 10:30 in Novosibirsk

    with translation.override("ru"):
        assert datetime_format(moment, zone="Asia/Novosibirsk") == "10 марта 2026, 10:30"
        assert datetime_format(moment, zone="Europe/Moscow", fmt=TIME_FORMAT) == "06:30"
        assert datetime_format(moment.isoformat(), zone="Asia/Novosibirsk", fmt=DATE_FORMAT) == "10 марта 2026"
    with translation.override("en"):
        assert datetime_format(moment, zone="Asia/Novosibirsk") == "10 March 2026, 10:30"
        # notification texts ask for the site language whatever the request's
        assert datetime_format(moment, zone="Asia/Novosibirsk", language="ru") == "10 марта 2026, 10:30"
    assert datetime_format(None, zone="Europe/Moscow") == ""


def test_template_filters_call_the_same_helpers():
    moment = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)
    template = Template("{% load citydesk %}{{ t|local_datetime:z }}|{{ t|local_time:z }}|{{ m|rub }}")

    with translation.override("ru"):
        html = template.render(Context({"t": moment, "z": "Asia/Novosibirsk", "m": Decimal("2490")}))

    assert html == "10 марта 2026, 10:30|10:30|2\u00a0490\u00a0₽"
