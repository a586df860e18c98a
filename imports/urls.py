from django.urls import path

from imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="import_list"),
    path("<int:pk>/", views.import_detail, name="import_detail"),
    path("<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<int:pk>/reopen/", views.import_reopen, name="import_reopen"),
    path("<int:pk>/delete/", views.import_delete, name="import_delete"),
    path("<int:pk>/errors.csv", views.import_report, name="import_report"),
]
