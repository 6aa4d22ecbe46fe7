"""Browser pages of the KPI, mounted at ``/kpi/`` (namespace ``kpi``)."""

from django.urls import path

from .views import activities, entity, flags, methodology, rankings, survey, weights

app_name = "kpi"

urlpatterns = [
    path("", rankings.kpi_index, name="index"),
    path("departments/<int:pk>/", entity.department_page, name="department"),
    path("deputies/<int:pk>/", entity.deputy_page, name="deputy"),
    path("methodology/", methodology.methodology, name="methodology"),
    path("weights/", weights.weights_edit, name="weights"),
    path("flags/", flags.flag_list, name="flags"),
    path("flags/<int:pk>/review/", flags.flag_review, name="flag-review"),
    path("activities/", activities.activities, name="activities"),
    path("survey/", survey.survey, name="survey"),
    path("survey/rounds/", survey.survey_round_open, name="survey-open"),
    path("survey/rounds/<int:pk>/close/", survey.survey_round_close, name="survey-close"),
]
