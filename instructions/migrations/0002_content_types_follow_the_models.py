"""The content types (and so the permissions and admin log entries) of the moved models.

Django names a model's content type by its app: after the move the portal's
code asks for ``instructions.instruction``. Renaming the existing rows keeps
every permission and admin log entry that points at them; without it Django
would create new rows and leave the old ones orphaned. The portal's own history,
threads, files and notifications name their item by kind (``item_type``
"instruction"), not by content type, so they need nothing.
"""

from typing import Any

from django.db import migrations

MODELS = ("meeting", "protocol", "protocolitem", "instruction", "executionreport")


def _relabel(apps: Any, schema_editor: Any, *, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    taken = set(
        ContentType.objects.using(db)
        .filter(app_label=new, model__in=MODELS)
        .values_list("model", flat=True)
    )
    # A model whose new row already exists (created by an earlier run of ``migrate``)
    # keeps both rows untouched rather than breaking the unique (app_label, model).
    ContentType.objects.using(db).filter(app_label=old, model__in=MODELS).exclude(
        model__in=taken
    ).update(app_label=new)
    ContentType.objects.clear_cache()


def forwards(apps: Any, schema_editor: Any) -> None:
    _relabel(apps, schema_editor, old="requests_app", new="instructions")


def backwards(apps: Any, schema_editor: Any) -> None:
    _relabel(apps, schema_editor, old="instructions", new="requests_app")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("instructions", "0001_initial"),
        ("requests_app", "0006_instructions_moved_to_their_app"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
