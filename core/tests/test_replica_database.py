"""The read replica against a real second PostgreSQL database (settings_test's "replica_check":
its own test database, not a mirror). The replica holds what the primary held when it was "copied"
plus a marker client the primary never had, and lacks the clients written since, so every answer
says which database it was read from."""

import datetime as dt

import pytest
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import expect

from campaigns.models import Campaign
from clients.models import Client
from clients.tests.factories import ClientFactory
from core.middleware import PIN_COOKIE
from core.routers import ReplicaRouter
from exports.models import ExportJob
from exports.services import export_job_run
from segmentation.models import Segment
from segmentation.segments import segment_create

REPLICA = "replica_check"

pytestmark = [
    pytest.mark.skipif(
        REPLICA not in settings.DATABASES,
        reason="needs PostgreSQL (DATABASE_URL) without DATABASE_REPLICA_URL (the suite's replica is then a mirror)",
    ),
    pytest.mark.django_db(databases=["default", REPLICA], transaction=True),
]


@pytest.fixture
def replica(settings, owner):
    """Routes replica reads to the second database, which holds the owner (replicated) and a marker."""
    settings.DATABASE_ROUTERS = [ReplicaRouter(replica=REPLICA)]  # the pin middleware is in settings_test
    for row in (owner.team.manager, owner.team, owner):  # in foreign-key order
        row.save(using=REPLICA)
    marker = ClientFactory.build(owner=owner, first_name="Solo", last_name="Enlareplica")
    marker.save(using=REPLICA)
    return marker


def test_the_client_list_reads_the_replica(client, owner, replica):
    on_primary = ClientFactory(owner=owner, last_name="Soloenelprimario")
    client.force_login(owner)
    page = client.get(reverse("clients:client_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Enlareplica" in page
    assert on_primary.last_name not in page
    assert not Client.objects.filter(last_name="Enlareplica").exists()  # other reads: the primary


def test_exports_and_segment_counts_read_the_replica(client, owner, replica):
    ClientFactory(owner=owner, last_name="Soloenelprimario")
    segment = Segment.objects.create(owner=owner, name="Todos", params={})
    segment.save(using=REPLICA)
    client.force_login(owner)
    export = b"".join(client.get(reverse("clients:client_list_export", args=["csv"])).streaming_content).decode()
    assert "Enlareplica" in export and "Soloenelprimario" not in export
    detail = client.get(reverse("segmentation:segment_detail", args=[segment.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Enlareplica" in detail.content.decode()
    assert detail.context["cell"].clients == 1  # the replica's one client, not the primary's


def test_a_writer_reads_the_primary_right_after_the_write(client, owner, replica):
    client.force_login(owner)
    response = client.post(
        reverse("clients:client_create"), {"first_name": "Nueva", "last_name": "Recienguardada", "country": "ES"},
    )
    assert response.status_code == 302
    assert PIN_COOKIE in response.cookies
    assert not Client.objects.using(REPLICA).filter(last_name="Recienguardada").exists()  # the write: the primary
    page = client.get(reverse("clients:client_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Recienguardada" in page and "Enlareplica" not in page  # pinned: the primary
    client.cookies.pop(PIN_COOKIE)  # the pin is over (its seconds are covered in test_routers.py)
    page = client.get(reverse("clients:client_list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Enlareplica" in page


@pytest.mark.parametrize(("age", "expected"), [(dt.timedelta(seconds=1), "primary"), (dt.timedelta(minutes=5), "replica")])
def test_a_background_export_reads_the_replica_only_once_settled(owner, replica, age, expected):
    ClientFactory(owner=owner, last_name="Soloenelprimario")
    job = ExportJob.objects.create(
        created_by=owner, kind=ExportJob.Kind.CLIENTS, format=ExportJob.Format.CSV, params={"query": ""},
        name="clients", language="en",
    )
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    with translation.override("en"):
        export_job_run(job.pk)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE  # its own writes went to the primary
    text = job.file.read().decode("utf-8-sig")
    assert ("Enlareplica" in text, "Soloenelprimario" in text) == (expected == "replica", expected == "primary")


def test_a_campaign_drafts_audience_is_counted_on_the_replica(client, owner, replica):
    ClientFactory.create_batch(2, owner=owner)
    segment = segment_create(owner=owner, name="Todos", shared=False, query=QueryDict(""))
    segment.save(using=REPLICA)
    campaign = Campaign.objects.create(
        name="Recuperar", goal=Campaign.Goal.REACTIVATION, channel=Campaign.Channel.PHONE, segment=segment,
        followup_due=timezone.localdate() + dt.timedelta(days=7), created_by=owner,
    )
    client.force_login(owner)
    response = client.get(campaign.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["audience"]["segment"] == 1  # the replica's marker, not the primary's two


@pytest.mark.browser
def test_comercial_finds_the_client_just_saved_in_the_list(live_server, login, owner, replica):
    """The list reads the replica, which lacks the new client: the pin after the save shows it anyway."""
    owner.language = "en"
    owner.save(update_fields=["language"])
    page = login(owner)
    page.goto(f"{live_server.url}/clients/new/")
    page.fill("input[name=first_name]", "Nueva")
    page.fill("input[name=last_name]", "Recienguardada")
    page.get_by_label("Country").select_option("ES")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("client-name")).to_contain_text("Nueva Recienguardada")

    page.goto(f"{live_server.url}/clients/")
    expect(page.get_by_text("Recienguardada")).to_be_visible()
    expect(page.get_by_text("Enlareplica")).to_have_count(0)
    page.context.clear_cookies(name=PIN_COOKIE)  # the pin's seconds are over
    page.reload()
    expect(page.get_by_text("Enlareplica")).to_be_visible()  # the replica, not yet caught up
    expect(page.get_by_text("Recienguardada")).to_have_count(0)
