from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("", views.export_list, name="export_list"),
    path("new/", views.export_create, name="export_create"),
    path("<int:pk>/", views.export_detail, name="export_detail"),
    path("<int:pk>/progress/", views.export_progress, name="export_progress"),
    path("<int:pk>/download/", views.export_download, name="export_download"),
]
