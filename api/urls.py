"""/api/: the REST API (api.endpoints), its schema and docs; /account/api-tokens/: each user's tokens."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from api import views
from api.endpoints import api

# The schema and the docs are pages for a logged-in user like any other.
PAGES = {"openapi-json", "openapi-view"}


def api_urls():
    """The API's patterns (namespace "api"): its endpoints authenticate by token, with no login
    page and no session, so the login-by-default middleware lets them through."""
    patterns, app_name, namespace = api.urls
    patterns = [pattern for pattern in patterns if pattern.name != "api-root"]  # a bare /api/ is a 404
    for pattern in patterns:
        if pattern.name not in PAGES:
            login_not_required(pattern.callback)
    return patterns, app_name, namespace


app_name = "api_tokens"

urlpatterns = [
    path("account/api-tokens/", views.token_list, name="token_list"),
    path("account/api-tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
