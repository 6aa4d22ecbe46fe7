import django.db.models.deletion
from django.db import migrations, models


def forget_builds(apps, schema_editor):
    """Builds made before this migration lack the new counts: readers count live until the
    next nightly build (or ``manage.py build_daily_counts``)."""
    apps.get_model("reports", "DailyCountRun").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("reports", "0004_daily_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="dailycountrun",
            name="instruction_rows",
            field=models.PositiveIntegerField(default=0, verbose_name="instruction rows"),
        ),
        migrations.AddField(
            model_name="requestdailycount",
            name="published",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="InstructionDailyCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="created on")),
                ("lead", models.BooleanField(verbose_name="lead department")),
                ("status", models.CharField(max_length=24, verbose_name="status")),
                ("received", models.PositiveIntegerField(default=0)),
                ("overdue", models.PositiveIntegerField(default=0)),
                ("overdue_open", models.PositiveIntegerField(default=0)),
                ("due_this_week", models.PositiveIntegerField(default=0)),
                ("on_time", models.PositiveIntegerField(default=0)),
                ("late", models.PositiveIntegerField(default=0)),
                (
                    "department",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="directory.department",
                    ),
                ),
            ],
            options={
                "verbose_name": "daily instruction count",
                "verbose_name_plural": "daily instruction counts",
                "indexes": [
                    models.Index(
                        fields=["department", "lead"], name="reports_instr_daily_dept_idx"
                    ),
                    models.Index(fields=["day"], name="reports_instr_daily_day_idx"),
                ],
            },
        ),
        migrations.RunPython(forget_builds, migrations.RunPython.noop),
    ]
