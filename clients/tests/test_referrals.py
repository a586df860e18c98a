"""Referrals (issue 18): who referred a client, chosen by typing among the clients the user may
see; the referrer's page lists whom it brought; the best referrers page ranks them."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEntry
from clients.models import Client
from clients.referrals import best_referrers
from clients.tests.factories import ClientFactory
from segmentation import records


def _post_new(client, headers=None, **data):
    return client.post(
        reverse("clients:client_create"), {"first_name": "Nuevo", "last_name": "Cliente", "country": "ES", **data},
        headers=headers,
    )


@pytest.mark.django_db
def test_a_referral_typed_in_the_form_is_recorded_with_its_source_and_audited(client, owner):
    referrer = ClientFactory(owner=owner, first_name="Ana", last_name="Pérez")
    client.force_login(owner)
    response = _post_new(client, referred_by=f"Ana Pérez (#{referrer.pk})")
    assert response.status_code == 302
    created = Client.objects.get(first_name="Nuevo")
    assert created.referred_by == referrer
    assert created.source == Client.Source.REFERRAL  # set by the service, not typed
    entry = AuditEntry.objects.get(client_id=created.pk, action=AuditEntry.Action.CREATE)
    assert entry.changes["referred_by"] == ["", "Ana Pérez"]
    assert entry.changes["source"] == ["", "referral"]


@pytest.mark.django_db
def test_a_referrer_of_another_portfolio_is_refused(client, owner, outsider):
    hidden = ClientFactory(owner=outsider, first_name="Oculto")
    client.force_login(owner)
    with translation.override("en"):
        response = _post_new(client, referred_by=f"Oculto (#{hidden.pk})", headers={"accept-language": "en"})
        assert response.status_code == 200
        assert response.context["form"].errors["referred_by"] == ["Choose the client from the list offered as you type their name."]
    assert not Client.objects.filter(first_name="Nuevo").exists()


@pytest.mark.django_db
def test_text_without_a_chosen_client_is_refused(client, owner):
    ClientFactory(owner=owner, first_name="Ana")
    client.force_login(owner)
    response = _post_new(client, referred_by="Ana")
    assert response.status_code == 200
    assert "referred_by" in response.context["form"].errors


@pytest.mark.django_db
def test_a_client_cannot_refer_itself(client, owner):
    record = ClientFactory(owner=owner, first_name="Ana")
    client.force_login(owner)
    response = client.post(
        reverse("clients:client_edit", args=[record.pk]),
        {"first_name": "Ana", "country": "ES", "referred_by": f"Ana (#{record.pk})", "version": record.version},
    )
    assert response.status_code == 200
    assert "referred_by" in response.context["form"].errors
    with translation.override("en"), pytest.raises(Exception, match="refer itself"):
        records.client_update(by=owner, client=record, data={"referred_by": record})
    record.refresh_from_db()
    assert record.referred_by is None


@pytest.mark.django_db
def test_the_edit_form_shows_the_referrer_as_typed(client, owner):
    referrer = ClientFactory(owner=owner, first_name="Ana", last_name="Pérez")
    record = ClientFactory(owner=owner, first_name="Luis", referred_by=referrer)
    client.force_login(owner)
    response = client.get(reverse("clients:client_edit", args=[record.pk]))
    assert f'value="Ana Pérez (#{referrer.pk})"' in response.content.decode()


@pytest.mark.django_db
def test_client_options_offer_only_visible_clients(client, owner, outsider):
    mine = ClientFactory(owner=owner, first_name="Marta", last_name="Gil", city="Lugo")
    ClientFactory(owner=outsider, first_name="Marta", last_name="Oculta")
    client.force_login(owner)
    response = client.get(reverse("clients:client_options"), {"q": "mart"})
    body = response.content.decode()
    assert f'value="Marta Gil (#{mine.pk})"' in body
    assert "Oculta" not in body
    assert client.get(reverse("clients:client_options"), {"q": "m"}).content.strip() == b""  # too short


@pytest.mark.django_db
def test_the_referrers_page_lists_whom_it_brought_and_their_revenue(client, owner, outsider, manager):
    referrer = ClientFactory(owner=owner, first_name="Ana")
    ClientFactory(owner=owner, first_name="Uno", referred_by=referrer, spend_12m=Decimal("100"), total_spent=Decimal("250"))
    ClientFactory(owner=owner, first_name="Dos", referred_by=referrer, spend_12m=Decimal("40.50"), total_spent=Decimal("40.50"))
    ClientFactory(owner=outsider, first_name="Fuera", referred_by=referrer, spend_12m=Decimal("999"))  # not the owner's
    client.force_login(owner)
    response = client.get(referrer.get_absolute_url())
    referrals = response.context["referrals"]
    assert [c.first_name for c in referrals.clients] == ["Uno", "Dos"]  # the biggest spender first
    assert (referrals.count, referrals.spend_12m, referrals.total_spent) == (2, Decimal("140.50"), Decimal("290.50"))
    assert b'data-testid="client-referrals"' in response.content
    assert b"Fuera" not in response.content


@pytest.mark.django_db
def test_a_referrer_of_another_portfolio_is_not_named(client, owner, outsider):
    hidden = ClientFactory(owner=outsider, first_name="Oculto")
    record = ClientFactory(owner=owner, first_name="Luis", referred_by=hidden)
    client.force_login(owner)
    response = client.get(record.get_absolute_url())
    assert response.context["referrer"] is None
    assert b"Oculto" not in response.content


@pytest.mark.django_db
def test_best_referrers_rank_by_clients_or_revenue_within_the_access_rule(owner, teammate, outsider, manager, admin_user):
    ana = ClientFactory(owner=owner, first_name="Ana")
    bea = ClientFactory(owner=teammate, first_name="Bea")
    carla = ClientFactory(owner=outsider, first_name="Carla")
    for spend in ("10", "20", "30"):
        ClientFactory(owner=owner, referred_by=ana, spend_12m=Decimal(spend), total_spent=Decimal(spend) * 2)
    ClientFactory(owner=teammate, referred_by=bea, spend_12m=Decimal("500"), total_spent=Decimal("500"), status="active")
    ClientFactory(owner=outsider, referred_by=carla, spend_12m=Decimal("7"))
    ClientFactory(owner=outsider, referred_by=ana, spend_12m=Decimal("1000"))  # another team's: not the manager's

    by_clients = best_referrers(user=manager)
    assert [(r["client"].first_name, r["referred"], r["spend_12m"], r["total_spent"]) for r in by_clients] == [
        ("Ana", 3, Decimal("60"), Decimal("120")), ("Bea", 1, Decimal("500"), Decimal("500")),
    ]
    assert [r["active"] for r in by_clients] == [0, 1]
    assert [r["client"].first_name for r in best_referrers(user=manager, order="revenue")] == ["Bea", "Ana"]
    assert [r["client"].first_name for r in best_referrers(user=owner)] == ["Ana"]  # a comercial: their own
    everyone = {r["client"].first_name: r["referred"] for r in best_referrers(user=admin_user)}
    assert everyone == {"Ana": 4, "Bea": 1, "Carla": 1}
    # The trash: a referrer in it is nobody's to rank, a referred client in it counts for nobody.
    Client.objects.filter(pk=carla.pk).update(deleted_at=timezone.now())
    Client.objects.filter(referred_by=ana, owner=outsider).update(deleted_at=timezone.now())
    for user in (admin_user, manager):
        assert {r["client"].first_name: r["referred"] for r in best_referrers(user=user)} == {"Ana": 3, "Bea": 1}


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 10])
def test_best_referrers_page_queries_do_not_grow(client, django_assert_num_queries, manager, owner, size):
    for _index in range(size):
        referrer = ClientFactory(owner=owner)
        ClientFactory.create_batch(2, owner=owner, referred_by=referrer)
    client.force_login(manager)
    # session, user, groups; the team and shares (access rule); the referred clients grouped by
    # referrer; the referrers with their salespeople.
    with django_assert_num_queries(3 + 2 + 1 + 1):
        response = client.get(reverse("clients:referrer_list"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == size


@pytest.mark.django_db
def test_a_merge_passes_the_absorbed_clients_referrals_to_the_survivor(owner):
    from segmentation.merge import client_merge

    survivor = ClientFactory(owner=owner, first_name="Ana")
    absorbed = ClientFactory(owner=owner, first_name="Ana", referred_by=survivor)
    brought = ClientFactory(owner=owner, first_name="Traído", referred_by=absorbed)
    merged = client_merge(by=owner, survivor=survivor, absorbed=absorbed, values={"referred_by": "absorbed"})
    brought.refresh_from_db()
    assert brought.referred_by_id == survivor.pk
    assert merged.referred_by is None  # it would have referred itself


@pytest.mark.django_db
def test_a_referrer_the_editor_cannot_see_is_kept_unnamed_on_an_edit(client, owner, outsider):
    hidden = ClientFactory(owner=outsider, first_name="Oculto")
    record = ClientFactory(owner=owner, first_name="Luis", referred_by=hidden)
    client.force_login(owner)
    page = client.get(reverse("clients:client_edit", args=[record.pk])).content.decode()
    assert "Oculto" not in page and f"(#{hidden.pk})" in page
    response = client.post(reverse("clients:client_edit", args=[record.pk]), {
        "first_name": "Luis María", "country": "ES", "referred_by": f"a client of another portfolio (#{hidden.pk})",
        "version": record.version,
    })
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.first_name, record.referred_by_id) == ("Luis María", hidden.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 20])
def test_client_options_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    ClientFactory.create_batch(size, owner=owner, first_name="Marta")
    client.force_login(owner)
    # session, user, groups; the shares (access rule); the matching clients (at most 15).
    with django_assert_num_queries(3 + 1 + 1):
        response = client.get(reverse("clients:client_options"), {"q": "marta"})
    assert response.content.decode().count("<option") == min(size, 15)
