"""Changing one's password, and resetting a forgotten one by e-mail (in the user's language,
with the same answer for any address)."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from accounts.forms import RESET_EMAILS_PER_HOUR
from accounts.models import Role, User
from accounts.services import user_create
from conftest import PASSWORD

NEW_PASSWORD = "otra-clave-larga-42"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the reset e-mails' throttle is counted there
    yield
    cache.clear()


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", message.body).group(1)


@pytest.mark.django_db
def test_a_user_changes_their_password(client, owner):
    client.force_login(owner)
    url = reverse("password_change")
    assert client.get(url).status_code == 200

    wrong = client.post(url, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert wrong.status_code == 200 and wrong.context["form"].errors["old_password"]

    response = client.post(url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302 and response.url == reverse("password_change_done")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert client.get(reverse("account")).status_code == 200  # still logged in


@pytest.mark.django_db
def test_password_change_needs_a_login(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_a_weak_new_password_is_a_translated_form_error(client, owner):
    client.force_login(owner)
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert response.status_code == 200
    assert "demasiado corta" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["es", "pt-br", "en"])
def test_reset_email_is_in_the_users_language_and_its_link_sets_the_password(client, settings, owner, language):
    settings.SITE_URL = "https://cartera.example.com"
    owner.email, owner.language = "lucia@example.com", language
    owner.save()

    response = client.post(reverse("password_reset"), {"email": "Lucia@Example.com"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    [message] = mail.outbox
    # The page was asked for in English; the e-mail speaks the user's language.
    assert message.to == ["lucia@example.com"] and message.subject == in_language(language, "Your new Cartera password")
    assert "https://cartera.example.com/accounts/password/reset/" in message.body
    assert owner.username in message.body
    form_page = client.get(reset_link(message), follow=True)
    assert form_page.context["validlink"]
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    # The link works once.
    assert not client.get(reset_link(message), follow=True).context["validlink"]


@pytest.mark.django_db
def test_an_unknown_or_inactive_address_gets_the_same_answer_and_no_email(client, owner):
    owner.email = "known@example.com"
    owner.save()
    known = client.post(reverse("password_reset"), {"email": "known@example.com"})
    mail.outbox.clear()
    owner.is_active = False
    owner.save()

    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    inactive = client.post(reverse("password_reset"), {"email": "known@example.com"})

    assert known.status_code == unknown.status_code == inactive.status_code == 302
    assert known.url == unknown.url == inactive.url
    assert mail.outbox == []


@pytest.mark.django_db
def test_reset_emails_to_one_address_are_throttled_silently(client, owner):
    owner.email = "known@example.com"
    owner.save()
    for _ in range(RESET_EMAILS_PER_HOUR + 2):
        response = client.post(reverse("password_reset"), {"email": "known@example.com"})
        assert response.status_code == 302
    assert len(mail.outbox) == RESET_EMAILS_PER_HOUR


@pytest.mark.django_db
def test_reset_pages_are_public_and_the_login_page_links_to_them(client):
    login = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in login
    assert client.get(reverse("password_reset")).status_code == 200
    assert client.get(reverse("password_reset_done")).status_code == 200
    assert client.get(reverse("password_reset_complete")).status_code == 200


@pytest.mark.django_db
def test_a_new_user_without_a_password_is_invited_to_choose_one(client, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "http://cartera.test"
    with django_capture_on_commit_callbacks(execute=True):
        person = user_create(username="nova", role=Role.COMERCIAL, email="nova@example.com", language="pt-br",
                             first_name="Nova")
    assert not person.has_usable_password()
    [message] = mail.outbox
    assert message.subject == in_language("pt-br", "Your Cartera account is ready")
    assert "http://cartera.test/accounts/password/reset/" in message.body

    page = client.get(reset_link(message), follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert User.objects.get(pk=person.pk).check_password(NEW_PASSWORD)
    assert client.post(reverse("login"), {"username": "nova", "password": NEW_PASSWORD}).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 10])
def test_account_page_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    from conftest import make_user

    for n in range(size):
        make_user(f"person{n}", Role.COMERCIAL)
    client.force_login(owner)
    # session, user, the navbar's roles (the user's groups); the two-factor status, in one query.
    with django_assert_num_queries(4):
        assert client.get(reverse("account")).status_code == 200


@pytest.mark.django_db
def test_the_account_page_saves_name_email_and_language(client, owner):
    client.force_login(owner)
    response = client.post(reverse("account"), {
        "first_name": "Lucía", "last_name": "Prado", "email": "lucia@example.com", "language": "pt-br",
    })
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.first_name, owner.email, owner.language) == ("Lucía", "lucia@example.com", "pt-br")
    assert response.cookies["django_language"].value == "pt-br"


@pytest.mark.django_db
def test_an_invited_user_who_lost_the_invitation_can_ask_for_a_reset(client):
    person = user_create(username="nova", role=Role.COMERCIAL, email="nova@example.com")
    assert not person.has_usable_password()
    mail.outbox.clear()  # the invitation (not sent here: no commit) would be lost anyway

    client.post(reverse("password_reset"), {"email": "nova@example.com"})

    assert [m.to for m in mail.outbox] == [["nova@example.com"]]
