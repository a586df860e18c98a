"""The 403, 404 and 500 pages speak the user's language and lead back into Cartera."""

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "text"),
    [("es", "Acceso no permitido"), ("pt-br", "Acesso não permitido"), ("en", "Not allowed")],
)
def test_a_forbidden_page_is_translated_and_keeps_the_navigation(client, owner, language, text):
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get(reverse("segmentation:lifecycle_settings"))

    assert response.status_code == 403
    page = response.content.decode()
    assert text in page and 'data-testid="main-nav"' in page and 'data-testid="error-page"' in page
    assert "403 Forbidden" not in page


def test_another_portfolios_client_is_a_translated_404_that_does_not_confirm_it_exists(client, owner, outsider):
    theirs = ClientFactory(owner=outsider)
    client.force_login(owner)

    response = client.get(theirs.get_absolute_url())
    missing = client.get("/clients/999999999/")

    assert response.status_code == missing.status_code == 404
    assert "Esta página no existe o no pertenece a tu cartera." in response.content.decode()
    assert theirs.display_name not in response.content.decode()
    assert "Esta página no existe o no pertenece a tu cartera." in missing.content.decode()


def test_the_server_error_page_is_translated_and_stands_alone():
    with translation.override("pt-br"):
        response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Algo deu errado" in response.content.decode()
