"""Sharing a client from its page: who may share and take a share back, the audit, and what the
colleague then sees."""

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from clients.models import Client, ClientShare
from clients.tests.factories import ClientFactory


def share(client, record, person, **headers):
    return client.post(reverse("clients:client_share", args=[record.pk]), {"user": person.pk}, **headers)


def unshare(client, record, person, **headers):
    return client.post(reverse("clients:client_unshare", args=[record.pk]), {"user": person.pk}, **headers)


@pytest.fixture
def record(owner):
    return ClientFactory(owner=owner, first_name="Lucía", last_name="Prado")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "manager", "admin_user"])
def test_owner_their_gerente_and_an_administrador_share_and_unshare(client, request, record, outsider, who):
    sharer = request.getfixturevalue(who)
    client.force_login(sharer)

    response = share(client, record, outsider)

    assert response.status_code == 302 and response.url == record.get_absolute_url()
    assert ClientShare.objects.filter(client=record, user=outsider).exists()
    entry = AuditEntry.objects.get(client=record, action=AuditEntry.Action.SHARE)
    assert entry.user == sharer and entry.changes == {"shared_with": ["", outsider.username]}

    response = unshare(client, record, outsider)

    assert response.status_code == 302
    assert not ClientShare.objects.filter(client=record, user=outsider).exists()
    entry = AuditEntry.objects.get(client=record, action=AuditEntry.Action.UNSHARE)
    assert entry.user == sharer and entry.changes == {"shared_with": [outsider.username, ""]}


@pytest.mark.django_db
def test_the_colleague_sees_the_client_then_loses_it_after_unsharing(client, owner, record, outsider):
    client.force_login(outsider)
    assert client.get(record.get_absolute_url()).status_code == 404

    client.force_login(owner)
    share(client, record, outsider)
    client.force_login(outsider)
    page = client.get(record.get_absolute_url())
    assert page.status_code == 200
    assert record in Client.objects.visible_to(outsider)
    # The colleague reads the list, without the controls.
    assert 'data-testid="share-form"' not in page.content.decode()
    assert 'data-testid="unshare"' not in page.content.decode()
    assert unshare(client, record, outsider).status_code == 403

    client.force_login(owner)
    unshare(client, record, outsider)
    client.force_login(outsider)
    assert client.get(record.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_a_teammate_and_a_foreign_gerente_may_not_share(client, record, teammate, outsider, other_manager):
    ClientShare.objects.create(client=record, user=teammate)
    client.force_login(teammate)  # sees it (shared with them) but does not own it
    assert share(client, record, outsider).status_code == 403
    client.force_login(other_manager)  # another team's gerente does not even see it
    assert share(client, record, outsider).status_code == 404
    client.force_login(outsider)
    assert unshare(client, record, teammate).status_code == 404
    assert list(ClientShare.objects.values_list("user", flat=True)) == [teammate.pk]
    assert not AuditEntry.objects.filter(action__in=["share", "unshare"]).exists()


@pytest.mark.django_db
def test_the_owner_sees_controls_and_only_colleagues_not_yet_sharing(client, owner, record, teammate, outsider,
                                                                       admin_user):
    ClientShare.objects.create(client=record, user=teammate)
    client.force_login(owner)

    form = client.get(record.get_absolute_url()).context["share_form"]

    choices = set(form.fields["user"].queryset)
    assert outsider in choices and teammate not in choices and owner not in choices
    assert admin_user not in choices  # an administrador sees every client already


@pytest.mark.django_db
def test_sharing_with_the_owner_or_an_inactive_colleague_is_a_form_error(client, owner, record, outsider):
    client.force_login(owner)
    outsider.is_active = False
    outsider.save()

    response = share(client, record, outsider, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "share-form" in response.content.decode() and "invalid-feedback" in response.content.decode()
    assert share(client, record, owner, HTTP_HX_REQUEST="true").status_code == 200
    assert not ClientShare.objects.exists()


@pytest.mark.django_db
def test_htmx_answers_the_part_in_place(client, owner, record, outsider):
    client.force_login(owner)

    response = share(client, record, outsider, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="client-shares"' in html and str(outsider) in html and 'data-testid="unshare"' in html
    assert "<html" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 8])
def test_share_part_queries_do_not_grow(client, django_assert_num_queries, owner, record, size):
    from accounts.models import Role
    from conftest import make_user

    for n in range(size):
        ClientShare.objects.create(client=record, user=make_user(f"colleague{n}", Role.COMERCIAL))
        make_user(f"candidate{n}", Role.COMERCIAL)
    colleague = ClientShare.objects.select_related("user").first().user
    client.force_login(owner)
    # session, user, the owner's groups, the shares of the owner (access rule), the client, the
    # colleague among those it is shared with; the savepoint, the delete, the audit entry, the
    # release; then the part again: who it is shared with and who it could be shared with.
    with django_assert_num_queries(12):
        response = unshare(client, record, colleague, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
