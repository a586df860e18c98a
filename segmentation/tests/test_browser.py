import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from clients.models import Client
from clients.tests.factories import ClientFactory, PurchaseFactory
from segmentation.models import Segment
from segmentation.services import lifecycle_recompute

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def buyer(owner, name: str, days_ago: int) -> Client:
    first, last = name.split()
    client = ClientFactory(owner=owner, first_name=first, last_name=last)
    PurchaseFactory(client=client, date=timezone.localdate() - dt.timedelta(days=days_ago), amount=Decimal("250"))
    return client


def test_gerente_clicks_the_dormant_count_and_saves_those_clients_as_a_segment(live_server, login, manager, owner, teammate, outsider):
    buyer(owner, "Ana Dormida", 120)
    buyer(teammate, "Bruno Dormido", 150)
    buyer(owner, "Carla Activa", 20)
    buyer(outsider, "Diego Ajeno", 130)  # another team's dormant client
    lifecycle_recompute()  # statuses and the day's snapshot
    page = login(manager)

    page.goto(f"{live_server.url}/dashboard/")
    dormant = page.get_by_test_id("status-dormant")
    expect(dormant).to_have_text("2")
    dormant.click()

    expect(page).to_have_url(f"{live_server.url}/clients/?status=dormant")
    rows = page.get_by_test_id("client-table").locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("client-table")).to_contain_text("Ana Dormida")
    expect(page.get_by_test_id("client-table")).to_contain_text("Bruno Dormido")
    expect(page.get_by_test_id("client-table")).not_to_contain_text("Carla Activa")

    page.get_by_test_id("save-segment").locator("summary").click()
    page.get_by_label("Nombre del segmento").fill("Dormidos del equipo")
    page.get_by_role("button", name="Guardar segmento").click()

    expect(page.get_by_test_id("segment-name")).to_have_text("Dormidos del equipo")
    expect(page.get_by_test_id("segment-count")).to_contain_text("2")
    segment = Segment.objects.get()
    assert (segment.owner, segment.params) == (manager, {"status": ["dormant"]})
    page.goto(f"{live_server.url}/segments/")
    expect(page.get_by_test_id("saved-segments")).to_contain_text("Dormidos del equipo")
