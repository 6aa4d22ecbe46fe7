"""Version 1 of the composite weights: the defaults of the methodology."""

from django.db import migrations

DEFAULTS = {
    "department": {
        "timeliness": 0.35,
        "quality": 0.25,
        "rework": 0.15,
        "discipline": 0.15,
        "resolution": 0.10,
    },
    "deputy": {
        "requests": 0.20,
        "request_quality": 0.30,
        "follow_through": 0.20,
        "resolution": 0.15,
        "activity": 0.15,
    },
}


def create_defaults(apps, schema_editor):
    KpiWeights = apps.get_model("kpi", "KpiWeights")
    for kind, weights in DEFAULTS.items():
        if not KpiWeights.objects.filter(kind=kind).exists():
            KpiWeights.objects.create(
                kind=kind,
                version=1,
                weights=weights,
                note="The default weights of the methodology.",
                is_current=True,
            )


class Migration(migrations.Migration):
    dependencies = [("kpi", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
