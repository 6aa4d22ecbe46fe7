"""Every extension names its item: ``item_type``/``item_id`` from ``request``/``instruction``.

Its own migration (its own transaction on PostgreSQL), so that the foreign keys
written back when it is unapplied are checked before 0007 restores the constraints.
"""

from typing import Any

from django.db import migrations
from django.db.models import F


def forwards(apps: Any, schema_editor: Any) -> None:
    Extension = apps.get_model("requests_app", "Extension")
    rows = Extension.objects.using(schema_editor.connection.alias)
    rows.filter(request__isnull=False).update(item_type="request", item_id=F("request_id"))
    rows.filter(instruction__isnull=False).update(
        item_type="instruction", item_id=F("instruction_id")
    )


def backwards(apps: Any, schema_editor: Any) -> None:
    Extension = apps.get_model("requests_app", "Extension")
    rows = Extension.objects.using(schema_editor.connection.alias)
    rows.filter(item_type="request").update(request_id=F("item_id"), instruction_id=None)
    rows.filter(item_type="instruction").update(instruction_id=F("item_id"), request_id=None)


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0007_extension_item_columns")]

    operations = [migrations.RunPython(forwards, backwards)]
