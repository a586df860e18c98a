from django.contrib import admin
from django.urls import include, path

from api.urls import api_urls

urlpatterns = [
    path("", include("core.urls")),
    path("", include("accounts.urls")),
    path("", include("clients.urls")),
    path("", include("segmentation.urls")),
    path("", include("icp.urls")),
    path("", include("privacy.urls")),
    path("imports/", include("imports.urls")),
    path("exports/", include("exports.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("api/", api_urls()),
    path("", include("api.urls")),
    path("", include("webhooks.urls")),
    path("admin/", admin.site.urls),
]
