"""Extensions point at their item by ``(item_type, item_id)``, like messages and history.

First of three steps that hand the model to the shared machinery (``core``):
the two columns are added and the constraints that name the old foreign keys are
dropped. The table keeps its name (``requests_app_extension``) and every row its id.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0006_instructions_moved_to_their_app"),
        ("instructions", "0002_content_types_follow_the_models"),
    ]

    operations = [
        migrations.AddField(
            model_name="extension",
            name="item_type",
            field=models.CharField(
                choices=[("request", "request"), ("instruction", "instruction")],
                default="request",
                max_length=16,
                verbose_name="item type",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="extension",
            name="item_id",
            field=models.PositiveBigIntegerField(default=0, verbose_name="item"),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(
            model_name="extension", name="extension_one_pending_per_request"
        ),
        migrations.RemoveConstraint(
            model_name="extension", name="extension_one_pending_per_instruction"
        ),
        migrations.RemoveConstraint(model_name="extension", name="extension_of_exactly_one_item"),
    ]
