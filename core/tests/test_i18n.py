import pytest

from accounts.models import User


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "logout_text", "clients_text"),
    [("es", "Cerrar sesión", "Nuevo cliente"), ("pt-br", "Sair", "Novo cliente"), ("en", "Log out", "New client")],
)
def test_language_switch_translates_every_page_and_is_remembered(client, owner, language, logout_text, clients_text):
    client.force_login(owner)
    response = client.post("/i18n/setlang/", {"language": language, "next": "/clients/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/clients/"
    content = response.content.decode()
    assert logout_text in content
    assert clients_text in content
    assert f'<html lang="{language}">' in content
    assert User.objects.get(pk=owner.pk).language == language


@pytest.mark.django_db
def test_spanish_is_the_default_without_a_prefix(client, owner):
    client.force_login(owner)
    response = client.get("/clients/")
    assert response.status_code == 200
    assert '<html lang="es">' in response.content.decode()
    assert "Nuevo cliente" in response.content.decode()


def test_language_switch_works_before_login(client, db):
    response = client.post("/i18n/setlang/", {"language": "pt-br", "next": "/accounts/login/"}, follow=True)
    assert "Entrar" in response.content.decode()


@pytest.mark.django_db
def test_login_speaks_the_users_stored_language(client, owner):
    from conftest import PASSWORD

    owner.language = "pt-br"
    owner.save()
    response = client.post("/accounts/login/", {"username": owner.username, "password": PASSWORD}, follow=True)
    assert "Sair" in response.content.decode()


@pytest.mark.django_db
def test_a_choice_made_on_the_login_page_is_remembered(client, owner):
    from conftest import PASSWORD

    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    client.post("/accounts/login/", {"username": owner.username, "password": PASSWORD})
    assert User.objects.get(pk=owner.pk).language == "en"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "hint"),
    [
        ("es", "CSV o Excel (.xlsx), con una fila de encabezados; hasta 20 MB."),
        ("pt-br", "CSV ou Excel (.xlsx), com uma linha de cabeçalho; até 20 MB."),
        ("en", "CSV or Excel (.xlsx), with a header row; up to 20 MB."),
    ],
)
def test_a_forms_help_text_follows_the_language_of_each_request(client, owner, settings, language, hint):
    client.force_login(owner)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    assert hint in client.get("/imports/").content.decode()


@pytest.mark.parametrize(("language", "status", "rfm"), [("es", "Baja", "Perdidos"), ("en", "Lost", "Lost customers")])
def test_the_lost_rfm_segment_does_not_read_as_the_lost_status(language, status, rfm):
    from django.utils import translation

    from clients.models import RfmSegment, Status

    with translation.override(language):
        assert (str(Status.LOST.label), str(RfmSegment.LOST.label)) == (status, rfm)


@pytest.mark.django_db
def test_djangos_own_form_messages_speak_like_cartera(client, owner):
    """Django's Spanish says "usted" ("Introduzca…"); Cartera's own catalogue says "tú"."""
    client.force_login(owner)
    response = client.post("/clients/new/", {"first_name": "Ana", "last_name": "Ruiz", "email": "ana@", "country": "ES"})
    page = response.content.decode()
    assert "Introduce una dirección de correo electrónico válida." in page
    assert "Introduzca" not in page
