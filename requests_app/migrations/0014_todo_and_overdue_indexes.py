"""The overdue list walks its own rows by due date: a partial index on the requests that
can be overdue — in work with the clock running and no answer yet (past due once the day
passes), or answered after the due date. ``selectors.overdue`` asks exactly these two
conditions, so PostgreSQL reads the list's page from the index in due-date order instead of
every request. The answer's day is the portal's local day (``TIME_ZONE``), as in the list's
condition.

The to-do's reads: a deputy's requests as ids (``author``, ``id``), read from the index
alone, so the promises awaiting the author's verdict are matched to them without reading a
request row; the draft answers awaiting the head's approval and those returned to their
executor — the few answers in these states, by request."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0013_search_vectors"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                condition=models.Q(
                    models.Q(
                        ("answered_at__isnull", True),
                        ("paused_since__isnull", True),
                        ("status", "in_progress"),
                    ),
                    models.Q(
                        ("answered_at__date__gt", models.F("due_date")),
                        ("answered_at__isnull", False),
                        ("due_date__isnull", False),
                    ),
                    _connector="OR",
                ),
                fields=["due_date", "id"],
                name="request_overdue_due",
            ),
        ),
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(fields=["author", "id"], name="request_author_id"),
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("status", "draft")), fields=["request"], name="response_draft"
            ),
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                condition=models.Q(("status", "returned")),
                fields=["drafted_by", "request"],
                name="response_returned",
            ),
        ),
    ]
