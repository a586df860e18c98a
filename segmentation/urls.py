from django.urls import path

from segmentation import views

app_name = "segmentation"

urlpatterns = [
    path("segments/", views.segment_list, name="segment_list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("settings/lifecycle/", views.lifecycle_settings, name="lifecycle_settings"),
]
