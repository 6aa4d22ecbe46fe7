"""Indexes for the instruction lists: every instruction by due date (the list's order),
the open ones by due date (partial: overdue, due this week), a department's by status and
due date."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("instructions", "0003_execution_report_is_public"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="instruction",
            index=models.Index(fields=["due_date", "id"], name="instruction_due"),
        ),
        migrations.AddIndex(
            model_name="instruction",
            index=models.Index(
                condition=models.Q(("status__in", ("on_control", "returned"))),
                fields=["due_date"],
                name="instruction_open_due",
            ),
        ),
        migrations.AddIndex(
            model_name="instruction",
            index=models.Index(
                fields=["lead_department", "status", "due_date"], name="instruction_lead_status_due"
            ),
        ),
    ]
