"""Following by e-mail and the feeds, under the public portal's addresses."""

from django.urls import path

from . import feeds, views

app_name = "follows"

urlpatterns = [
    path("public/follow/", views.follow, name="follow"),
    path("public/follow/confirm/<str:token>/", views.confirm, name="confirm"),
    path("public/follow/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("public/feeds/requests.atom", views.requests_feed, name="feed-requests"),
    path("public/feeds/instructions.atom", feeds.instructions_feed, name="feed-instructions"),
]
