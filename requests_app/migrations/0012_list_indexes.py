"""Indexes for the request lists' filters and orderings: requests in work by due date
(partial), status and district newest first, a department's by status and due date, a
deputy's newest first, the published ones newest first (partial), and changes since a
moment (``updated_at``, read by the daily counts)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("requests_app", "0011_evaluations_from_answers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                condition=models.Q(("status", "in_progress")),
                fields=["due_date"],
                name="request_in_work_due",
            ),
        ),
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                fields=["status", "district", "-submitted_at"], name="request_status_district"
            ),
        ),
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                fields=["lead_department", "status", "due_date"], name="request_lead_status_due"
            ),
        ),
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(fields=["author", "-submitted_at"], name="request_author_recent"),
        ),
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(
                condition=models.Q(("is_public", True)),
                fields=["-submitted_at", "-id"],
                name="request_public_recent",
            ),
        ),
        migrations.AddIndex(
            model_name="deputyrequest",
            index=models.Index(fields=["updated_at"], name="request_updated_at"),
        ),
    ]
