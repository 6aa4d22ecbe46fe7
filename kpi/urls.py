"""Browser pages of the KPI, mounted at ``/kpi/`` (namespace ``kpi``)."""

from django.urls import path

from . import views

app_name = "kpi"

urlpatterns = [
    path("", views.kpi_index, name="index"),
    path("departments/<int:pk>/", views.department_page, name="department"),
    path("deputies/<int:pk>/", views.deputy_page, name="deputy"),
    path("methodology/", views.methodology, name="methodology"),
    path("weights/", views.weights_edit, name="weights"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<int:pk>/review/", views.flag_review, name="flag-review"),
    path("activities/", views.activities, name="activities"),
    path("survey/", views.survey, name="survey"),
    path("survey/rounds/", views.survey_round_open, name="survey-open"),
    path("survey/rounds/<int:pk>/close/", views.survey_round_close, name="survey-close"),
]
