"""Search by audience: a published document beside the participants' one (docs/search.md).

``published_document`` holds what anyone who sees a request may read of it (number, title,
text, proposed solution and, once closed, the final answer); ``search_document`` stays the
participants' document and now also holds the names of the request's files. Both are
filled here for existing requests, in batches, the way ``services.search_documents``
builds them.

On PostgreSQL two GIN indexes are built from the same ``SearchVector`` expressions the
search uses: the published document alone (the public) and with the address (signed-in
readers). SQLite has no GIN indexes: there search matches words with LIKE.
"""

from typing import Any

from django.db import migrations, models

BATCH = 1000


def search_indexes():  # type: ignore[no-untyped-def]
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    return [
        GinIndex(
            SearchVector("published_document", config="russian"),
            name="request_published_search_ru",
        ),
        GinIndex(
            SearchVector("published_document", "address", config="russian"),
            name="request_reader_search_ru",
        ),
    ]


def _joined(parts: list[Any]) -> str:
    return "\n".join(str(p) for p in parts if p).lower()


def backfill(apps, schema_editor):  # type: ignore[no-untyped-def]
    request_model = apps.get_model("requests_app", "DeputyRequest")
    response_model = apps.get_model("requests_app", "Response")
    message_model = apps.get_model("core", "Message")
    attachment_model = apps.get_model("core", "Attachment")
    last_pk = 0
    while True:
        rows = list(
            request_model.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "number", "title", "body", "proposed_solution", "address", "status")[:BATCH]
        )
        if not rows:
            return
        last_pk = rows[-1].pk
        ids = [row.pk for row in rows]
        sent: dict[int, list[tuple[str, str]]] = {}
        for request_id, kind, text in (
            response_model.objects.filter(request_id__in=ids, status="sent")
            .order_by("sent_at", "id")
            .values_list("request_id", "kind", "text")
        ):
            sent.setdefault(request_id, []).append((kind, text))
        thread: dict[int, list[str]] = {}
        for item_id, text in (
            message_model.objects.filter(item_type="request", item_id__in=ids)
            .order_by("created_at", "id")
            .values_list("item_id", "text")
        ):
            thread.setdefault(item_id, []).append(text)
        files: dict[int, list[str]] = {}
        for item_id, name in (
            attachment_model.objects.filter(item_type="request", item_id__in=ids)
            .order_by("created_at", "id")
            .values_list("item_id", "original_name")
        ):
            files.setdefault(item_id, []).append(name)
        for row in rows:
            answers = sent.get(row.pk, [])
            finals = [text for kind, text in answers if kind == "final"]
            public_answer = finals[-1] if finals and row.status == "closed" else ""
            own = [row.number, row.title, row.body, row.proposed_solution]
            row.search_document = _joined(
                [
                    *own,
                    row.address,
                    *(text for _kind, text in answers),
                    *thread.get(row.pk, []),
                    *files.get(row.pk, []),
                ]
            )
            row.published_document = _joined([*own, public_answer])
        request_model.objects.bulk_update(
            rows, ["search_document", "published_document"], batch_size=200
        )


def create_indexes(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("requests_app", "DeputyRequest")
    for index in search_indexes():
        schema_editor.add_index(model, index)


def drop_indexes(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("requests_app", "DeputyRequest")
    for index in search_indexes():
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("requests_app", "0004_withdrawn_drafts_have_no_number"),
    ]

    operations = [
        migrations.AddField(
            model_name="deputyrequest",
            name="published_document",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
