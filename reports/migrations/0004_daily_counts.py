import django.db.models.deletion
from django.db import migrations, models


def _count(name: str) -> tuple[str, models.Field]:
    return (name, models.PositiveIntegerField(default=0))


def _dimension(name: str, to: str, verbose: str) -> tuple[str, models.Field]:
    return (
        name,
        models.ForeignKey(
            blank=True,
            db_constraint=False,
            null=True,
            on_delete=django.db.models.deletion.DO_NOTHING,
            related_name="+",
            to=to,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("reports", "0003_export_format_csv_comma"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyCountRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(unique=True, verbose_name="as of")),
                ("started_at", models.DateTimeField(verbose_name="started at")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="finished at"),
                ),
                ("rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
            ],
            options={
                "verbose_name": "daily counts build",
                "verbose_name_plural": "daily counts builds",
                "ordering": ["-day"],
            },
        ),
        migrations.CreateModel(
            name="RequestDailyCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(blank=True, null=True, verbose_name="submitted on")),
                _dimension("lead_department", "directory.department", "lead department"),
                _dimension("district", "directory.district", "district"),
                _dimension("category", "directory.category", "category"),
                ("status", models.CharField(max_length=20, verbose_name="status")),
                _count("received"),
                _count("overdue"),
                _count("overdue_open"),
                _count("due_this_week"),
                _count("answered"),
                _count("answered_late"),
                _count("on_time"),
                _count("routed"),
                _count("resolved"),
                _count("rating_sum"),
                _count("rating_count"),
            ],
            options={
                "verbose_name": "daily request count",
                "verbose_name_plural": "daily request counts",
                "indexes": [models.Index(fields=["day"], name="reports_daily_day_idx")],
            },
        ),
    ]
