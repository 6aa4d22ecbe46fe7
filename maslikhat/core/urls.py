from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
]
