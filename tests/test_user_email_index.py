"""Case-insensitive email lookups (login, referral lookup, invitations) use an index."""

import pytest
from django.db import connection

from portal.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_email_iexact_is_answered_from_the_upper_email_index():
    queryset = User.objects.filter(email__iexact="Anna@Example.com").values("pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: the planner would scan anyway
        plan = queryset.explain()

    assert "user_email_upper_idx" in plan
