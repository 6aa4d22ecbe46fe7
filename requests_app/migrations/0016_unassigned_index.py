"""A department's requests in work without an executor — the head's to-do and the inbox's
"Unassigned" tab — read by due date from their own partial index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0015_registered_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                condition=models.Q(("executor__isnull", True), ("status", "in_progress")),
                fields=["lead_department", "due_date"],
                name="request_unassigned",
            ),
        ),
    ]
