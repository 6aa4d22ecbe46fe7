"""A controller's to-do reads only the final reports awaiting their decision: partial
indexes on the reported instructions by the controlling deputy and by the controlling
commission."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("instructions", "0006_instruction_created_updated_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="instruction",
            index=models.Index(
                condition=models.Q(("status", "reported")),
                fields=["controller_deputy", "due_date"],
                name="instruction_reported_deputy",
            ),
        ),
        migrations.AddIndex(
            model_name="instruction",
            index=models.Index(
                condition=models.Q(("status", "reported")),
                fields=["controller_commission", "due_date"],
                name="instr_reported_commission",
            ),
        ),
    ]
