"""Indexes for the meeting and protocol lists: newest first (``date``, ``id``), so a page
walks the index with a LIMIT instead of sorting the whole table."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("instructions", "0004_list_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="meeting",
            index=models.Index(fields=["date", "id"], name="meeting_date_id"),
        ),
        migrations.AddIndex(
            model_name="protocol",
            index=models.Index(fields=["date", "id"], name="protocol_date_id"),
        ),
    ]
