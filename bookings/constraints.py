"""Database constraints that only exist on PostgreSQL.

The exclusion constraint that forbids overlapping active bookings needs
``btree_gist``. SQLite (the zero-config default) has no equivalent, so there the
constraint renders no SQL at all and the locked check in
``bookings.services`` is the only guard.
"""

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Func


class PostgresExclusionConstraint(ExclusionConstraint):
    """An ExclusionConstraint that is a no-op on databases other than PostgreSQL."""

    @staticmethod
    def _is_postgres(schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        if not self._is_postgres(schema_editor):
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if not self._is_postgres(schema_editor):
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if not self._is_postgres(schema_editor):
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor != "postgresql":
            return
        # Django skips the check when a field of the expressions is excluded but
        # not when one of the condition's is: a form without ``status`` (the
        # admin's read-only field) would crash with a FieldError instead.
        if exclude and self.condition is not None and self.condition.referenced_base_fields & set(exclude):
            return
        return super().validate(model, instance, exclude=exclude, using=using)


class TsTzRange(Func):
    """``tstzrange(starts_at, ends_at, '[)')``: the time span a booking occupies."""

    function = "TSTZRANGE"

    def __init__(self, *expressions: Any, **kwargs: Any) -> None:
        kwargs.setdefault("output_field", DateTimeRangeField())
        super().__init__(*expressions, **kwargs)
