"""``manage.py import_organizations FILE [--dry-run] [--all-or-nothing] [--owner EMAIL]``."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.importing import organizations_import
from portal.errors import DomainError


class Command(BaseCommand):
    help = (
        "Import organizations from a CSV file (upsert by external_id). Bad rows are reported with "
        "their line numbers; the good ones are imported unless --all-or-nothing. Exit status 1 when "
        "any row is bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, header row); see docs/catalog.md")
        parser.add_argument("--dry-run", action="store_true", help="check everything, save nothing")
        parser.add_argument("--all-or-nothing", action="store_true", help="import nothing if any row is bad")
        parser.add_argument("--owner", help="email of the owner for rows without owner_email")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        owner = None
        if options["owner"]:
            owner = get_user_model().objects.filter(email__iexact=options["owner"]).first()
            if owner is None:
                raise CommandError(f"Unknown owner: {options['owner']}")

        def progress(done: int, total: int) -> None:
            if total >= 1000 and done % 1000 == 0 and done:
                self.stderr.write(f"  {done}/{total} rows")

        try:
            report = organizations_import(
                data=path.read_bytes(),
                default_owner=owner,
                dry_run=options["dry_run"],
                all_or_nothing=options["all_or_nothing"],
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(str(exc))
        for line in report.as_lines():
            self.stdout.write(line)
        if report.dry_run:
            state = "dry run, nothing saved"
        elif report.rolled_back:
            state = "nothing saved (all or nothing)"
        else:
            state = "saved"
        self.stdout.write(
            f"{report.total} rows: {report.created} new, {report.updated} updated, {report.skipped} unchanged, "
            f"{report.error_rows} with errors; {state}."
        )
        if report.errors:
            raise CommandError(f"{report.error_rows} rows have errors.", returncode=1)
