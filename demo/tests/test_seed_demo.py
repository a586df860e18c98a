"""`manage.py seed_demo` (demo/); the engine that fills the figures is tested in segmentation."""

import datetime as dt
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Role, Team, User
from clients.currency import convert, rate_for
from clients.models import Client, Contract, FollowUp, Interaction, Purchase, PurchaseLine, Status
from clients.text import phone_key
from demo.build import compute_figures, demo_build
from demo.people import DEMO_PASSWORD
from segmentation.engine import lifecycle_differences
from segmentation.models import StatusChange
from segmentation.rules import Thresholds, status_for, status_since_for
from segmentation.services import current_thresholds

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **{"clients": 40, "seed": 1, **options})
    return out.getvalue()


def table_counts() -> dict[str, int]:
    models = [User, Team, Client, Purchase, PurchaseLine, Interaction, FollowUp, Contract, StatusChange]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_creates_the_staff_with_roles_teams_and_passwords():
    output = seed()

    roles = {user.username: user.roles for user in User.objects.all()}
    assert roles == {
        "admin": {Role.ADMINISTRADOR},
        "gerente": {Role.GERENTE},
        "gerente2": {Role.GERENTE},
        **{f"comercial{n}": {Role.COMERCIAL} for n in range(1, 5)},
    }
    north, south = Team.objects.get(name="Equipo Norte"), Team.objects.get(name="Equipo Sur")
    assert north.manager.username == "gerente"
    assert south.manager.username == "gerente2"
    teams = dict(User.objects.filter(groups__name=Role.COMERCIAL).values_list("username", "team__name"))
    assert sorted(teams.values()) == ["Equipo Norte", "Equipo Norte", "Equipo Sur", "Equipo Sur"]
    for user in User.objects.all():
        assert user.check_password(DEMO_PASSWORD)
        assert user.first_name and user.last_name and user.email
    assert {"es", "pt-br"} <= set(User.objects.values_list("language", flat=True))
    assert User.objects.get(username="admin").is_staff
    # The logins are printed for whoever runs `make demo`.
    assert re.search(r"comercial4\s+cartera-demo\s+comercial\s+Equipo Sur", output)


def test_seed_demo_accepts_another_number_of_salespeople():
    seed(comerciales=3)

    salespeople = User.objects.filter(groups__name=Role.COMERCIAL)
    assert sorted(salespeople.values_list("username", flat=True)) == ["comercial1", "comercial2", "comercial3"]
    assert set(Client.objects.values_list("owner__username", flat=True)) <= {"comercial1", "comercial2", "comercial3"}


def test_seed_demo_builds_clients_owned_by_salespeople_with_search_keys():
    seed()

    assert Client.objects.count() == 40
    salespeople = set(User.objects.filter(groups__name=Role.COMERCIAL).values_list("pk", flat=True))
    for client in Client.objects.all():
        assert client.owner_id in salespeople
        assert client.display_name
        assert client.search_text  # what Client.save() would have written
        previous = (client.search_text, client.phone_key)
        client.refresh_search_fields()
        assert (client.search_text, client.phone_key) == previous
        assert client.phone_key == phone_key(client.phone)
        assert client.country in {"ES", "PT", "BR", "MX"}
    assert not Purchase.objects.filter(amount__lt=0).exists()
    assert not PurchaseLine.objects.filter(quantity__lte=0).exists()
    # Each market pays in its currency; the amount the figures add up is in euros, at the month's rate.
    assert set(Purchase.objects.values_list("currency", flat=True).distinct()) == {settings.CURRENCY, "BRL", "MXN"}
    assert not Purchase.objects.filter(Q(original_amount=None) | Q(exchange_rate=None)).exists()
    assert not Purchase.objects.filter(currency=settings.CURRENCY).exclude(amount=F("original_amount")).exists()
    for purchase in Purchase.objects.exclude(currency=settings.CURRENCY)[:200]:
        assert purchase.exchange_rate == rate_for(purchase.currency, purchase.date)
        assert purchase.amount == convert(purchase.original_amount, purchase.exchange_rate)
    assert not Purchase.objects.filter(date__gt=timezone.localdate()).exists()


def test_seed_demo_figures_and_status_match_a_python_computation_from_the_purchases():
    seed()
    today = timezone.localdate()

    assert Client.objects.filter(purchase_count__gt=0).count() >= 20
    for client in Client.objects.all():
        dates_amounts = list(client.purchases.values_list("date", "amount"))
        dates = [date for date, _ in dates_amounts]
        total = sum((amount for _, amount in dates_amounts), Decimal("0"))
        assert client.purchase_count == len(dates_amounts)
        assert client.total_spent == total
        assert client.spend_12m == sum(
            (amount for date, amount in dates_amounts if date > today - dt.timedelta(days=365)), Decimal("0")
        )
        assert client.first_purchase_date == (min(dates) if dates else None)
        assert client.last_purchase_date == (max(dates) if dates else None)
        expected_basket = (total / len(dates)).quantize(Decimal("0.01"), ROUND_HALF_UP) if dates else Decimal("0")
        assert client.average_basket == expected_basket
        assert client.status == status_for(
            as_of=today, first_purchase=client.first_purchase_date, last_purchase=client.last_purchase_date,
            closed_at=client.closed_at, thresholds=Thresholds(),
        )
        # When each status began, as the purchases tell (not the day of the load).
        assert client.status_since == (None if client.status == Status.PROSPECT else status_since_for(
            status=client.status, previous=Status.PROSPECT, as_of=today, first_purchase=client.first_purchase_date,
            last_purchase=client.last_purchase_date, closed_at=client.closed_at, thresholds=Thresholds(),
        ))
    # And the engine's own check (recompute_lifecycle --verify) finds nothing to change.
    assert lifecycle_differences(today, current_thresholds()) == []
    # A load sets statuses and records no changes of its own: the history is demo/origins.py's, a
    # year of changes read from the purchases (issue 18), none older.
    assert not StatusChange.objects.filter(date__lte=today - dt.timedelta(days=365)).exists()
    # The engine filled the classifications too.
    assert Client.objects.exclude(volume_tier="").exists()
    assert Client.objects.exclude(frequency_class="").exists()
    assert not Client.objects.filter(purchase_count__gt=0, rfm_segment="").exists()


def test_seed_demo_second_run_creates_nothing():
    seed()
    before = table_counts()

    output = seed()

    assert "Demo data already present; nothing to do." in output
    assert table_counts() == before


def test_seed_demo_same_seed_gives_the_same_clients_and_another_seed_does_not():
    def names_for(seed_value: int) -> list[tuple]:
        rollback_point = transaction.savepoint()
        seed(seed=seed_value)
        names = list(Client.objects.order_by("pk").values_list("first_name", "last_name", "company_name", "city"))
        amounts = list(Purchase.objects.order_by("pk").values_list("date", "amount"))
        transaction.savepoint_rollback(rollback_point)
        return names, amounts

    first = names_for(1)
    assert Client.objects.count() == 0  # rolled back: the second run starts from scratch
    assert names_for(1) == first
    assert names_for(2)[0] != first[0]


def test_seed_demo_data_does_not_depend_on_worker_processes(monkeypatch):
    # One clock for both builds: the history stops at the build's minute, and two builds a few
    # seconds apart may straddle one.
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)

    def snapshot(workers: int) -> tuple[list, list, list]:
        rollback_point = transaction.savepoint()
        demo_build(compute_figures=compute_figures, clients=30, seed=3, workers=workers, block_clients=10, log=lambda message: None)
        clients = list(Client.objects.order_by("pk").values_list("pk", "last_name", "email", "status", "total_spent"))
        purchases = list(Purchase.objects.order_by("pk").values_list("pk", "client_id", "date", "amount"))
        followups = list(FollowUp.objects.order_by("pk").values_list("client_id", "closed_by__client_id", "due_at"))
        transaction.savepoint_rollback(rollback_point)
        return clients, purchases, followups

    in_this_process = snapshot(workers=0)
    assert len(in_this_process[0]) == 30
    assert snapshot(workers=2) == in_this_process


def test_seed_demo_builds_a_realistic_business():
    seed(clients=400)
    today = timezone.localdate()
    now = timezone.now()
    clients = Client.objects.all()

    statuses = set(clients.values_list("status", flat=True))
    assert {Status.PROSPECT, Status.ACTIVE, Status.DORMANT, Status.LOST} <= statuses
    never_bought = clients.filter(purchase_count=0).count()
    assert 0.08 * 400 <= never_bought <= 0.25 * 400
    assert 6 <= Purchase.objects.count() / 400 <= 15
    # Several purchases by one client on one day, as in real exports.
    assert Purchase.objects.values("client", "date").distinct().count() < Purchase.objects.count()
    assert clients.exclude(company_name="").exclude(tax_id="").exists()
    assert 0.04 * 400 <= clients.filter(client_ref__startswith="ERP-").count() <= 0.18 * 400
    assert clients.exclude(closed_at=None).exclude(close_reason="").exists()
    assert clients.filter(purchase_count=0).exclude(prospect_qualification="").exclude(temperature="").exists()
    assert clients.filter(interests__isnull=False).distinct().count() > 200
    assert set(clients.values_list("country", flat=True)) == {"ES", "PT", "BR", "MX"}

    for purchase in Purchase.objects.filter(lines__isnull=False).distinct()[:50]:
        assert purchase.original_amount == sum(line.total for line in purchase.lines.all())  # in its currency

    assert Interaction.objects.filter(awaiting_reply=True).exists()
    assert Interaction.objects.exclude(outcome="").exists()
    pending = FollowUp.objects.filter(status=FollowUp.State.PENDING)
    assert pending.filter(due_at__lt=now).exists()  # overdue
    assert pending.filter(due_at__date=today).exists() or pending.filter(due_at__date=today + dt.timedelta(days=1)).exists()
    assert pending.filter(due_at__gt=now, due_at__lte=now + dt.timedelta(days=7)).exists()
    done = FollowUp.objects.filter(status=FollowUp.State.DONE)
    assert done.exists()
    assert not done.filter(closed_by=None).exists()
    assert all(f.closed_by.client_id == f.client_id for f in done.select_related("closed_by"))

    with_contract = clients.filter(contracts__isnull=False).distinct().count()
    assert 0.08 * 400 <= with_contract <= 0.25 * 400
    assert Contract.objects.filter(
        end_date__gte=today, end_date__lte=today + dt.timedelta(days=30), renewal_status=Contract.Renewal.PENDING
    ).exists()
    # Each renewed contract leads to the term that renews it, as the client page's "Renew" leaves it.
    renewed = Contract.objects.filter(renewal_status=Contract.Renewal.RENEWED).select_related("renewal")
    assert renewed.exists()
    for contract in renewed:
        assert contract.renewal.client_id == contract.client_id and contract.renewal.start_date > contract.end_date


def test_seed_demo_tax_ids_and_phones_pass_their_country_checks_in_normal_form():
    from clients.identifiers import tax_id_normal
    from clients.phones import e164

    seed(clients=400)

    held = list(Client.objects.values_list("country", "tax_id", "phone"))
    assert {country for country, _tax_id, _phone in held} == {"ES", "PT", "BR", "MX"}
    wrong_tax_ids = [(c, t) for c, t, _p in held if t and tax_id_normal(t, c) != t]
    wrong_phones = [(c, p) for c, _t, p in held if p and e164(p, c) != p]
    assert wrong_tax_ids == [] and wrong_phones == []
    assert sum(1 for _c, t, _p in held if t) > 50 and sum(1 for _c, _t, p in held if p) > 300


def test_the_night_after_the_demo_is_incremental_and_changes_nothing():
    """The demo's load is a full run: the next night starts from it, and finds nothing to move."""
    from segmentation.engine import lifecycle_differences
    from segmentation.services import current_thresholds, lifecycle_full_needed, lifecycle_recompute

    seed()
    today = timezone.localdate()
    assert not lifecycle_full_needed(as_of=today)
    result = lifecycle_recompute(as_of=today, with_consequences=False)
    assert result["mode"] == "incremental" and result["rows_changed"] == 0
    assert lifecycle_differences(today, current_thresholds()) == []
