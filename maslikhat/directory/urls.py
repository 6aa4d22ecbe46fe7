"""Staff pages of the directory app: the working calendar and the deadline rules."""

from django.urls import path

from . import calendar_views

app_name = "directory"

urlpatterns = [
    path("calendar/", calendar_views.calendar_page, name="calendar"),
    path("calendar/days/<int:pk>/", calendar_views.calendar_day_edit, name="calendar-day"),
    path(
        "calendar/days/<int:pk>/remove/",
        calendar_views.calendar_day_remove,
        name="calendar-day-remove",
    ),
    path("calendar/rules/", calendar_views.rule_list, name="rules"),
    path("calendar/rules/<slug:code>/", calendar_views.rule_edit, name="rule"),
]
