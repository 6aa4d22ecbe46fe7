"""The to-do's promise groups read their own few rows: partial indexes on the promises
awaiting the author's verdict (by request: joined to the author's requests), the disputed
ones and those not yet reported (by date), open or rescheduled in each case."""

from django.db import migrations, models

ACTIVE = ("open", "rescheduled")


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0002_commitment_state_withdrawn"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                condition=models.Q(
                    ("reported_at__isnull", False), ("state__in", ACTIVE), ("verdict", "")
                ),
                fields=["request", "due_date"],
                name="commitment_awaiting_verdict",
            ),
        ),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                condition=models.Q(("state__in", ACTIVE), ("verdict", "disputed")),
                fields=["due_date", "id"],
                name="commitment_disputed",
            ),
        ),
        migrations.AddIndex(
            model_name="commitment",
            index=models.Index(
                condition=models.Q(("reported_at__isnull", True), ("state__in", ACTIVE)),
                fields=["due_date", "id"],
                name="commitment_unreported_due",
            ),
        ),
    ]
