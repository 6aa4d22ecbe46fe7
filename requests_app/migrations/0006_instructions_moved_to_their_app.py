"""Meetings, protocols and instructions now belong to the ``instructions`` app.

Only Django's state changes: the tables stay where they are (the ``instructions``
models keep their ``db_table``), every row stays, and an extension of an
instruction keeps pointing at the same row.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0005_search_by_audience"),
        ("instructions", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="extension",
                    name="instruction",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="extensions",
                        to="instructions.instruction",
                        verbose_name="instruction",
                    ),
                ),
                migrations.DeleteModel(name="ExecutionReport"),
                migrations.DeleteModel(name="Instruction"),
                migrations.DeleteModel(name="ProtocolItem"),
                migrations.DeleteModel(name="Protocol"),
                migrations.DeleteModel(name="Meeting"),
            ],
        ),
    ]
