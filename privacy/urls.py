from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("clients/<int:pk>/privacy/", views.client_privacy, name="client_privacy"),
    path("clients/<int:pk>/privacy/export.<str:fmt>", views.client_privacy_export, name="client_privacy_export"),
]
