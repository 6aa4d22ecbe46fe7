from django.urls import path

from . import notification_views, views

app_name = "core"

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path(
        "notifications/read-all/",
        notification_views.notification_read_all,
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        notification_views.notification_read,
        name="notification-read",
    ),
]
