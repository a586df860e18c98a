"""Tokens: stored hashed, refused when expired or revoked, read-only ones refused on writes, rate
limited; the page where each user manages theirs; the command that prints one."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from api.models import ApiToken
from api.tokens import digest, token_create, token_revoke
from clients.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_only_the_digest_is_stored(owner):
    token, secret = token_create(user=owner, name="ERP")
    assert secret.startswith("ctr_") and len(secret) > 40
    assert token.key_hash == digest(secret) and secret not in token.key_hash
    assert token.prefix == secret[:12]


def test_an_expired_or_revoked_token_is_refused(api_for, owner):
    api = api_for(owner)
    assert api.get("/me").status_code == 200
    ApiToken.objects.filter(pk=api.token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert api.get("/me").status_code == 401
    other = api_for(owner, name="Other")
    token_revoke(token=other.token)
    assert other.get("/me").status_code == 401


def test_an_inactive_users_token_is_refused(api_for, owner):
    api = api_for(owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert api.get("/me").status_code == 401


def test_a_read_only_token_reads_and_cannot_write(api_for, owner):
    client = ClientFactory(owner=owner)
    api = api_for(owner, scope="read")
    assert api.get(f"/clients/{client.pk}").status_code == 200
    day = timezone.localdate().isoformat()
    for path, body in [
        ("/purchases", {"client": client.pk, "date": day, "amount": "1"}),
        ("/purchases/bulk", {"purchases": [{"client": client.pk, "date": day, "amount": "1"}]}),
        ("/clients", {"company_name": "Acme"}),
        ("/interactions", {"client": client.pk, "summary": "x"}),
    ]:
        response = api.post(path, body)
        assert response.status_code == 403, path
        assert response.json()["type"].endswith("read-only-token")
    assert api.patch(f"/clients/{client.pk}", {"city": "x"}).status_code == 403


def test_last_use_is_noted(api_for, owner):
    api = api_for(owner)
    api.get("/me")
    api.token.refresh_from_db()
    assert api.token.last_used_at is not None


@override_settings(RATE_LIMIT_API_TOKEN="3/m")
def test_a_token_over_its_rate_gets_429_with_retry_after(api_for, owner):
    api, other = api_for(owner), api_for(owner, name="Other")
    assert [api.get("/me").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/me")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["Content-Type"] == "application/problem+json"
    assert other.get("/me").status_code == 200  # per token


def test_the_command_prints_a_read_write_token(owner, client):
    out = StringIO()
    call_command("api_token", owner.username, "--name", "Script", stdout=out)
    secret = out.getvalue().strip()
    token = ApiToken.objects.get(key_hash=digest(secret))
    assert (token.name, token.scope, token.user) == ("Script", "write", owner)
    assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


# The page

def test_the_page_creates_a_token_shown_once_and_lists_it(client, owner):
    client.force_login(owner)
    url = reverse("api_tokens:token_list")
    response = client.post(url, {"name": "Shop till", "scope": "write"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=owner)
    secret = response.context["created"]["secret"]
    assert secret in response.content.decode() and digest(secret) == token.key_hash
    assert "no-store" in response["Cache-Control"]
    page = client.get(url).content.decode()
    assert "Shop till" in page and secret not in page and token.prefix in page


def test_the_page_refuses_a_past_expiry_and_an_empty_name(client, owner):
    client.force_login(owner)
    response = client.post(reverse("api_tokens:token_list"), {"name": "", "scope": "read", "expires_on": "2000-01-01"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "expires_on"}
    assert not ApiToken.objects.exists()


def test_a_user_revokes_their_token_and_not_anothers(client, owner, teammate):
    mine, _secret = token_create(user=owner, name="Mine")
    theirs, _secret = token_create(user=teammate, name="Theirs")
    client.force_login(owner)
    assert client.post(reverse("api_tokens:token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("api_tokens:token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_the_token_page_runs_a_constant_number_of_queries(client, owner, django_assert_num_queries):
    client.force_login(owner)
    url = reverse("api_tokens:token_list")
    client.get(url)
    token_create(user=owner, name="One")
    with django_assert_num_queries(4) as one:
        client.get(url)
    for number in range(5):
        token_create(user=owner, name=f"More {number}")
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)
