"""Indexes for a person's notifications newest first (the bell's list and the API) and
for the kinds of notifications since a moment (the daily digest)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_notification_promise_kinds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                fields=["user", "-created_at", "-id"], name="notification_user_recent"
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["kind", "created_at"], name="notification_kind_created"),
        ),
    ]
