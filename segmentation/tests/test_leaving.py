"""Why clients leave (segmentation/leaving.py): every figure against a hand-computed example.

Today is 2026-12-15; a client is lost 365 days after its last purchase (from the 366th day).
The owner's clients (a comercial of the manager's team):

    client  purchases (date €)                              closed / reason         interactions                         reason       lost since   revenue lost
    A       2025-05-01 1000, 2025-12-10 200, 2026-06-01 300  2026-12-01 price        —                                    price        2026-12-01   500 (the first is > 364 days before the last)
    B       2025-01-05 100, 2025-11-20 400                   —                       2025-10-01 "muy caro" (before the    competitor   2026-11-21   500
                                                                                     last purchase), 2026-02-01 competitor
    C       2025-12-01 200                                   —                       2026-03-01 "el precio es alto"        price        2026-12-02   200
    E       2025-12-05 150                                   —                       2026-05-01 not interested             no_need      2026-12-06   150
    F       2025-12-10 80                                    —                       —                                    (none)       2026-12-11   80
    I       —                                                2026-12-04 moved        —                                    moved        2026-12-04   0
    J       2025-12-08 300                                   reason service (survey)  2026-04-01 competitor                service      2026-12-09   300
    G       2026-12-10 90                                    2026-12-03 service      —                                    '' (bought after closing: new)
    K       2026-12-01 50                                    —                       2026-12-05 competitor                '' (active)

The outsider's H (another team), lost on 2025-12-... with reason price, is never counted for the manager.

December 2026: 6 bajas — price 2 (A, C: 700), no_need 1 (150), moved 1 (0), service 1 (300), not recorded 1 (80).
November 2026: 1 — competitor (B: 500). Price's share of December: 2 of 6 = 33.3 %.
"""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone, translation

from clients.models import Client, Interaction, Status
from clients.tests.factories import ClientFactory, InteractionFactory, PurchaseFactory
from segmentation import records
from segmentation.engine import lifecycle_differences, recompute_lifecycle
from segmentation.leaving import alert_text, leave_reason_differences, leaving_report, month_counts, reason_alert
from segmentation.rules import Thresholds

TODAY = dt.date(2026, 12, 15)
D = dt.date


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _client(owner, purchases=(), *, notes=(), **extra) -> Client:
    client = ClientFactory(owner=owner, **extra)
    for day, amount in purchases:
        PurchaseFactory(client=client, date=day, amount=Decimal(amount))
    for day, fields in notes:
        InteractionFactory(client=client, happened_at=_at(day), **fields)
    return client


@pytest.fixture
def example(owner, outsider):
    clients = {
        "A": _client(owner, [(D(2025, 5, 1), "1000"), (D(2025, 12, 10), "200"), (D(2026, 6, 1), "300")],
                     closed_at=D(2026, 12, 1), close_reason="price"),
        "B": _client(owner, [(D(2025, 1, 5), "100"), (D(2025, 11, 20), "400")], notes=[
            (D(2025, 10, 1), {"objections": "Dice que es muy caro"}),
            (D(2026, 2, 1), {"competitor_notes": "Compra a Distribuciones Sur"}),
        ]),
        "C": _client(owner, [(D(2025, 12, 1), "200")], notes=[(D(2026, 3, 1), {"objections": "El precio es alto"})]),
        "E": _client(owner, [(D(2025, 12, 5), "150")], notes=[(D(2026, 5, 1), {"outcome": Interaction.Outcome.NOT_INTERESTED})]),
        "F": _client(owner, [(D(2025, 12, 10), "80")]),
        "I": _client(owner, closed_at=D(2026, 12, 4), close_reason="moved"),
        "J": _client(owner, [(D(2025, 12, 8), "300")], close_reason="service",
                     notes=[(D(2026, 4, 1), {"competitor_notes": "Otro proveedor"})]),
        "G": _client(owner, [(D(2026, 12, 10), "90")], closed_at=D(2026, 12, 3), close_reason="service"),
        "K": _client(owner, [(D(2026, 12, 1), "50")], notes=[(D(2026, 12, 5), {"competitor_notes": "Otro"})]),
        "H": _client(outsider, [(D(2025, 12, 1), "999")], closed_at=D(2026, 12, 2), close_reason="price"),
    }
    recompute_lifecycle(TODAY, Thresholds())
    for client in clients.values():
        client.refresh_from_db()
    return clients


def test_every_baja_carries_its_reason_and_the_others_none(example):
    reasons = {name: (client.status, client.leave_reason) for name, client in example.items()}
    assert reasons == {
        "A": (Status.LOST, "price"), "B": (Status.LOST, "competitor"), "C": (Status.LOST, "price"),
        "E": (Status.LOST, "no_need"), "F": (Status.LOST, ""), "I": (Status.LOST, "moved"),
        "J": (Status.LOST, "service"), "G": (Status.NEW, ""), "K": (Status.NEW, ""), "H": (Status.LOST, "price"),
    }
    assert lifecycle_differences(TODAY, Thresholds()) == []


def test_the_reasons_per_month_and_the_revenue_lost(example, manager):
    report = leaving_report(clients=Client.objects.visible_to(manager), today=TODAY)
    december, november = D(2026, 12, 1), D(2026, 11, 1)
    assert report.months[0] == D(2026, 1, 1) and report.months[-1] == december
    figures = {
        (month, code): (cell.clients, cell.lost) for (month, code), cell in report.cells.items()
    }
    assert figures == {
        (december, "price"): (2, Decimal("700")), (december, "no_need"): (1, Decimal("150")),
        (december, "moved"): (1, Decimal("0")), (december, "service"): (1, Decimal("300")),
        (december, ""): (1, Decimal("80")), (november, "competitor"): (1, Decimal("500")),
    }
    assert (report.month_total(december).clients, report.month_total(december).lost) == (6, Decimal("1230"))
    assert (report.total.clients, report.total.lost) == (7, Decimal("1730"))
    assert report.reason_total("price").clients == 2


def test_the_alert_when_one_reason_passes_the_share(example, manager):
    counts = month_counts(clients=Client.objects.visible_to(manager), today=TODAY)
    assert counts == {"price": 2, "no_need": 1, "moved": 1, "service": 1, "": 1}
    alert = reason_alert(counts=counts, share=30, minimum=5)
    assert (alert.code, alert.clients, alert.total, alert.share) == ("price", 2, 6, 33.3)
    assert reason_alert(counts=counts, share=34, minimum=5) is None  # 33.3 % is not above 34 %
    assert reason_alert(counts=counts, share=30, minimum=7) is None  # too few bajas this month
    assert reason_alert(counts=counts, share=0, minimum=0) is None  # switched off
    with translation.override("en"):
        assert alert_text(alert) == "2 of 6 lost clients this month cite “Price”"
        one = reason_alert(counts={"moved": 1}, share=50, minimum=1)
        assert alert_text(one) == "1 of 1 lost clients this month cites “Moved away”"


def test_a_write_keeps_the_reason_at_once(example, owner):
    """Closing with a reason, recording an interaction and buying again each move it without a night."""
    f = example["F"]
    with mock.patch("django.utils.timezone.now", return_value=_at(TODAY)):
        _writes(f, owner)


def _writes(f: Client, owner) -> None:
    records.interaction_record(
        client=f, by=owner, interaction=Interaction(kind=Interaction.Kind.CALL, summary="Llamada", competitor_notes="Otro"),
    )
    f.refresh_from_db()
    assert f.leave_reason == "competitor"
    records.client_update(by=owner, client=f, data={"close_reason": "service"})
    f.refresh_from_db()
    assert f.leave_reason == "service"
    records.purchase_record(client=f, by=owner, date=timezone.localdate(), amount=Decimal("10"))
    f.refresh_from_db()
    assert (f.status, f.leave_reason) != (Status.LOST, "service") and f.leave_reason == ""


def test_every_baja_stores_its_revenue_lost_and_the_others_none(example):
    lost = {name: client.lost_revenue for name, client in example.items()}
    assert lost == {
        "A": Decimal("500"), "B": Decimal("500"), "C": Decimal("200"), "E": Decimal("150"), "F": Decimal("80"),
        "I": Decimal("0"), "J": Decimal("300"), "G": Decimal("0"), "K": Decimal("0"), "H": Decimal("999"),
    }


def test_a_purchase_written_corrected_or_deleted_keeps_the_revenue_lost_at_once(example, owner):
    """Without a night: an old purchase found later (the client stays a baja) adds to it, its
    correction and deletion take it back, and a purchase today (no longer a baja) clears it."""
    f = example["F"]  # one purchase, 2025-12-10 80 €: a baja since 2026-12-11

    def stored() -> tuple[str, Decimal]:
        f.refresh_from_db()
        return f.status, f.lost_revenue

    with mock.patch("django.utils.timezone.now", return_value=_at(TODAY)):
        older = records.purchase_record(client=f, by=owner, date=D(2025, 3, 1), amount=Decimal("40"))
        assert stored() == (Status.LOST, Decimal("120"))
        records.purchase_correct(purchase=older, by=owner, amount=Decimal("45.50"))
        assert stored() == (Status.LOST, Decimal("125.50"))
        records.purchase_correct(purchase=older, by=owner, date=D(2024, 12, 1))  # out of its last year
        assert stored() == (Status.LOST, Decimal("80"))
        records.purchase_delete(purchase=older, by=owner)
        assert stored() == (Status.LOST, Decimal("80"))
        records.purchase_record(client=f, by=owner, date=TODAY, amount=Decimal("10"))
        assert stored() == (Status.ACTIVE, Decimal("0"))
    assert leave_reason_differences() == []  # (the RFM scores wait for the night's cut points)


def test_the_check_finds_a_wrong_revenue_lost_and_a_refresh_puts_it_right(example):
    """A full run reads again the revenue lost of the bajas it changes, not of every one (their
    purchases and status did not move): the check still finds any that is wrong, and the
    client's refresh puts it right; a client that is no baja loses it in the full run."""
    from segmentation.engine import Difference
    from segmentation.services import lifecycle_refresh_client

    a, g = example["A"], example["G"]
    Client.objects.filter(pk=a.pk).update(lost_revenue=Decimal("1"))
    Client.objects.filter(pk=g.pk).update(lost_revenue=Decimal("2"))  # not a baja: nothing lost
    assert lifecycle_differences(TODAY, Thresholds()) == [
        Difference(a.pk, "lost_revenue", Decimal("1"), Decimal("500")),
        Difference(g.pk, "lost_revenue", Decimal("2"), Decimal("0")),
    ]
    recompute_lifecycle(TODAY, Thresholds())
    assert lifecycle_differences(TODAY, Thresholds()) == [Difference(a.pk, "lost_revenue", Decimal("1"), Decimal("500"))]
    with mock.patch("django.utils.timezone.now", return_value=_at(TODAY)):
        lifecycle_refresh_client(a.pk)
    assert lifecycle_differences(TODAY, Thresholds()) == []
    assert list(Client.objects.filter(pk__in=[a.pk, g.pk]).order_by("pk").values_list("lost_revenue", flat=True)) == [
        Decimal("500"), Decimal("0"),
    ]


def test_the_migration_fills_the_bajas_already_there(example):
    import importlib

    from django.db import connection

    migration = importlib.import_module("clients.migrations.0030_client_lost_revenue")
    Client.objects.update(lost_revenue=Decimal("0"))
    migration.fill(None, mock.Mock(connection=connection))
    stored = Client.objects.filter(lost_revenue__gt=0).values_list("lost_revenue", flat=True)
    assert sorted(stored) == sorted(
        [Decimal("500"), Decimal("500"), Decimal("200"), Decimal("150"), Decimal("80"), Decimal("300"), Decimal("999")]
    )
    assert lifecycle_differences(TODAY, Thresholds()) == []


URL = "/dashboard/leaving/"


def _get(client, user, url=URL):
    with mock.patch("django.utils.timezone.now", return_value=_at(TODAY)), translation.override("en"):
        client.force_login(user)  # at the page's time: a session from another day has expired
        return client.get(url, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.django_db
def test_the_page_for_a_gerente_shows_the_months_the_totals_and_the_alert(client, example, manager):
    from segmentation.models import LifecycleSettings

    LifecycleSettings.objects.update_or_create(pk=1, defaults={"leave_alert_share": 30, "leave_alert_minimum": 5})
    response = _get(client, manager)
    assert response.status_code == 200
    columns = {column["code"]: column["total"] for column in response.context["columns"]}
    assert (columns["price"].clients, columns["price"].lost) == (2, Decimal("700"))
    assert (columns["competitor"].clients, columns["competitor"].lost) == (1, Decimal("500"))
    assert (columns[""].clients, columns[""].lost) == (1, Decimal("80"))
    rows = response.context["rows"]
    assert rows[0]["month"] == D(2026, 12, 1) and rows[0]["total"].clients == 6
    html = response.content.decode()
    assert 'data-testid="leaving-alert"' in html and "2 of 6 lost clients this month cite “Price”" in html
    assert 'data-testid="leaving-2026-11"' in html


@pytest.mark.django_db
def test_a_comercial_may_not_read_it_and_another_team_sees_only_its_own(client, example, owner, other_manager):
    assert _get(client, owner).status_code == 403
    response = _get(client, other_manager)
    assert response.context["total"].clients == 1  # the outsider's H only
    assert response.context["rows"][0]["cells"][0].clients == 1  # price, December


@pytest.mark.django_db
def test_the_page_runs_a_constant_number_of_queries(client, example, admin_user, owner, django_assert_num_queries):
    with mock.patch("django.utils.timezone.now", return_value=_at(TODAY)):
        client.force_login(admin_user)

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with mock.patch("django.utils.timezone.now", return_value=_at(TODAY)), CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first request of a session writes it
    before = count()
    for index in range(5):  # more bajas, in other months and reasons
        _client(owner, [(D(2025, 6, 1 + index), "10")], notes=[(D(2025, 9, 1), {"competitor_notes": "X"})])
    recompute_lifecycle(TODAY, Thresholds())
    with django_assert_num_queries(before):
        with mock.patch("django.utils.timezone.now", return_value=_at(TODAY)):
            assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_the_dashboard_card_shows_this_months_reasons_and_the_alert(client, example, manager):
    from segmentation.models import LifecycleSettings
    from segmentation.snapshots import snapshot_take

    LifecycleSettings.objects.update_or_create(pk=1, defaults={"leave_alert_share": 30, "leave_alert_minimum": 5})
    snapshot_take(day=TODAY)  # the dashboard shows its figures from the first night on
    response = _get(client, manager, "/dashboard/")
    board = response.context["board"]
    assert [(reason["code"], reason["clients"], reason["lost"]) for reason in board.lost_reasons][:1] == [
        ("price", 2, Decimal("700")),
    ]
    assert board.lost_total == 6
    assert board.lost_alert == "2 of 6 lost clients this month cite “Price”"
    html = response.content.decode()
    assert 'data-testid="leaving-link"' in html
    assert 'data-testid="lost-reason-none"' in html
