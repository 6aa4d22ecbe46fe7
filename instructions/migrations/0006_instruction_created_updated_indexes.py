"""Indexes for the daily counts' live part: the instructions created on a day (today, a
changed day) and those changed since the nightly build, read by range, not by a scan."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("instructions", "0005_meeting_protocol_date_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="instruction",
            index=models.Index(fields=["created_at"], name="instruction_created"),
        ),
        migrations.AddIndex(
            model_name="instruction",
            index=models.Index(fields=["updated_at"], name="instruction_updated"),
        ),
    ]
