"""The portal's URL map. Page addresses and API paths are fixed by ``docs/api.md``."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# API clients get JSON errors even from Django itself (core.api); people get the pages.
handler400 = "maslikhat.core.api.bad_request"
handler404 = "maslikhat.core.api.page_not_found"

urlpatterns = [
    path("", include("maslikhat.core.urls")),
    path("", include("reports.urls")),
    path("", include("follows.urls")),
    path("", include("maslikhat.directory.urls")),
    path("accounts/", include("maslikhat.accounts.urls")),
    path("requests/", include("requests_app.urls", namespace="requests")),
    path("instructions/", include("instructions.urls")),
    path("kpi/", include("kpi.urls")),
    path("imports/", include("imports.urls")),
    path("commitments/", include("commitments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("maslikhat.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The "split" view serves Swagger UI's start-up script as a file, so the
    # page works under the Content-Security-Policy (script-src 'self').
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
