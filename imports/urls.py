"""Addresses of the import of past records (staff)."""

from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("template/<str:kind>.xlsx", views.template, name="template"),
    path("<int:pk>/", views.batch, name="batch"),
    path("<int:pk>/commit/", views.commit, name="commit"),
    path("<int:pk>/progress/", views.progress, name="progress"),
]
