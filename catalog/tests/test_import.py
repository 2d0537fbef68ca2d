import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.importing import import_job_create, organizations_import
from catalog.models import Category, City, ImportJob, Organization
from catalog.tests.factories import CategoryFactory, CityFactory
from portal.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER = "external_id,name,city,categories,description,address,phone,website,status,owner_email\n"
GOOD = (
    HEADER
    + 'a-1,Борода и Ко,Москва,Барбершопы;beauty,Стрижки,"Покровка, 17",+7 (495) 123-45-67,boroda.example.ru,published,\n'
    + "a-2,Точка роста,moscow,coworking,Коворкинг,ул. Ленина 1,8 495 765 43 21,,draft,\n"
    + "a-3,Пышка,Санкт-Петербург,,Пекарня,Невский 1,,https://pyshka.example.ru,,\n"
)
BAD = (
    HEADER
    + "b-1,Хорошая,Москва,Барбершопы,,,,,,\n"  # line 2: good
    + "b-2,,Москва,Барбершопы,,,,,,\n"  # line 3: no name
    + "b-3,Урюпинская,Урюпинск,,,,,,,\n"  # line 4: unknown city
    + "b-4,Дайвинг,Москва,Дайвинг,,,,,,\n"  # line 5: unknown category
    + "b-5,Звонок,Москва,,,,12-34,,,\n"  # line 6: bad phone
    + "b-6,Сайт,Москва,,,,,http://не сайт,,\n"  # line 7: bad URL
    + "b-7,Тоже хорошая,Москва,,,,,,,\n"  # line 8: good
)


@pytest.fixture
def catalog_refs():
    CityFactory()
    CityFactory(slug="spb", name="Санкт-Петербург")
    beauty = CategoryFactory(slug="beauty", name="Красота")
    CategoryFactory(slug="barbershop", name="Барбершопы", parent=beauty)
    CategoryFactory(slug="coworking", name="Коворкинги")


@pytest.fixture
def owner():
    return UserFactory(email="importer@example.com")


def snapshot():
    return sorted(
        (o.external_id, o.name, o.city_id, o.phone, o.website, o.status, o.owner_id, o.slug,
         tuple(sorted(o.categories.values_list("slug", flat=True))), o.updated_at)
        for o in Organization.objects.all()
    )  # fmt: skip


def test_good_file_imports_and_normalises(catalog_refs, owner):
    report = organizations_import(data=GOOD.encode(), default_owner=owner)
    assert report.errors == [] and report.created == 3
    org = Organization.objects.get(external_id="a-1")
    assert org.owner == owner and org.status == "published" and org.slug == "boroda-i-ko"
    assert org.phone == "+74951234567" and org.website == "https://boroda.example.ru"
    assert sorted(org.categories.values_list("slug", flat=True)) == ["barbershop", "beauty"]
    assert Organization.objects.get(external_id="a-3").status == "draft"


def test_reimporting_the_same_file_changes_nothing(catalog_refs, owner):
    organizations_import(data=GOOD.encode(), default_owner=owner)
    before = snapshot()
    report = organizations_import(data=GOOD.encode(), default_owner=UserFactory())
    assert (report.created, report.updated, report.skipped) == (0, 0, 3)
    assert snapshot() == before


def test_changed_row_updates_by_external_id(catalog_refs, owner):
    organizations_import(data=GOOD.encode(), default_owner=owner)
    changed = GOOD.replace("a-2,Точка роста,moscow,coworking", "a-2,Точка роста 2.0,moscow,coworking;beauty")
    report = organizations_import(data=changed.encode(), default_owner=owner)
    assert (report.created, report.updated, report.skipped) == (0, 1, 2)
    org = Organization.objects.get(external_id="a-2")
    assert org.name == "Точка роста 2.0"
    assert sorted(org.categories.values_list("slug", flat=True)) == ["beauty", "coworking"]


def test_bad_rows_are_reported_with_line_numbers_and_good_rows_import(catalog_refs, owner):
    report = organizations_import(data=BAD.encode(), default_owner=owner)
    by_line = {e["line"]: (e["field"], e["message"]) for e in report.errors}
    assert sorted(by_line) == [3, 4, 5, 6, 7]
    assert by_line[3][0] == "name"
    assert by_line[4] == ("city", "Unknown city “Урюпинск”.")
    assert by_line[5][0] == "categories" and "Дайвинг" in by_line[5][1]
    assert by_line[6][0] == "phone"
    assert by_line[7][0] == "website"
    assert sorted(Organization.objects.values_list("external_id", flat=True)) == ["b-1", "b-7"]
    assert not City.objects.filter(name="Урюпинск").exists()
    assert not Category.objects.filter(name="Дайвинг").exists()


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(catalog_refs, owner):
    report = organizations_import(data=BAD.encode(), default_owner=owner, all_or_nothing=True)
    assert report.rolled_back and report.error_rows == 5
    assert not Organization.objects.exists()
    report = organizations_import(data=GOOD.encode(), default_owner=owner, all_or_nothing=True)
    assert Organization.objects.count() == 3 and not report.rolled_back


def test_dry_run_changes_nothing(catalog_refs, owner):
    organizations_import(data=GOOD.encode(), default_owner=owner)
    before = snapshot()
    changed = GOOD.replace("Точка роста", "Другое имя") + "a-9,Новая,Москва,,,,,,,\n"
    report = organizations_import(data=changed.encode(), default_owner=owner, dry_run=True)
    assert (report.created, report.updated) == (1, 1)
    assert snapshot() == before


def test_unknown_owner_and_wrong_column_count_are_row_errors(catalog_refs, owner):
    data = HEADER + "c-1,Имя,Москва,,,,,,,nobody@example.com\n" + "c-2,Лишние,Москва,,,,,,,,,\n"
    report = organizations_import(data=data.encode(), default_owner=owner)
    assert [(e["line"], e["field"]) for e in report.errors] == [(2, "owner_email"), (3, "")]
    assert not Organization.objects.exists()


def test_too_long_or_nul_cells_are_row_errors_and_good_rows_still_import(catalog_refs, owner):
    data = (
        HEADER
        + "d-1,Хорошая,Москва,,,,,,,\n"  # line 2: good
        + f"d-2,Длинный адрес,Москва,,,{'а' * 301},,,,\n"  # line 3: address over 300
        + f"{'d' * 101},Длинный id,Москва,,,,,,,\n"  # line 4: external_id over 100
        + f"d-4,{'Я' * 201},Москва,,,,,,,\n"  # line 5: name over 200
        + "d-5,Нуль\x00,Москва,,,,,,,bad\x00@example.com\n"  # line 6: NUL characters
    )
    report = organizations_import(data=data.encode(), default_owner=owner)
    assert [(e["line"], e["field"]) for e in report.errors] == [
        (3, "address"), (4, "external_id"), (5, "name"), (6, "name"), (6, "owner_email")
    ]  # fmt: skip
    assert report.errors[0]["message"] == "address is longer than 300 characters."
    assert not report.rolled_back and report.created == 1
    assert list(Organization.objects.values_list("external_id", flat=True)) == ["d-1"]


@pytest.mark.parametrize(
    "data,message",
    [(b"", "empty"), (b"name,city\n", "Missing columns"), (b"\xff\xfe\x00bad", "UTF-8"),
     (HEADER.replace("owner_email", "password").encode(), "Unknown columns")],
)  # fmt: skip
def test_bad_files_are_refused(catalog_refs, owner, data, message):
    from portal.errors import ValidationError

    with pytest.raises(ValidationError, match=message):
        organizations_import(data=data, default_owner=owner)


def test_sample_file_imports_with_its_deliberately_bad_rows(owner):
    from catalog import demo

    demo.seed(io.StringIO(), {"users": [owner]})
    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "organizations.csv"
    report = organizations_import(data=sample.read_bytes(), default_owner=owner, dry_run=True)
    assert report.total >= 200
    assert 3 <= report.error_rows <= 10
    assert report.created == report.total - report.error_rows


def test_management_command(catalog_refs, owner, tmp_path, capsys):
    path = tmp_path / "orgs.csv"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import_organizations", str(path), "--dry-run", "--owner", owner.email)
    out = capsys.readouterr().out
    assert "line 4: city: Unknown city “Урюпинск”." in out
    assert not Organization.objects.exists()
    path.write_text(GOOD, encoding="utf-8")
    call_command("import_organizations", str(path), "--owner", owner.email)
    assert Organization.objects.count() == 3


def test_small_job_runs_at_once(catalog_refs, owner, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("orgs.csv", BAD.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(upload=upload, by=owner)
    job.refresh_from_db()
    assert job.status == "done" and job.total_rows == 7 and job.processed_rows == 7
    assert (job.created_count, job.error_count) == (2, 5)
    assert [e["line"] for e in job.errors] == [3, 4, 5, 6, 7]


def test_large_job_runs_in_celery_with_progress(catalog_refs, owner, settings, django_capture_on_commit_callbacks):
    settings.CATALOG_IMPORT_ASYNC_THRESHOLD = 100
    rows = "".join(f"big-{i},Организация {i},Москва,coworking,,,,,published,\n" for i in range(120))
    seen = []
    from catalog import importing

    original = importing.organizations_import

    def spy(**kwargs):
        inner = kwargs["progress"]

        def progress(done, total):
            inner(done, total)
            seen.append(ImportJob.objects.get().processed_rows if done < total else done)

        return original(**{**kwargs, "progress": progress})

    importing.organizations_import = spy
    try:
        upload = SimpleUploadedFile("big.csv", (HEADER + rows).encode(), content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            job = import_job_create(upload=upload, by=owner)
    finally:
        importing.organizations_import = original
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == 120 and job.progress_percent == 100
    assert seen[0] == 0 and seen[-1] == 120  # progress was reported while running
    assert Organization.objects.count() == 120


def test_job_runs_once(catalog_refs, owner, django_capture_on_commit_callbacks):
    from catalog.importing import import_job_run

    upload = SimpleUploadedFile("orgs.csv", GOOD.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(upload=upload, by=owner)
    import_job_run(job_id=job.pk)  # a redelivered task
    assert Organization.objects.count() == 3
    assert ImportJob.objects.get().created_count == 3


def test_admin_import_page(catalog_refs, staff_client, django_capture_on_commit_callbacks):
    url = reverse("admin:catalog_importjob_add")
    assert staff_client.get(url).status_code == 200
    upload = SimpleUploadedFile("orgs.csv", BAD.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"file": upload, "dry_run": ""})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:catalog_importjob_change", args=[job.pk])
    page = staff_client.get(response.url).content.decode()
    assert "Урюпинск" in page and "progress" in page
    assert Organization.objects.count() == 2


def test_admin_import_refuses_a_bad_file(catalog_refs, staff_client):
    upload = SimpleUploadedFile("orgs.csv", b"foo,bar\n1,2\n", content_type="text/csv")
    response = staff_client.post(reverse("admin:catalog_importjob_add"), {"file": upload})
    assert response.status_code == 200
    assert "Missing columns" in response.content.decode() or "Нет столбцов" in response.content.decode()
    assert not ImportJob.objects.exists()
