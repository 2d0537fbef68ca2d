# Hand-written: kept when the migrations are regenerated (docs/architecture.md, Migrations).
"""The btree_gist extension, before the bookings tables.

The exclusion constraint that forbids overlapping active bookings
(``booking_no_overlap``, declared on the Booking model and created by
``0001_initial``) compares resource ids with ``=`` inside a GiST index, which
needs btree_gist. ``run_before`` puts this migration ahead of the generated
``0001_initial`` without editing it. CreateExtension does nothing on databases
other than PostgreSQL.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = []
    run_before = [("bookings", "0001_initial")]

    operations = [
        BtreeGistExtension(),
    ]
