"""The administrador's people and teams page, and deactivating a salesperson with an heir."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, Team, User
from audit.models import AuditEntry
from clients.models import Client, ClientShare, FollowUp
from clients.tests.factories import ClientFactory, FollowUpFactory
from conftest import make_user
from segmentation.records import salesperson_deactivate

PAGES = [
    ("people", []), ("person_create", []), ("team_create", []),
]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "manager", "teammate"])
@pytest.mark.parametrize(("name", "args"), PAGES)
def test_only_administradores_reach_the_people_pages(client, request, who, name, args):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.django_db
def test_non_administradores_cannot_edit_deactivate_or_reactivate(client, owner, teammate, manager, team):
    client.force_login(manager)
    assert client.get(reverse("person_edit", args=[teammate.pk])).status_code == 403
    assert client.post(reverse("person_deactivate", args=[teammate.pk]), {"heir": owner.pk}).status_code == 403
    assert client.post(reverse("person_reactivate", args=[teammate.pk])).status_code == 403
    assert client.get(reverse("team_edit", args=[team.pk])).status_code == 403
    assert User.objects.get(pk=teammate.pk).is_active


@pytest.mark.django_db
def test_the_page_lists_people_with_role_team_and_clients(client, admin_user, owner, teammate):
    ClientFactory.create_batch(3, owner=owner)
    ClientFactory(owner=owner, deleted_at=timezone.now())  # in the trash: nobody's
    client.force_login(admin_user)

    response = client.get(reverse("people"), HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    row = html[html.index('data-testid="person-comercial"'):]
    row = row[:row.index("</tr>")]
    assert "Salesperson" in row and "Norte" in row and ">3<" in row


@pytest.mark.django_db
def test_the_navbar_links_the_people_page_for_administradores_only(client, admin_user, owner):
    client.force_login(admin_user)
    assert reverse("people") in client.get(reverse("clients:client_list")).content.decode()
    client.force_login(owner)
    assert reverse("people") not in client.get(reverse("clients:client_list")).content.decode()


@pytest.mark.django_db
def test_an_administrador_creates_a_user_in_a_team_who_is_invited_by_email(
    client, admin_user, team, django_capture_on_commit_callbacks,
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("person_create"), {
            "username": "marta", "first_name": "Marta", "last_name": "Gil", "email": "marta@example.com",
            "role": Role.COMERCIAL, "team": team.pk, "language": "es",
        })
    assert response.status_code == 302
    marta = User.objects.get(username="marta")
    assert marta.team == team and marta.is_comercial and not marta.is_gerente and not marta.has_usable_password()
    assert [m.to for m in mail.outbox] == [["marta@example.com"]]


@pytest.mark.django_db
def test_a_taken_username_or_email_is_a_form_error(client, admin_user, owner):
    owner.email = "taken@example.com"
    owner.save()
    client.force_login(admin_user)
    response = client.post(reverse("person_create"), {
        "username": owner.username, "email": "TAKEN@example.com", "role": Role.COMERCIAL, "language": "es",
    })
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"username", "email"}


@pytest.mark.django_db
def test_an_administrador_changes_role_and_team(client, admin_user, owner, other_manager):
    south = Team.objects.create(name="Sur", manager=other_manager)
    client.force_login(admin_user)
    response = client.post(reverse("person_edit", args=[owner.pk]), {
        "first_name": "Ana", "last_name": "Ruiz", "email": "ana@example.com", "role": Role.GERENTE,
        "team": south.pk, "language": "en",
    })
    assert response.status_code == 302
    owner = User.objects.get(pk=owner.pk)
    assert owner.is_gerente and not owner.is_comercial and owner.team == south and owner.language == "en"


@pytest.mark.django_db
def test_a_teams_gerente_keeps_the_gerente_role_until_the_team_has_another(client, admin_user, manager, team):
    client.force_login(admin_user)
    response = client.post(reverse("person_edit", args=[manager.pk]), {
        "first_name": "G", "last_name": "M", "email": "g@example.com", "role": Role.COMERCIAL, "language": "es",
    })
    assert response.status_code == 200 and response.context["form"].errors["role"]
    assert User.objects.get(pk=manager.pk).is_gerente


@pytest.mark.django_db
def test_an_administrador_creates_and_edits_a_team(client, admin_user, manager, other_manager, owner):
    client.force_login(admin_user)
    assert client.post(reverse("team_create"), {"name": "Este", "manager": other_manager.pk}).status_code == 302
    east = Team.objects.get(name="Este")
    assert east.manager == other_manager
    # Only an active gerente may manage a team.
    response = client.post(reverse("team_edit", args=[east.pk]), {"name": "Este", "manager": owner.pk})
    assert response.status_code == 200 and response.context["form"].errors["manager"]
    assert client.post(reverse("team_edit", args=[east.pk]), {"name": "Levante", "manager": manager.pk}).status_code == 302
    east.refresh_from_db()
    assert (east.name, east.manager) == ("Levante", manager)


@pytest.mark.django_db
def test_deactivating_a_comercial_hands_clients_and_followups_to_the_heir(client, admin_user, owner, teammate, outsider):
    mine = ClientFactory.create_batch(2, owner=owner)
    visit = FollowUpFactory(client=mine[0], assigned_to=owner)
    done = FollowUpFactory(client=mine[1], assigned_to=owner, status=FollowUp.State.DONE)
    # A follow-up of theirs on a client shared with them goes back to that client's owner.
    theirs = ClientFactory(owner=outsider)
    ClientShare.objects.create(client=theirs, user=owner)
    call = FollowUpFactory(client=theirs, assigned_to=owner)
    client.force_login(admin_user)

    response = client.post(reverse("person_deactivate", args=[owner.pk]), {"heir": teammate.pk})

    assert response.status_code == 302
    assert not User.objects.get(pk=owner.pk).is_active
    assert set(Client.objects.filter(owner=teammate)) == set(mine)
    visit.refresh_from_db()
    call.refresh_from_db()
    done.refresh_from_db()
    assert (visit.assigned_to, visit.sequence) == (teammate, 1)
    assert (call.assigned_to, call.sequence) == (outsider, 1)
    assert (done.assigned_to, done.sequence) == (owner, 0)
    reassigned = AuditEntry.objects.filter(action=AuditEntry.Action.REASSIGN, user=admin_user)
    assert sorted(reassigned.values_list("client_id", flat=True)) == sorted(c.pk for c in mine)
    handed = dict(AuditEntry.objects.filter(action=AuditEntry.Action.HAND_OVER).values_list("object_id", "changes"))
    assert handed == {
        visit.pk: {"assigned_to": [str(owner), str(teammate)]},
        call.pk: {"assigned_to": [str(owner), str(outsider)]},
    }


@pytest.mark.django_db
def test_deactivating_someone_with_clients_needs_an_heir(client, admin_user, owner):
    ClientFactory(owner=owner)
    client.force_login(admin_user)

    response = client.post(reverse("person_deactivate", args=[owner.pk]), {"heir": ""})

    assert response.status_code == 200 and response.context["form"].errors["heir"]
    assert User.objects.get(pk=owner.pk).is_active
    assert Client.objects.filter(owner=owner).count() == 1


@pytest.mark.django_db
def test_a_teams_gerente_is_not_deactivated_until_the_team_has_another(client, admin_user, manager, teammate):
    ClientFactory(owner=manager)
    client.force_login(admin_user)
    response = client.post(reverse("person_deactivate", args=[manager.pk]), {"heir": teammate.pk})
    assert response.status_code == 200
    assert "Norte" in str(response.context["form"].errors["heir"])
    assert User.objects.get(pk=manager.pk).is_active and Client.objects.get().owner == manager


@pytest.mark.django_db
def test_someone_without_clients_is_deactivated_without_heir_and_reactivated(client, admin_user, other_manager):
    person = make_user("idle", Role.COMERCIAL)
    client.force_login(admin_user)
    assert client.post(reverse("person_deactivate", args=[person.pk]), {"heir": ""}).status_code == 302
    assert not User.objects.get(pk=person.pk).is_active
    assert client.post(reverse("person_reactivate", args=[person.pk])).status_code == 302
    assert User.objects.get(pk=person.pk).is_active


@pytest.mark.django_db
def test_the_service_refuses_non_administradores_an_administrador_heir_and_oneself(manager, owner, teammate, admin_user):
    ClientFactory(owner=owner)
    with pytest.raises(PermissionDenied):
        salesperson_deactivate(by=manager, user=owner, heir=teammate)
    with pytest.raises(ValidationError):
        salesperson_deactivate(by=admin_user, user=owner, heir=admin_user)  # not a salesperson: owns no portfolio
    with pytest.raises(ValidationError):
        salesperson_deactivate(by=admin_user, user=admin_user)
    assert User.objects.get(pk=owner.pk).is_active and Client.objects.get().owner == owner


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_people_page_queries_do_not_grow(client, django_assert_num_queries, admin_user, team, size):
    for n in range(size):
        person = make_user(f"person{n}", Role.COMERCIAL, team)
        ClientFactory(owner=person)
    client.force_login(admin_user)
    # session, user, the administrador's groups; the people with their teams, their groups (one
    # prefetch), their clients counted (one grouped query), the teams with their managers and
    # members counted.
    with django_assert_num_queries(7):
        assert client.get(reverse("people")).status_code == 200


@pytest.mark.django_db
def test_an_administrador_cannot_demote_themselves(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("person_edit", args=[admin_user.pk]), {
        "first_name": "A", "last_name": "B", "email": "a@example.com", "role": Role.COMERCIAL, "language": "es",
    })
    assert response.status_code == 200 and response.context["form"].errors["role"]
    assert User.objects.get(pk=admin_user.pk).is_administrador


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_deactivation_queries_do_not_grow(django_assert_num_queries, admin_user, owner, teammate, outsider, size):
    for record in ClientFactory.create_batch(size, owner=owner):
        FollowUpFactory(client=record, assigned_to=owner)
    for record in ClientFactory.create_batch(size, owner=outsider):
        ClientShare.objects.create(client=record, user=owner)
        FollowUpFactory(client=record, assigned_to=owner)
    admin_user.roles  # noqa: B018 - read once per request, as in a view
    # savepoint; the teams they manage; their clients (locked); their pending follow-ups (locked);
    # the two hand-over updates; the receivers' names; the hand-over entries (one insert);
    # client_reassign: savepoint, the heir check, the clients' old owners, its follow-up update
    # (none left to move), the owner update, the entries, release; the deactivation; release.
    with django_assert_num_queries(17):
        salesperson_deactivate(by=admin_user, user=owner, heir=teammate)
