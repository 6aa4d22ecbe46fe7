"""The registered requests newest first — the default order of the lists of staff, the
chair and departments — without walking the drafts, which have no submission date and so
come first in that order; and the routing queue (submitted requests) oldest first, for
staff's list and to-do."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0014_todo_and_overdue_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                condition=models.Q(("status", "draft"), _negated=True),
                fields=["-submitted_at", "-id"],
                name="request_registered_recent",
            ),
        ),
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                condition=models.Q(("status", "submitted")),
                fields=["submitted_at", "id"],
                name="request_to_route",
            ),
        ),
    ]
