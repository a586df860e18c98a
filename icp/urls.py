from django.urls import path

from icp import views

app_name = "icp"

urlpatterns = [
    path("settings/ideal-profile/", views.profile_edit, name="profile_edit"),
    path("clients/<int:pk>/probable/", views.probable_accept, name="probable_accept"),
]
