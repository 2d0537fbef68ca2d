"""CSV import of organizations (django-import-export), for the admin and the command.

Rows are matched by ``external_id`` (upsert), so importing the same file twice
changes nothing. Every bad row is reported with its line number in the file
and the reason; good rows are imported, or nothing at all with
``all_or_nothing``. Unknown cities, categories and owners are reported, never
created. Files longer than ``CATALOG_IMPORT_ASYNC_THRESHOLD`` rows run in a
Celery task (``ImportJob`` records progress and errors for the admin).

Columns (header row required, UTF-8, comma-separated): ``external_id``,
``name``, ``city`` (slug or name), ``categories`` (slugs or names separated by
``;``), ``description``, ``address``, ``phone``, ``website``, ``status``
(draft/published/hidden, optional), ``owner_email`` (optional; the importing
user owns rows without one).
"""

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader
from tablib import Dataset

from catalog import tasks
from catalog.cache import catalog_changed
from catalog.models import Category, City, ImportJob, Organization
from catalog.services import organization_slug
from catalog.validators import normalize_website
from portal.errors import ValidationError
from portal.phones import phone_normalize

logger = logging.getLogger(__name__)

COLUMNS = [
    "external_id",
    "name",
    "city",
    "categories",
    "description",
    "address",
    "phone",
    "website",
    "status",
    "owner_email",
]
REQUIRED_COLUMNS = {"external_id", "name", "city"}
MAX_LENGTHS = {
    name: column.max_length
    for name in ("external_id", "name", "address")
    if isinstance(column := Organization._meta.get_field(name), models.CharField) and column.max_length
}
CATEGORY_SEPARATOR = ";"
PROGRESS_EVERY = 50


class _CityWidget(widgets.ForeignKeyWidget):
    """A city by slug or by name (case-insensitive); resolved in ``before_import_row``."""

    def clean(self, value, row=None, **kwargs):
        return row["_city_obj"] if row and row.get("_city_obj") else None


class _CategoriesWidget(widgets.ManyToManyWidget):
    def clean(self, value, row=None, **kwargs):
        # Primary keys are enough for ``categories.set()``; resolved in before_import_row.
        return list((row or {}).get("_category_ids") or [])


class _OwnerWidget(widgets.ForeignKeyWidget):
    def clean(self, value, row=None, **kwargs):
        return (row or {}).get("_owner_obj")


class OrganizationResource(resources.ModelResource):
    external_id = fields.Field(attribute="external_id", column_name="external_id")
    name = fields.Field(attribute="name", column_name="name")
    city = fields.Field(attribute="city", column_name="city", widget=_CityWidget(City))
    categories = fields.Field(
        attribute="categories", column_name="categories", widget=_CategoriesWidget(Category, separator=";")
    )
    description = fields.Field(attribute="description", column_name="description")
    address = fields.Field(attribute="address", column_name="address")
    phone = fields.Field(attribute="phone", column_name="phone")
    website = fields.Field(attribute="website", column_name="website")
    status = fields.Field(attribute="status", column_name="status")
    owner = fields.Field(attribute="owner", column_name="owner_email", widget=_OwnerWidget(get_user_model()))

    class Meta:
        model = Organization
        import_id_fields = ["external_id"]
        fields = ("external_id", "name", "city", "categories", "description", "address", "phone", "website",
                  "status", "owner")  # fmt: skip
        # Unchanged rows are detected in skip_row() from a snapshot, without import-export's
        # per-row diff (which costs several queries a row); instances load in one query.
        skip_diff = True
        report_skipped = True
        clean_model_instances = False
        instance_loader_class = CachedInstanceLoader

    def __init__(self, *, default_owner=None, progress: Callable[[int], None] | None = None):
        super().__init__()
        self.default_owner = default_owner
        self.progress = progress
        self._cities = {}
        for city in City.objects.all():
            self._cities[city.slug.lower()] = city
            self._cities[city.name.lower()] = city
        self._categories = {}
        for category in Category.objects.all():
            self._categories[category.slug.lower()] = category.pk
            self._categories[category.name.lower()] = category.pk
        self._owners: dict[str, object] = {}

    def before_import(self, dataset, **kwargs):
        ids = [value for value in dataset["external_id"] if value] if "external_id" in dataset.headers else []
        self._existing_categories: dict[int, set[int]] = {}
        through = Organization.categories.through.objects.filter(organization__external_id__in=ids)
        for organization_id, category_id in through.values_list("organization_id", "category_id"):
            self._existing_categories.setdefault(organization_id, set()).add(category_id)

    SNAPSHOT_FIELDS = ("name", "city_id", "description", "address", "phone", "website", "status", "owner_id")

    def after_init_instance(self, instance, new, row, **kwargs):
        self._snapshot = None if new else {f: getattr(instance, f) for f in self.SNAPSHOT_FIELDS}

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """Skip a row that would change nothing (so a re-import is a no-op)."""
        if import_validation_errors or self._snapshot is None:
            return False
        if any(getattr(instance, f) != value for f, value in self._snapshot.items()):
            return False
        if "categories" in row:
            return set(row.get("_category_ids") or []) == self._existing_categories.get(instance.pk, set())
        return True

    def _owner(self, email: str):
        key = email.lower()
        if key not in self._owners:
            self._owners[key] = get_user_model().objects.filter(email__iexact=email).first()
        return self._owners[key]

    def before_import_row(self, row, **kwargs):
        """Validate and normalise one row; raise a field map of reasons for a bad row."""
        errors: dict[str, list[str]] = {}
        for key in list(row.keys()):
            if isinstance(row[key], str):
                row[key] = row[key].strip()
            elif row[key] is None:
                row[key] = ""
            # The database refuses NUL characters; a cell with one would fail the whole import.
            if key in COLUMNS and "\x00" in row[key]:
                errors[key] = [_("%(column)s contains a NUL character.") % {"column": key}]
        if errors:
            raise DjangoValidationError(errors)
        # Lengths are checked here: a value too long for its column would fail the whole import.
        for column, limit in MAX_LENGTHS.items():
            if len(row.get(column) or "") > limit:
                errors.setdefault(column, [_("%(column)s is longer than %(max)s characters.") % {
                    "column": column, "max": limit}])  # fmt: skip
        if not row.get("external_id"):
            errors["external_id"] = [_("external_id is required.")]
        if not row.get("name"):
            errors["name"] = [_("name is required.")]
        city = self._cities.get((row.get("city") or "").lower())
        if not row.get("city"):
            errors["city"] = [_("city is required.")]
        elif city is None:
            errors["city"] = [_("Unknown city “%(city)s”.") % {"city": row["city"]}]
        row["_city_obj"] = city
        if "categories" in row:
            names = [c.strip() for c in (row.get("categories") or "").split(CATEGORY_SEPARATOR) if c.strip()]
            unknown = [n for n in names if n.lower() not in self._categories]
            if unknown:
                errors["categories"] = [_("Unknown category “%(category)s”.") % {"category": ", ".join(unknown)}]
            row["_category_ids"] = sorted({self._categories[n.lower()] for n in names if n.lower() in self._categories})
        for column, normalize in (("phone", phone_normalize), ("website", normalize_website)):
            if column in row:
                try:
                    row[column] = normalize(row.get(column) or "")
                except ValidationError as exc:
                    errors[column] = [f"{exc.message} ({row[column]!r})"]
        if "status" in row:
            row["status"] = (row.get("status") or Organization.Status.DRAFT).lower()
            if row["status"] not in Organization.Status.values:
                errors["status"] = [_("Unknown status “%(status)s”.") % {"status": row["status"]}]
        # Without an owner_email the importing user owns new rows; existing rows keep their owner.
        email = row.get("owner_email") or ""
        owner = self._owner(email) if email else self.default_owner
        if email and owner is None:
            errors["owner_email"] = [_("Unknown owner “%(email)s”.") % {"email": email}]
        if "owner_email" in row and not email:
            del row["owner_email"]
        row["_owner_obj"] = owner
        if errors:
            raise DjangoValidationError(dict(errors))

    def before_save_instance(self, instance, row, **kwargs):
        if instance.owner_id is None:
            if row.get("_owner_obj") is None:
                raise DjangoValidationError({"owner_email": [_("owner_email is required.")]})
            instance.owner = row["_owner_obj"]
        if not instance.pk or not instance.slug:
            instance.slug = organization_slug(name=instance.name, city=instance.city, exclude_pk=instance.pk)

    def after_import_row(self, row, row_result, **kwargs):
        number = kwargs.get("row_number") or 0
        if self.progress and number % PROGRESS_EVERY == 0:
            self.progress(number)


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)  # [{"line": 5, "field": "city", "message": "…"}]
    dry_run: bool = False
    all_or_nothing: bool = False
    rolled_back: bool = False

    @property
    def error_rows(self) -> int:
        return len({e["line"] for e in self.errors})

    def as_lines(self) -> list[str]:
        return [f"line {e['line']}: {e['field']}: {e['message']}" if e["field"] else f"line {e['line']}: {e['message']}"
                for e in self.errors]  # fmt: skip


def read_csv(data: bytes | str) -> tuple[Dataset, list[int], list[dict]]:
    """Parse CSV into a Dataset, the file line of each data row, and structural errors."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text."), code="bad_file")
    else:
        text = data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(_("The file is empty."), code="bad_file")
    except csv.Error as exc:
        raise ValidationError(_("The file is not valid CSV: %s") % exc, code="bad_file")
    header = [h.strip().lower() for h in header]
    missing = REQUIRED_COLUMNS - set(header)
    if missing:
        raise ValidationError(
            _("Missing columns: %(columns)s.") % {"columns": ", ".join(sorted(missing))}, code="bad_file"
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ValidationError(_("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)}, code="bad_file")
    dataset = Dataset(headers=header)
    lines: list[int] = []
    errors: list[dict] = []
    line = reader.line_num + 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                errors.append({"line": start, "field": "", "message": _("Expected %(n)s columns, found %(m)s.")
                               % {"n": len(header), "m": len(row)}})  # fmt: skip
                continue
            dataset.append(row)
            lines.append(start)
    except csv.Error as exc:
        errors.append({"line": line, "field": "", "message": _("The file is not valid CSV: %s") % exc})
    return dataset, lines, errors


def count_rows(data: bytes) -> int:
    dataset, _lines, errors = read_csv(data)
    return len(dataset) + len(errors)


def organizations_import(
    *,
    data: bytes | str,
    default_owner=None,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import organizations from CSV ``data``; see the module docstring for the rules."""
    dataset, lines, structural = read_csv(data)
    total = len(dataset) + len(structural)
    report = ImportReport(total=total, dry_run=dry_run, all_or_nothing=all_or_nothing, errors=list(structural))

    def on_progress(done: int) -> None:
        if progress:
            progress(done, total)

    resource = OrganizationResource(default_owner=default_owner, progress=on_progress)
    rollback_everything = all_or_nothing and bool(structural)
    result = resource.import_data(
        dataset,
        dry_run=dry_run or rollback_everything,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=all_or_nothing,
    )
    for invalid in result.invalid_rows:
        line = lines[invalid.number - 1]
        for field_name, messages in invalid.error_dict.items():
            for message in messages:
                report.errors.append(
                    {"line": line, "field": "" if field_name == NON_FIELD_ERRORS else field_name, "message": message}
                )
    for number, row_errors in result.row_errors():
        for error in row_errors:
            logger.warning("import row %s failed: %s", number, error.error)
            report.errors.append({"line": lines[number - 1], "field": "", "message": str(error.error)})
    report.errors.sort(key=lambda e: e["line"])
    totals = result.totals
    report.rolled_back = dry_run or (all_or_nothing and bool(report.errors)) or result.has_errors()
    report.created = totals.get("new", 0)
    report.updated = totals.get("update", 0)
    report.skipped = totals.get("skip", 0)
    if not report.rolled_back and (report.created or report.updated):
        catalog_changed()
    on_progress(total)
    return report


# --- jobs (admin, command, Celery) -------------------------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"catalog:import:{job_id}:progress"


def import_job_progress(job: ImportJob) -> int:
    """Rows processed so far: live from the cache while running, from the row afterwards."""
    if job.status == ImportJob.Status.RUNNING:
        live = cache.get(_progress_key(job.pk))
        if live is not None:
            return int(live)
    return job.processed_rows


@transaction.atomic
def import_job_create(*, upload, by, dry_run: bool = False, all_or_nothing: bool = False) -> ImportJob:
    """Record an import of ``upload``; small files run now, large ones in a Celery task after commit."""
    data = upload.read()
    total = count_rows(data)  # also rejects a file that is not CSV with the right columns
    upload.seek(0)
    job = ImportJob(
        created_by=by if by is not None and by.is_authenticated else None,
        filename=getattr(upload, "name", "")[:255],
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        total_rows=total,
    )
    job.file.save(getattr(upload, "name", "import.csv") or "import.csv", upload, save=False)
    job.save()
    if total > settings.CATALOG_IMPORT_ASYNC_THRESHOLD:
        transaction.on_commit(lambda: tasks.run_import_job.delay(job.pk))
    else:
        transaction.on_commit(lambda: import_job_run(job_id=job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a pending import job once (a second call, e.g. a redelivered task, does nothing)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportJob.Status.PENDING:
            return job
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])

    def progress(done: int, total: int) -> None:
        cache.set(_progress_key(job_id), done, 3600)
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=job_id).update(processed_rows=min(done, total))

    try:
        with job.file.open("rb") as fh:
            data = fh.read()
        report = organizations_import(
            data=data,
            default_owner=job.created_by,
            dry_run=job.dry_run,
            all_or_nothing=job.all_or_nothing,
            progress=progress,
        )
    except Exception as exc:  # the job records any failure instead of hanging in "running"
        logger.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, message=str(exc)[:1000], finished_at=timezone.now()
        )
        return ImportJob.objects.get(pk=job_id)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE,
        total_rows=report.total,
        processed_rows=report.total,
        created_count=report.created,
        updated_count=report.updated,
        skipped_count=report.skipped,
        error_count=report.error_rows,
        errors=report.errors[:1000],
        message=_report_message(report),
        finished_at=timezone.now(),
    )
    cache.delete(_progress_key(job_id))
    return ImportJob.objects.get(pk=job_id)


def _report_message(report: ImportReport) -> str:
    if report.dry_run:
        prefix = _("Dry run, nothing saved.")
    elif report.rolled_back:
        prefix = _("Nothing imported: all or nothing, and some rows are bad.")
    else:
        prefix = _("Imported.")
    return _("%(prefix)s New: %(new)s, updated: %(upd)s, unchanged: %(skip)s, rows with errors: %(err)s.") % {
        "prefix": prefix,
        "new": report.created,
        "upd": report.updated,
        "skip": report.skipped,
        "err": report.error_rows,
    }
