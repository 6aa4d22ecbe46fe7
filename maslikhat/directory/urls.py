"""Staff pages of the directory app: the working calendar and the deadline rules."""

from django.urls import path

from . import calendar_views

app_name = "directory"

urlpatterns = [
    path("calendar/", calendar_views.calendar_page, name="calendar"),
]
