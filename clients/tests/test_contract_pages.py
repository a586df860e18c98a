"""The client page's contracts (create, edit, renew, end) and the renewal portfolio page and export."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from clients.models import ClientShare, Contract, FollowUp
from clients.tests.factories import ClientFactory, ContractFactory, FollowUpFactory
from clients.tests.test_exports import csv_rows, xlsx_rows
from segmentation.models import LifecycleSettings

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def url(name: str, *args) -> str:
    return reverse(f"clients:{name}", args=args)


def contract_of(record, end: int, **fields) -> Contract:
    return ContractFactory(client=record, start_date=days(end - 365), end_date=days(end), **fields)


# The client page

def test_the_client_page_lists_current_contracts_first_with_their_buttons(client, owner):
    record = ClientFactory(owner=owner)
    old = contract_of(record, -10, title="Antiguo")
    later = contract_of(record, 200, title="Largo")
    soon = contract_of(record, 20, title="Pronto")
    lost = contract_of(record, 5, title="Perdido", renewal_status="not_renewing")
    client.force_login(owner)
    content = client.get(record.get_absolute_url(), **EN).content.decode()
    order = [content.index(f"contract-{c.pk}\"") for c in (soon, later, lost, old)]
    assert order == sorted(order)
    assert url("contract_create", record.pk) in content
    assert url("contract_renew", record.pk, soon.pk) in content and url("contract_end", record.pk, soon.pk) in content
    assert url("contract_renew", record.pk, lost.pk) not in content and url("contract_edit", record.pk, lost.pk) in content


def test_a_colleague_it_is_only_shared_with_sees_the_contracts_without_buttons(client, owner, teammate):
    record = ClientFactory(owner=owner)
    contract = contract_of(record, 20, title="Soporte")
    ClientShare.objects.create(client=record, user=teammate)
    client.force_login(teammate)
    content = client.get(record.get_absolute_url()).content.decode()
    assert "Soporte" in content
    assert url("contract_create", record.pk) not in content and url("contract_edit", record.pk, contract.pk) not in content
    for target in (url("contract_create", record.pk), url("contract_renew", record.pk, contract.pk),
                   url("contract_end", record.pk, contract.pk), url("contract_edit", record.pk, contract.pk)):
        assert client.get(target).status_code == 403
        assert client.post(target, {}).status_code == 403
    assert client.post(url("contract_proposal_sent", record.pk, contract.pk)).status_code == 403


def test_another_portfolios_contract_pages_are_404(client, owner, outsider):
    record = ClientFactory(owner=owner)
    contract = contract_of(record, 20)
    client.force_login(outsider)
    assert client.get(url("contract_create", record.pk)).status_code == 404
    assert client.get(url("contract_renew", record.pk, contract.pk)).status_code == 404
    other = ClientFactory(owner=outsider)
    client.force_login(owner)
    assert client.get(url("contract_edit", other.pk, contract.pk)).status_code == 404  # not that client's


def test_the_owner_adds_a_contract(client, owner):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    data = {"title": "Mantenimiento", "start_date": days(0), "end_date": days(364), "value": "1200.50", "notes": ""}
    response = client.post(url("contract_create", record.pk), data)
    assert response.status_code == 302 and response["Location"] == record.get_absolute_url()
    contract = Contract.objects.get(client=record)
    assert (contract.title, contract.value, contract.end_date) == ("Mantenimiento", Decimal("1200.50"), days(364))
    assert AuditEntry.objects.filter(client=record, subject="contract", action="create").count() == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"start_date": days(10), "end_date": days(9)}, "end_date"),
    ({"value": "-1"}, "value"),
    ({"value": "1" * 20}, "value"),
    ({"end_date": "31/02/2026"}, "end_date"),
])
def test_bad_contract_input_is_a_form_error_and_writes_nothing(client, owner, data, field):
    record = ClientFactory(owner=owner)
    client.force_login(owner)
    form = {"title": "x", "start_date": days(0), "end_date": days(30), "value": "10", **data}
    response = client.post(url("contract_create", record.pk), form)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Contract.objects.filter(client=record).exists()


def test_the_gerente_edits_a_contract(client, owner, manager):
    contract = contract_of(ClientFactory(owner=owner), 20, title="Viejo")
    client.force_login(manager)
    data = {"title": "Nuevo", "start_date": contract.start_date, "end_date": days(40), "value": "99"}
    assert client.post(url("contract_edit", contract.client_id, contract.pk), data).status_code == 302
    contract.refresh_from_db()
    assert (contract.title, contract.end_date, contract.value) == ("Nuevo", days(40), Decimal("99.00"))


def test_the_renewal_form_is_prefilled_from_the_old_term(client, owner):
    contract = contract_of(ClientFactory(owner=owner), 20, title="Soporte", value=Decimal("800"))
    client.force_login(owner)
    response = client.get(url("contract_renew", contract.client_id, contract.pk))
    form = response.context["form"]
    assert (form["title"].value(), form["value"].value()) == ("Soporte", Decimal("800.00"))
    assert (form["start_date"].value(), form["end_date"].value()) == (days(21), days(21 + 365))
    assert f'value="{days(21).isoformat()}"' in response.content.decode()


def test_renewing_from_the_page(client, owner):
    contract = contract_of(ClientFactory(owner=owner), 20, title="Soporte")
    client.force_login(owner)
    data = {"title": "Soporte 2", "start_date": days(21), "end_date": days(200), "value": "900"}
    assert client.post(url("contract_renew", contract.client_id, contract.pk), data).status_code == 302
    contract.refresh_from_db()
    assert contract.renewal_status == "renewed" and contract.renewal.title == "Soporte 2"
    # A second submission (another tab) is told so and writes nothing.
    response = client.post(url("contract_renew", contract.client_id, contract.pk), data)
    assert response.status_code == 302 and Contract.objects.filter(client_id=contract.client_id).count() == 2


def test_ending_from_the_page_refuses_a_date_before_the_start(client, owner):
    contract = contract_of(ClientFactory(owner=owner), 20)
    client.force_login(owner)
    target = url("contract_end", contract.client_id, contract.pk)
    response = client.post(target, {"ended_on": days(-400), "reason": "price"}, **EN)
    assert response.status_code == 200 and "cannot end before it starts" in response.content.decode()
    assert client.post(target, {"ended_on": days(0), "reason": ""}).status_code == 200
    contract.refresh_from_db()
    assert contract.renewal_status == "pending"
    assert client.post(target, {"ended_on": days(0), "reason": "service", "notes": "mal servicio"}).status_code == 302
    contract.refresh_from_db()
    assert (contract.renewal_status, contract.end_reason, contract.end_date) == ("not_renewing", "service", days(0))


# The renewal portfolio

@pytest.fixture
def portfolio(owner, teammate, outsider):
    """Contracts of the owner, a teammate, an outsider of another team, and a client shared with the owner."""
    mine = ClientFactory(owner=owner, first_name="Ana", last_name="Mía")
    return {
        "mine_20": contract_of(mine, 20, title="Mío 20", value=Decimal("100")),
        "mine_45": contract_of(ClientFactory(owner=owner), 45, title="Mío 45", value=Decimal("200")),
        "mine_80": contract_of(ClientFactory(owner=owner), 80, title="Mío 80", value=Decimal("400")),
        "mine_past": contract_of(ClientFactory(owner=owner), -1, title="Mío pasado"),
        "teammate_10": contract_of(ClientFactory(owner=teammate), 10, title="Compañero 10", value=Decimal("50")),
        "outsider_5": contract_of(ClientFactory(owner=outsider), 5, title="Ajeno 5"),
        "shared_7": contract_of(_shared_with(owner, teammate), 7, title="Compartido 7"),
    }


def _shared_with(user, owner):
    record = ClientFactory(owner=owner)
    ClientShare.objects.create(client=record, user=user)
    return record


def titles(response) -> list[str]:
    return [row["contract"].title for row in response.context["rows"]]


def test_a_comercial_sees_their_own_contracts_in_the_default_window(client, owner, portfolio):
    client.force_login(owner)
    response = client.get(url("renewals"))
    assert response.status_code == 200
    assert titles(response) == ["Mío 20", "Mío 45"]  # default 60 days; not a client only shared with them
    assert "owner" not in response.context["form"].fields


def test_the_window_default_comes_from_the_thresholds_page(client, owner, portfolio):
    settings = LifecycleSettings.current()
    settings.renewal_window_days = 90
    settings.save()
    client.force_login(owner)
    assert titles(client.get(url("renewals"))) == ["Mío 20", "Mío 45", "Mío 80"]
    assert titles(client.get(url("renewals"), {"days": 30})) == ["Mío 20"]
    response = client.get(url("renewals"), {"days": 45})  # not a choice: an error, and the default
    assert "days" in response.context["form"].errors and titles(response) == ["Mío 20", "Mío 45", "Mío 80"]


def test_a_gerente_sees_their_team_and_filters_by_salesperson(client, manager, teammate, portfolio):
    client.force_login(manager)
    assert titles(client.get(url("renewals"), {"days": 90})) == [
        "Compartido 7", "Compañero 10", "Mío 20", "Mío 45", "Mío 80",
    ]
    response = client.get(url("renewals"), {"days": 90, "owner": teammate.pk})
    assert titles(response) == ["Compartido 7", "Compañero 10"]


def test_a_gerente_cannot_pick_another_teams_salesperson(client, manager, outsider, portfolio):
    client.force_login(manager)
    response = client.get(url("renewals"), {"owner": outsider.pk})
    assert "owner" in response.context["form"].errors
    assert "Ajeno 5" not in titles(response)


def test_an_administrador_sees_everyone_and_filters_by_team(client, admin_user, outsider, portfolio):
    client.force_login(admin_user)
    assert "Ajeno 5" in titles(client.get(url("renewals"), {"days": 90}))
    response = client.get(url("renewals"), {"days": 90, "team": outsider.team_id})
    assert titles(response) == ["Ajeno 5"]


def test_rows_are_sorted_by_end_date_with_days_left_and_totals(client, manager, portfolio):
    client.force_login(manager)
    response = client.get(url("renewals"), {"days": 60})
    rows = response.context["rows"]
    assert [row["contract"].end_date for row in rows] == sorted(row["contract"].end_date for row in rows)
    assert [row["days_left"] for row in rows] == [7, 10, 20, 45]
    totals = response.context["totals"]
    assert totals.contracts == 4 and totals.value == Decimal("1550.00")  # 50 + 100 + 200 + factory's 1200
    assert totals.at_stake == Decimal("1550.00")


def test_a_large_portfolio_is_capped_but_counted_in_full(client, owner, monkeypatch):
    monkeypatch.setattr("clients.contract_views.PAGE_LIMIT", 2)
    for end in (5, 6, 7):
        contract_of(ClientFactory(owner=owner), end, value=Decimal("10"))
    client.force_login(owner)
    response = client.get(url("renewals"), **EN)
    assert [row["days_left"] for row in response.context["rows"]] == [5, 6]
    assert response.context["totals"].contracts == 3 and response.context["totals"].value == Decimal("30.00")
    assert "Showing the first 2 contracts" in response.content.decode()
    export = client.get(url("renewals_export", "csv"))
    assert b"".join(export.streaming_content).count(b"\n") == 4


def test_the_renewal_state_is_derived(client, owner):
    def one(title, **fields):
        return contract_of(ClientFactory(owner=owner), 15, title=title, value=Decimal("10"), **fields)

    one("nada")
    booked = one("llamada")
    FollowUpFactory(client=booked.client, assigned_to=owner)
    call_done = one("llamada hecha")
    FollowUp.objects.create(
        client=call_done.client, assigned_to=owner, due_at=timezone.now(), origin="renewal", origin_key=str(call_done.pk),
        status="done",
    )
    cancelled = one("llamada cancelada")
    FollowUp.objects.create(
        client=cancelled.client, assigned_to=owner, due_at=timezone.now(), status="cancelled",
    )
    one("propuesta", renewal_status="negotiating")
    one("renovado", renewal_status="renewed")
    one("perdido", renewal_status="not_renewing")
    client.force_login(owner)
    response = client.get(url("renewals"))
    states = {row["contract"].title: row["contract"].renewal_state for row in response.context["rows"]}
    assert states == {
        "nada": "nothing", "llamada": "call", "llamada hecha": "call", "llamada cancelada": "nothing",
        "propuesta": "proposal", "renovado": "renewed", "perdido": "lost",
    }
    totals = {s.state: (s.contracts, s.value) for s in response.context["totals"].states}
    assert totals == {
        "nothing": (2, Decimal("20.00")), "call": (2, Decimal("20.00")), "proposal": (1, Decimal("10.00")),
        "renewed": (1, Decimal("10.00")), "lost": (1, Decimal("10.00")),
    }
    assert response.context["totals"].at_stake == Decimal("50.00")


def test_proposal_sent_from_the_renewal_page(client, owner):
    contract = contract_of(ClientFactory(owner=owner), 15)
    client.force_login(owner)
    back = url("renewals") + "?days=30"
    response = client.post(url("contract_proposal_sent", contract.client_id, contract.pk), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    contract.refresh_from_db()
    assert contract.renewal_status == "negotiating"
    assert AuditEntry.objects.filter(client_id=contract.client_id, subject="contract", action="update").exists()
    response = client.post(url("contract_proposal_sent", contract.client_id, contract.pk), {"next": "https://evil.example/"})
    assert response["Location"] == contract.client.get_absolute_url()


def test_the_page_is_in_the_navigation(client, owner):
    client.force_login(owner)
    assert f'href="{url("renewals")}"' in client.get(url("agenda")).content.decode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_has_the_pages_rows_and_filters(client, manager, teammate, portfolio, fmt):
    ContractFactory(client=ClientFactory(owner=teammate, company_name="=HYPERLINK()"), start_date=days(-1),
                    end_date=days(3), title="@peligro", value=Decimal("5.5"))
    client.force_login(manager)
    response = client.get(url("renewals_export", fmt), {"days": 30, "owner": teammate.pk}, **EN)
    assert response.status_code == 200
    rows = csv_rows(response, ",") if fmt == "csv" else xlsx_rows(response)
    assert list(rows[0]) == ["Client", "Contract", "End date", "Days left", "Value at stake", "Salesperson", "Renewal state"]
    assert [row[1] for row in rows[1:]] == ["'@peligro", "Compartido 7", "Compañero 10"]
    first = list(rows[1])
    if fmt == "csv":
        assert first[2:7] == [days(3).isoformat(), "3", "5.50", str(teammate), "Nothing done yet"]
    else:
        assert first[2].date() == days(3) and first[3:7] == [3, 5.5, str(teammate), "Nothing done yet"]
    assert str(first[0]).startswith("'=")


def test_an_unknown_export_format_is_404(client, owner):
    client.force_login(owner)
    assert client.get(url("renewals_export", "pdf")).status_code == 404


# Query counts

# session, user, the user's groups (roles).
SESSION = 3


@pytest.mark.parametrize("size", [2, 15])
def test_renewal_page_queries_do_not_grow(client, django_assert_num_queries, manager, owner, teammate, size):
    for index in range(size):
        record = ClientFactory(owner=owner if index % 2 else teammate)
        contract_of(record, 5 + index, renewal_status=["pending", "negotiating", "renewed"][index % 3])
        FollowUpFactory(client=record, assigned_to=record.owner)
    LifecycleSettings.current()  # the row exists, as in production
    client.force_login(manager)
    # the settings row (default window); the team's members (whose contracts); the rows with their
    # clients and salespeople; the totals per state (one GROUP BY); the salespeople of the filter.
    with django_assert_num_queries(SESSION + 5):
        response = client.get(url("renewals"), {"days": 90})
    assert response.status_code == 200 and len(response.context["rows"]) == size


@pytest.mark.parametrize("size", [2, 15])
def test_renewal_export_queries_do_not_grow(client, django_assert_num_queries, owner, size):
    for _index in range(size):
        contract_of(ClientFactory(owner=owner), 10)
    LifecycleSettings.current()
    client.force_login(owner)
    # the settings row; the contracts with their clients and salespeople.
    with django_assert_num_queries(SESSION + 2):
        response = client.get(url("renewals_export", "csv"))
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == size + 1


def test_client_page_queries_do_not_grow_with_contracts(client, manager, owner):
    """For the owner's gerente (who may change them: one query for the team) the contracts card
    reads the client's contracts once, whatever their number."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    record = ClientFactory(owner=owner)
    contract_of(record, 10)
    client.force_login(manager)
    client.get(record.get_absolute_url())  # the session is warm from here on
    counts = []
    for more in (0, 9):
        for index in range(more):
            contract_of(record, 11 + index, renewal_status=["pending", "renewed", "not_renewing"][index % 3])
        with CaptureQueriesContext(connection) as context:
            response = client.get(record.get_absolute_url())
        counts.append(len(context.captured_queries))
        assert response.context["can_manage_contracts"]
    assert len(response.context["contracts"]) == 10
    assert counts[0] == counts[1]


# Any input (core/tests/test_fuzz.py): a page with the form's errors and nothing written, or done.

def test_contract_forms_and_the_renewal_page_survive_any_input(client, owner, manager):
    from hypothesis import given
    from hypothesis import strategies as st

    from core.tests.test_fuzz import fuzz, ok, params, value_or

    record = ClientFactory(owner=owner)
    contract = contract_of(record, 20)
    dates = ("2024-01-01", "0001-01-01", "9999-12-31", days(30).isoformat())
    contract_fields = {
        "title": value_or("Soporte"), "start_date": value_or(*dates), "end_date": value_or(*dates),
        "value": value_or("10.50", "-1", "999999999999.99", "1" * 30), "notes": value_or("nota"),
    }
    end_fields = {"ended_on": value_or(*dates), "reason": value_or("price", "other"), "notes": value_or("x")}
    filter_fields = {"days": value_or("30", "60", "90"), "owner": value_or(owner.pk), "team": value_or("1")}
    client.force_login(manager)

    @fuzz(40)
    @given(data=params(contract_fields), action=st.sampled_from(["contracts/new", "edit", "renew"]))
    def forms(data, action):
        target = f"/clients/{record.pk}/{action}/" if action == "contracts/new" else (
            f"/clients/{record.pk}/contracts/{contract.pk}/{action}/"
        )
        before = list(Contract.objects.filter(client=record).values())
        response = client.post(target, data)
        ok(response, 200, 302)
        if response.status_code == 200:
            assert list(Contract.objects.filter(client=record).values()) == before

    @fuzz(30)
    @given(data=params(end_fields))
    def end(data):
        response = client.post(f"/clients/{record.pk}/contracts/{contract.pk}/end/", data)
        ok(response, 200, 302)

    @fuzz(30)
    @given(query=params(filter_fields), fmt=st.sampled_from(["", "csv", "xlsx"]))
    def page(query, fmt):
        ok(client.get(url("renewals_export", fmt) if fmt else url("renewals"), query), 200)

    forms()
    page()
    end()
