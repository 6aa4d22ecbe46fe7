"""The note of the default weights becomes the portal's own sentence, shown translated."""

from django.db import migrations

OLD_NOTE = "Defaults of the methodology (kpi.md)."
NEW_NOTE = "The default weights of the methodology."


def neutral_note(apps, schema_editor):
    KpiWeights = apps.get_model("kpi", "KpiWeights")
    KpiWeights.objects.filter(note=OLD_NOTE).update(note=NEW_NOTE)


class Migration(migrations.Migration):
    dependencies = [("kpi", "0002_default_weights")]

    operations = [migrations.RunPython(neutral_note, migrations.RunPython.noop)]
