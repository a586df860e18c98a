from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("settings/webhooks/", views.endpoint_list, name="endpoint_list"),
    path("settings/webhooks/<int:pk>/", views.endpoint_edit, name="endpoint_edit"),
    path("settings/webhooks/<int:pk>/pause/", views.endpoint_pause, name="endpoint_pause"),
    path("settings/webhooks/<int:pk>/resume/", views.endpoint_resume, name="endpoint_resume"),
    path("settings/webhooks/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("settings/webhooks/<int:pk>/test/", views.endpoint_test, name="endpoint_test"),
]
