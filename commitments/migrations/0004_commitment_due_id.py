"""The promise lists' order (date, then id) read from one index: a page costs the same
however many promises share a date."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0003_todo_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(fields=["due_date", "id"], name="commitment_due_id"),
        ),
    ]
