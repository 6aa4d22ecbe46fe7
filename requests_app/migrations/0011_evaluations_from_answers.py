"""Every evaluation already given becomes a row of its own.

Until now an answer carried its own evaluation in four columns; each sent final
answer that was evaluated gets one ``Evaluation`` row with the same decision,
rating, comment and time, given by the request's author.
"""

from django.db import migrations


def copy_evaluations(apps, schema_editor):
    Response = apps.get_model("requests_app", "Response")
    Evaluation = apps.get_model("requests_app", "Evaluation")
    rows = []
    answers = (
        Response.objects.exclude(evaluation="")
        .filter(evaluated_at__isnull=False)
        .select_related("request__author")
        .order_by("pk")
    )
    for answer in answers.iterator(chunk_size=2000):
        rows.append(
            Evaluation(
                request_id=answer.request_id,
                response_id=answer.pk,
                decision=answer.evaluation,
                rating=answer.evaluation_rating,
                comment=answer.evaluation_comment,
                by_id=answer.request.author.user_id,
                at=answer.evaluated_at,
            )
        )
        if len(rows) >= 2000:
            Evaluation.objects.bulk_create(rows)
            rows = []
    Evaluation.objects.bulk_create(rows)


def drop_evaluations(apps, schema_editor):
    apps.get_model("requests_app", "Evaluation").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0010_evaluations_clarifications")]

    operations = [migrations.RunPython(copy_evaluations, drop_evaluations)]
