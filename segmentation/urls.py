from django.urls import path

from segmentation import leaving_views, rate_views, source_views, views

app_name = "segmentation"

urlpatterns = [
    path("segments/", views.segment_list, name="segment_list"),
    path("segments/save/", views.segment_save, name="segment_save"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/delete/", views.segment_delete, name="segment_delete"),
    path("segments/<int:pk>/export.<str:fmt>/", views.segment_export, name="segment_export"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/sources/", source_views.source_report, name="source_report"),
    path("dashboard/leaving/", leaving_views.leaving_reasons, name="leaving_reasons"),
    path("settings/lifecycle/", views.lifecycle_settings, name="lifecycle_settings"),
    path("settings/nightly-runs/", views.nightly_runs, name="nightly_runs"),
    path("settings/rates/", rate_views.exchange_rate_list, name="exchange_rates"),
    path("settings/rates/<int:pk>/delete/", rate_views.exchange_rate_delete, name="exchange_rate_delete"),
]
