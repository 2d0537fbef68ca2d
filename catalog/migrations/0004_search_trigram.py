# Hand-written: kept when the migrations are regenerated (docs/architecture.md, Migrations).
"""Search on PostgreSQL: typo tolerance and services and categories in the text search.

- ``pg_trgm`` and GIN trigram indexes on the organization's normalised name
  (``search_name``) and on the normalised names of its categories and active
  services (``search_extra``), for the word-similarity match of
  catalog.search.
- The search-vector trigger now also reads ``search_extra`` (the names of the
  organization's categories and active services, weight B; description C,
  address D) and reads ё as е; it runs only when one of those columns changes.
- Every existing row gets its search columns (on every database).

It needs the search columns, which the generated migration before it adds;
after a regeneration of the chain that is ``0001_initial``.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;",
    """
    CREATE OR REPLACE FUNCTION catalog_organization_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('russian', translate(coalesce(NEW.name, ''), 'ёЁ', 'еЕ')), 'A') ||
            setweight(to_tsvector('russian', translate(coalesce(NEW.search_extra, ''), 'ёЁ', 'еЕ')), 'B') ||
            setweight(to_tsvector('russian', translate(coalesce(NEW.description, ''), 'ёЁ', 'еЕ')), 'C') ||
            setweight(to_tsvector('russian', translate(coalesce(NEW.address, ''), 'ёЁ', 'еЕ')), 'D');
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql;
    """,
    "DROP TRIGGER IF EXISTS catalog_organization_search_vector_trg ON catalog_organization;",
    """
    CREATE TRIGGER catalog_organization_search_vector_trg
    BEFORE INSERT OR UPDATE OF name, description, address, search_extra ON catalog_organization
    FOR EACH ROW EXECUTE FUNCTION catalog_organization_search_vector();
    """,
    "CREATE INDEX IF NOT EXISTS catalog_organization_name_trgm ON catalog_organization "
    "USING gin (search_name gin_trgm_ops);",
    "CREATE INDEX IF NOT EXISTS catalog_organization_extra_trgm ON catalog_organization "
    "USING gin (search_extra gin_trgm_ops);",
]

BACKWARD = [
    "DROP INDEX IF EXISTS catalog_organization_extra_trgm;",
    "DROP INDEX IF EXISTS catalog_organization_name_trgm;",
    "DROP TRIGGER IF EXISTS catalog_organization_search_vector_trg ON catalog_organization;",
    """
    CREATE OR REPLACE FUNCTION catalog_organization_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('russian', coalesce(NEW.name, '')), 'A') ||
            setweight(to_tsvector('russian', coalesce(NEW.description, '')), 'B') ||
            setweight(to_tsvector('russian', coalesce(NEW.address, '')), 'C');
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER catalog_organization_search_vector_trg
    BEFORE INSERT OR UPDATE ON catalog_organization
    FOR EACH ROW EXECUTE FUNCTION catalog_organization_search_vector();
    """,
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


def backfill(apps, schema_editor):
    """Fill the search columns of existing rows (the same rules as catalog.search, on historical models)."""
    from catalog.search import normalize

    Organization = apps.get_model("catalog", "Organization")
    for organization in Organization.objects.prefetch_related("categories", "services"):
        categories = [normalize(c.name) for c in sorted(organization.categories.all(), key=lambda c: (c.position, c.name))]
        services = sorted({normalize(s.name) for s in organization.services.all() if s.is_active})
        extra = "\n".join([*categories, *services])
        parts = (normalize(organization.name), extra, normalize(organization.description), normalize(organization.address))
        organization.search_name = parts[0]
        organization.search_extra = extra
        organization.search_text = "\n".join(part for part in parts if part)
        organization.save(update_fields=["search_name", "search_extra", "search_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_search_trigger"),
        ("catalog", "0003_search_columns_rating_tones"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
