from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/login/code/", views.login_code, name="login_code"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("accounts/password/reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("account/", views.account, name="account"),
    path("account/two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/recovery-codes/", views.two_factor_codes, name="two_factor_codes"),
    path("account/two-factor/off/", views.two_factor_off, name="two_factor_off"),
    path("settings/people/", views.people, name="people"),
    path("settings/people/new/", views.person_create, name="person_create"),
    path("settings/people/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("settings/people/<int:pk>/deactivate/", views.person_deactivate, name="person_deactivate"),
    path("settings/people/<int:pk>/reactivate/", views.person_reactivate, name="person_reactivate"),
    path("settings/teams/new/", views.team_edit, name="team_create"),
    path("settings/teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
]
