"""Full-text search index for PostgreSQL (Russian configuration).

The index is built from the same ``SearchVector`` expression the search query
uses, so PostgreSQL can use it. SQLite has no GIN indexes: there the migration
does nothing and search falls back to a simple word match.
"""

from django.db import migrations


def search_index():  # type: ignore[no-untyped-def]
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    return GinIndex(SearchVector("search_document", config="russian"), name="request_search_ru")


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("requests_app", "DeputyRequest")
    schema_editor.add_index(model, search_index())


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("requests_app", "DeputyRequest")
    schema_editor.remove_index(model, search_index())


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
