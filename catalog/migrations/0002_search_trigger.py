# Hand-written: kept when the migrations are regenerated (docs/architecture.md, Migrations).
"""PostgreSQL full-text search for organizations.

A trigger keeps ``search_vector`` current on every insert and update (also for
bulk writes and imports) and a GIN index serves the search. SQLite has neither:
there the catalog falls back to a simple icontains search, so this migration
does nothing.
"""

from django.db import migrations

FORWARD = [
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
    "DROP TRIGGER IF EXISTS catalog_organization_search_vector_trg ON catalog_organization;",
    """
    CREATE TRIGGER catalog_organization_search_vector_trg
    BEFORE INSERT OR UPDATE ON catalog_organization
    FOR EACH ROW EXECUTE FUNCTION catalog_organization_search_vector();
    """,
    "UPDATE catalog_organization SET name = name;",
    "CREATE INDEX IF NOT EXISTS catalog_organization_search_gin ON catalog_organization USING gin (search_vector);",
]

BACKWARD = [
    "DROP INDEX IF EXISTS catalog_organization_search_gin;",
    "DROP TRIGGER IF EXISTS catalog_organization_search_vector_trg ON catalog_organization;",
    "DROP FUNCTION IF EXISTS catalog_organization_search_vector();",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False),
    ]
