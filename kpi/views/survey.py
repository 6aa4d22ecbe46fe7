"""The perception survey: its report (public), answering the open round, staff's rounds."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from maslikhat.core.web import call_service
from maslikhat.directory.actors import actor_for

from .. import permissions, presenters, selectors, services
from ..forms import SurveyAnswerForm, SurveyRoundOpenForm
from ..models import SurveyPool
from .base import id_or_404, render_page, require


def _survey_page(
    request: HttpRequest,
    *,
    form: SurveyAnswerForm | None = None,
    open_form: SurveyRoundOpenForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = actor_for(request.user)
    pool = services.survey_pool_of(actor)
    page = selectors.survey_page(user=request.user, pool=pool)
    may_answer = page.open_round is not None and pool is not None and not page.answered
    if may_answer and form is None:
        form = SurveyAnswerForm(questions=page.questions)
    staff = permissions.can_manage_survey_rounds(actor)
    chart = presenters.survey_chart(page.report, page.questions)
    context = {
        "questions": page.questions,
        "rounds": presenters.survey_rounds(page.report, page.questions),
        "chart": chart,
        "chart_rows": presenters.chart_rows(chart),
        "open_round": page.open_round,
        "min_group_answers": page.min_group_answers,
        "pool": pool,
        "pool_label": SurveyPool(pool).label if pool else "",
        "answered": page.answered,
        "form": form if may_answer else None,
        "staff": staff,
        "open_form": open_form
        or (SurveyRoundOpenForm(initial={"year": timezone.localdate().year}) if staff else None),
    }
    return render_page(request, "kpi/survey.html", context, active="survey", status=status)


@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest) -> HttpResponse:
    """The survey report (public); a deputy or civil servant answers the open round here."""
    if request.method != "POST":
        return _survey_page(request)
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={reverse('kpi:survey')}")
    form = SurveyAnswerForm(request.POST, questions=selectors.survey_questions())
    if not form.is_valid():
        return _survey_page(request, form=form, status=400)
    answered = call_service(
        request,
        services.survey_answer_submit,
        form=form,
        success=gettext("Thank you: your answers were recorded."),
        by=request.user,
        **form.service_kwargs(),
    )
    if answered.ok:
        return redirect("kpi:survey")
    return _survey_page(request, form=form, status=answered.status)


@login_required
@require_POST
def survey_round_open(request: HttpRequest) -> HttpResponse:
    """Staff open this year's round."""
    require(request, permissions.can_manage_survey_rounds)
    form = SurveyRoundOpenForm(request.POST)
    if not form.is_valid():
        return _survey_page(request, open_form=form, status=400)
    opened = call_service(
        request,
        services.survey_round_open,
        form=form,
        success=lambda survey: (
            gettext("The survey round of %(year)s is open.") % {"year": survey.year}
        ),
        by=request.user,
        year=form.cleaned_data["year"],
    )
    if opened.ok:
        return redirect("kpi:survey")
    return _survey_page(request, open_form=form, status=opened.status)


@login_required
@require_POST
def survey_round_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff close a round; its answers then only feed the report."""
    require(request, permissions.can_manage_survey_rounds)
    call_service(
        request,
        services.survey_round_close,
        success=lambda survey: (
            gettext("The survey round of %(year)s is closed.") % {"year": survey.year}
        ),
        by=request.user,
        round_id=id_or_404(pk),
    )
    return redirect("kpi:survey")
