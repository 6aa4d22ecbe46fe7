"""A new version of the departments' weights: promises kept joins the composite with 0.10.

The weights in force are scaled by 0.9 and "promises" gets 0.10, so they still add up to 1
and a department without promises due keeps its composite (the component is left out and
the others renormalised). Existing snapshots keep the weights version they were computed with.
"""

from django.db import migrations

PROMISES_WEIGHT = 0.10
NOTE = "Promises kept joins the composite with 0.10; the other weights are scaled by 0.9."


def add_promises_weight(apps, schema_editor):
    KpiWeights = apps.get_model("kpi", "KpiWeights")
    current = (
        KpiWeights.objects.filter(kind="department", is_current=True).order_by("-version").first()
    )
    if current is None or "promises" in current.weights:
        return
    scale = 1 - PROMISES_WEIGHT
    weights = {key: round(float(value) * scale, 6) for key, value in current.weights.items()}
    weights["promises"] = PROMISES_WEIGHT
    latest = KpiWeights.objects.filter(kind="department").order_by("-version").first()
    KpiWeights.objects.filter(kind="department", is_current=True).update(is_current=False)
    KpiWeights.objects.create(
        kind="department",
        version=latest.version + 1,
        weights=weights,
        note=NOTE,
        is_current=True,
    )


def remove_promises_weight(apps, schema_editor):
    KpiWeights = apps.get_model("kpi", "KpiWeights")
    added = KpiWeights.objects.filter(kind="department", note=NOTE, is_current=True).first()
    if added is None:
        return
    added.delete()
    previous = KpiWeights.objects.filter(kind="department").order_by("-version").first()
    if previous is not None:
        previous.is_current = True
        previous.save(update_fields=["is_current"])


class Migration(migrations.Migration):
    dependencies = [("kpi", "0003_neutral_default_weights_note")]

    operations = [migrations.RunPython(add_promises_weight, remove_promises_weight)]
