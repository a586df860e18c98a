from django.urls import path

from campaigns import answer_views, views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("new/", views.campaign_create, name="campaign_create"),
    path("answers/", answer_views.answer_list, name="answer_list"),
    path("<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="campaign_edit"),
    path("<int:pk>/launch/", views.campaign_launch_view, name="campaign_launch"),
    path("<int:pk>/resume/", views.campaign_resume_view, name="campaign_resume"),
    path("<int:pk>/progress/", views.campaign_progress, name="campaign_progress"),
    path("consent/<int:pk>/", views.consent_update, name="consent_update"),
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("survey/<str:token>/", views.survey_view, name="survey"),
]
