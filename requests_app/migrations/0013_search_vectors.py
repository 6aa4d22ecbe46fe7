"""Search reads stored word vectors (PostgreSQL): ``docs/search.md``.

Each request keeps its two documents parsed into ``tsvector`` columns beside them (Russian
configuration): ``search_vector`` (the participants' document), ``published_vector`` (the
published document) and ``reader_vector`` (the published document and the address, for a
signed-in reader). A trigger keeps them current whenever a document or the address changes,
so every write that rebuilds a document (``lifecycle.refresh_search_document``) rebuilds its
vector too, and other writes (a status, a due date) parse nothing. Each has a GIN index and
planner statistics: a rare word is answered from the index; a common one is checked row by
row while the list walks its order, which reads a stored vector instead of parsing the
document.

The columns are filled by one rewrite of the table (added as generated columns, then made
plain columns the trigger maintains); the former expression indexes are dropped first so
the rewrite does not parse every document for them too. The columns are not fields of the
model: the search reads them by name (``selectors.StoredVector``).

SQLite has no ``tsvector``: there the migration does nothing and search matches words with
LIKE.
"""

from django.db import migrations

TABLE = "requests_app_deputyrequest"

#: column: the documents it is parsed from.
VECTORS = {
    "search_vector": "coalesce(search_document, '')",
    "published_vector": "coalesce(published_document, '')",
    "reader_vector": "coalesce(published_document, '') || ' ' || coalesce(address, '')",
}

INDEXES = {
    "search_vector": "request_search_vector",
    "published_vector": "request_published_vector",
    "reader_vector": "request_reader_vector",
}

FORMER_INDEXES = {
    "request_search_ru": "to_tsvector('russian'::regconfig, COALESCE(search_document, ''))",
    "request_published_search_ru": (
        "to_tsvector('russian'::regconfig, COALESCE(published_document, ''))"
    ),
    "request_reader_search_ru": (
        "to_tsvector('russian'::regconfig, "
        "COALESCE(published_document, '') || ' ' || COALESCE(address, ''))"
    ),
}

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION request_search_vectors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.search_document IS DISTINCT FROM OLD.search_document THEN
        NEW.search_vector := to_tsvector('russian'::regconfig, coalesce(NEW.search_document, ''));
    END IF;
    IF TG_OP = 'INSERT' OR NEW.published_document IS DISTINCT FROM OLD.published_document THEN
        NEW.published_vector := to_tsvector('russian'::regconfig,
            coalesce(NEW.published_document, ''));
    END IF;
    IF TG_OP = 'INSERT' OR NEW.published_document IS DISTINCT FROM OLD.published_document
            OR NEW.address IS DISTINCT FROM OLD.address THEN
        NEW.reader_vector := to_tsvector('russian'::regconfig,
            coalesce(NEW.published_document, '') || ' ' || coalesce(NEW.address, ''));
    END IF;
    RETURN NEW;
END
$$;
"""

TRIGGER = f"""
CREATE TRIGGER request_search_vectors
BEFORE INSERT OR UPDATE OF search_document, published_document, address ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION request_search_vectors();
"""


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    for name in FORMER_INDEXES:
        run(f"DROP INDEX IF EXISTS {name}")
    # One rewrite of the table fills the three columns; then they become plain columns.
    run(
        f"ALTER TABLE {TABLE} "
        + ", ".join(
            f"ADD COLUMN {column} tsvector GENERATED ALWAYS AS "
            f"(to_tsvector('russian'::regconfig, {source})) STORED"
            for column, source in VECTORS.items()
        )
    )
    for column in VECTORS:
        run(f"ALTER TABLE {TABLE} ALTER COLUMN {column} DROP EXPRESSION")
    run(TRIGGER_FUNCTION)
    run(TRIGGER)
    # GIN indexes build far faster with room to sort in (this transaction only).
    run("SET LOCAL maintenance_work_mem = '256MB'")
    for column, index in INDEXES.items():
        run(f"CREATE INDEX {index} ON {TABLE} USING gin ({column})")
    # The planner's statistics of the new columns (how common each word is).
    run(f"ANALYZE {TABLE}")


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(f"DROP TRIGGER IF EXISTS request_search_vectors ON {TABLE}")
    run("DROP FUNCTION IF EXISTS request_search_vectors()")
    run(f"ALTER TABLE {TABLE} " + ", ".join(f"DROP COLUMN {column}" for column in VECTORS))
    for name, expression in FORMER_INDEXES.items():
        run(f"CREATE INDEX {name} ON {TABLE} USING gin (({expression}))")


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0012_list_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
