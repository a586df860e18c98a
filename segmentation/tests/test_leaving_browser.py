"""Issue 18 in the browser: a gerente reads why the team's clients left; a salesperson filters the
list by where clients came from and saves it as a segment that the dashboard shows at once."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.tests.factories import ClientFactory, InteractionFactory, PurchaseFactory
from segmentation.models import Segment
from segmentation.services import lifecycle_recompute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_gerente_reads_why_the_teams_clients_left(live_server, login, manager, owner, outsider):
    today = timezone.localdate()
    gone = ClientFactory(owner=owner, first_name="Ana", last_name="Competencia")
    PurchaseFactory(client=gone, date=today - dt.timedelta(days=380), amount=Decimal("400"))
    InteractionFactory(client=gone, happened_at=timezone.now() - dt.timedelta(days=30), competitor_notes="Distribuciones Sur")
    closed = ClientFactory(owner=owner, first_name="Bruno", last_name="Cerrado",
                           closed_at=today - dt.timedelta(days=1), close_reason="price")
    PurchaseFactory(client=closed, date=today - dt.timedelta(days=100), amount=Decimal("300"))
    ajeno = ClientFactory(owner=outsider, first_name="Carla", last_name="Ajena", closed_at=today, close_reason="service")
    PurchaseFactory(client=ajeno, date=today - dt.timedelta(days=50), amount=Decimal("90"))
    lifecycle_recompute()  # statuses, reasons and the day's snapshot
    page = login(manager)

    page.goto(f"{live_server.url}/dashboard/")
    expect(page.get_by_test_id("lost-reason-price")).to_be_visible()
    page.get_by_test_id("leaving-link").click()

    expect(page).to_have_url(f"{live_server.url}/dashboard/leaving/")
    expect(page.get_by_test_id("leaving-months")).to_be_visible()
    expect(page.get_by_test_id("reason-competitor")).to_contain_text("1")
    expect(page.get_by_test_id("reason-price")).to_contain_text("1")
    expect(page.get_by_test_id("reason-service")).to_contain_text("0")  # another team's
    expect(page.get_by_test_id("grand-total")).to_contain_text("2")
    expect(page.get_by_test_id("grand-total")).to_contain_text("700")  # 400 + 300 of revenue lost


def test_a_salesperson_filters_by_source_and_the_saved_segment_shows_on_the_dashboard_at_once(live_server, login, owner):
    for first in ("Ana", "Bruno"):
        ClientFactory(owner=owner, first_name=first, last_name="Web", source="web", spend_12m=Decimal("100"))
    ClientFactory(owner=owner, first_name="Carla", last_name="Feria", source="event")
    lifecycle_recompute()  # the night before: the dashboard's snapshot
    page = login(owner)

    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("button", name="Más filtros").click()
    page.locator("input[name=source][value=web]").check()
    expect(page).to_have_url(re.compile(r"[?&]source=web(&|$)"))
    rows = page.get_by_test_id("client-table").locator("tbody tr")
    expect(rows).to_have_count(2)

    page.get_by_test_id("save-segment").locator("summary").click()
    page.get_by_label("Nombre del segmento").fill("Llegados por la web")
    page.get_by_role("button", name="Guardar segmento").click()
    expect(page.get_by_test_id("segment-name")).to_have_text("Llegados por la web")
    segment = Segment.objects.get()
    assert segment.params == {"source": ["web"]}

    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator(f'a[href="/segments/{segment.pk}/"]')).to_have_text("2")
