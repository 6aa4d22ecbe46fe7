"""Extensions join the shared item machinery: ``core.Extension``, keyed by item.

``requests_app`` 0007–0009 gave the table its ``(item_type, item_id)`` columns,
filled them from the old foreign keys and dropped those; here Django's state
takes the same table over (``requests_app_extension``: every row keeps its id),
and the database gets the index and the rule of one pending extension per item.
The content type is renamed, so permissions and admin log entries follow.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _relabel(apps: Any, schema_editor: Any, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    if not rows.filter(app_label=new, model="extension").exists():
        rows.filter(app_label=old, model="extension").update(app_label=new)
    ContentType.objects.clear_cache()


def forwards(apps: Any, schema_editor: Any) -> None:
    _relabel(apps, schema_editor, old="requests_app", new="core")


def backwards(apps: Any, schema_editor: Any) -> None:
    _relabel(apps, schema_editor, old="core", new="requests_app")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0002_outgoingemail"),
        ("requests_app", "0009_extension_moved_to_core"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Extension",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "item_type",
                            models.CharField(
                                choices=[("request", "request"), ("instruction", "instruction")],
                                max_length=16,
                                verbose_name="item type",
                            ),
                        ),
                        ("item_id", models.PositiveBigIntegerField(verbose_name="item")),
                        ("previous_due_date", models.DateField(verbose_name="due date before")),
                        ("new_due_date", models.DateField(verbose_name="new due date")),
                        ("reason", models.TextField(verbose_name="reason")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Awaiting decision"),
                                    ("approved", "Approved"),
                                    ("rejected", "Rejected"),
                                ],
                                default="pending",
                                max_length=10,
                                verbose_name="status",
                            ),
                        ),
                        (
                            "decided_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
                        ),
                        ("comment", models.TextField(blank=True, verbose_name="decision comment")),
                        (
                            "created_at",
                            models.DateTimeField(auto_now_add=True, verbose_name="asked at"),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="decided by",
                            ),
                        ),
                        (
                            "requested_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="asked by",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "extension",
                        "verbose_name_plural": "extensions",
                        "db_table": "requests_app_extension",
                        "ordering": ["created_at", "id"],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AddIndex(
            model_name="extension",
            index=models.Index(fields=["item_type", "item_id"], name="extension_item"),
        ),
        migrations.AddConstraint(
            model_name="extension",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("item_type", "item_id"),
                name="extension_one_pending_per_item",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
