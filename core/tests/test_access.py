"""Deny by default: every URL of the URLconf needs a login, except an explicit allow-list."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# The REST API's endpoints: its token (Authorization: Bearer) is the credential, checked by the API
# itself (401 without one); api/tests/test_personas.py is their permission matrix, per persona.
API_ENDPOINTS = {
    "api:me", "api:client_list", "api:client_create", "api:client_detail", "api:client_update",
    "api:purchase_list", "api:purchase_create", "api:purchase_detail", "api:purchase_bulk",
    "api:purchase_update", "api:purchase_delete",
    "api:interaction_list", "api:interaction_create", "api:interaction_detail",
    "api:followup_list", "api:followup_create", "api:followup_detail", "api:followup_update", "api:followup_cancel",
    "api:contract_list", "api:contract_create", "api:contract_detail", "api:contract_update",
    "api:product_list", "api:product_detail", "api:product_create", "api:segment_list", "api:segment_detail", "api:segment_members",
    "api:status_change_list",
}

# The only views anyone may open without logging in. A new public view must be added here,
# on purpose; any other view that forgets the login fails test_only_allow_listed_views_are_public.
PUBLIC_VIEWS = {
    "login", "health", "set_language", "admin:login", "clients:calendar_feed",
    "login_code",  # the login's second step: the password just given is the credential
    "campaigns:unsubscribe", "campaigns:survey",  # from an e-mail: the signed token is the credential
    # A forgotten password: asking for the e-mail, and the e-mailed link (its token is the credential).
    "password_reset", "password_reset_done", "password_reset_confirm", "password_reset_complete",
    *API_ENDPOINTS,
}

_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000001", "path": "x"}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner_ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + route, inner_ns)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else None, prefix + route, entry.callback


def all_urls():
    """(name, sample path, view) for every pattern of the URLconf, arguments filled in."""
    for name, route, view in _walk(get_resolver().url_patterns):
        if route.startswith("^") or "(?P" in route:  # a regex route (admin's app index)
            route = re.sub(r"\(\?P<\w+>[^)]*\)", "auth", route).lstrip("^").rstrip("$").replace("\\", "")
        path = "/" + _CONVERTER.sub(lambda m: _SAMPLE.get(m["converter"] or "str", "x"), route)
        yield name, path, view


def test_only_allow_listed_views_are_public():
    public = {name for name, _, view in all_urls() if getattr(view, "login_required", True) is False}
    assert public == PUBLIC_VIEWS


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "path"), [(n, p) for n, p, _ in all_urls() if n not in PUBLIC_VIEWS])
def test_anonymous_is_sent_to_login(client, name, path):
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 302, f"{name} {path} answered {response.status_code}"
        # The admin sends strangers to its own login page, which is the same login.
        assert response["Location"].startswith(("/accounts/login/", "/admin/login/")), f"{name} {path}"


@pytest.mark.django_db
def test_login_page_is_public_and_in_spanish(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Iniciar sesión" in response.content.decode()


@pytest.mark.django_db
def test_login_then_logout(client, owner):
    from conftest import PASSWORD

    response = client.post("/accounts/login/", {"username": owner.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 200
    response = client.post("/accounts/logout/")
    assert response.status_code == 200
    assert "Has cerrado la sesión" in response.content.decode()
    assert client.get("/clients/").status_code == 302


@pytest.mark.django_db
def test_wrong_password_shows_a_translated_error(client, owner):
    response = client.post("/accounts/login/", {"username": owner.username, "password": "nope"})
    assert response.status_code == 200
    assert "introduzca un nombre de usuario y clave correctos" in response.content.decode().lower()


@pytest.mark.django_db
def test_only_administradores_enter_the_admin(client, owner, manager, admin_user):
    for user in (owner, manager):
        client.force_login(user)
        assert client.get("/admin/").status_code == 302
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/clients/client/").status_code == 200
