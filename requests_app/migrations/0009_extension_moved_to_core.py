"""The foreign keys of extensions go; the model is handed to the shared machinery.

``core.Extension`` (``core/0003``) takes the same table over, keyed by
``(item_type, item_id)``: Django's state changes, the rows and their ids stay.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0008_extension_item_filled")]

    operations = [
        migrations.RemoveField(model_name="extension", name="request"),
        migrations.RemoveField(model_name="extension", name="instruction"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Extension")],
            database_operations=[],
        ),
    ]
