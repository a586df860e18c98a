"""Median server time of the client pages on the current database (run through `make bench`).

Requests go through Django's full stack in-process (middleware, views, templates, SQL), so the
figures are server time without the network. Each URL is warmed up once, then timed N times.
"""

import os
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from campaigns.models import NpsSnapshot  # noqa: E402
from campaigns.nps import nps_snapshot_take  # noqa: E402
from clients.models import Client  # noqa: E402
from segmentation.models import DailySnapshot, FlowSnapshot, RenewalSnapshot, Segment, StatusChange  # noqa: E402
from segmentation.segments import segment_create  # noqa: E402
from segmentation.services import snapshots_take  # noqa: E402
from segmentation.snapshots import flow_snapshot_take, renewal_snapshot_take  # noqa: E402

REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))


def timed(http: HttpClient, url: str) -> tuple[float, float, int]:
    response = http.get(url)
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        response = http.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], len(response.content)


def main() -> int:
    total = Client.objects.count()
    admin = User.objects.get(username="admin")
    comercial = User.objects.get(username="comercial1")
    manager = User.objects.filter(groups__name="gerente").order_by("id").first() or admin
    # The pages as a salesperson finds them at 8:30: the night of today has run. Started between
    # midnight and the night (or days after the seed), the dashboard would count live what the
    # night's snapshots hold (the renewals of the year, the month's status changes): its
    # fallback, not its morning.
    today = timezone.localdate()
    if not DailySnapshot.objects.filter(date=today).exists():
        snapshots_take(as_of=today)
    latest = DailySnapshot.objects.latest("date").date
    created = not Segment.objects.filter(owner=admin).exists()
    if created:
        for name, query in (("Dormant very high", "status=dormant&volume_tier=very_high"), ("Madrid", "city=Madrid")):
            segment_create(owner=admin, name=name, shared=True, query=QueryDict(query))
    # Seeded before the dashboard read NPS snapshots, or segments saved since: the night would take
    # it; without, the dashboard counts those segments live (what a segment saved today costs).
    if created or not NpsSnapshot.objects.filter(date=latest).exists():
        nps_snapshot_take(day=latest)
    # Seeded before the flows read the night's snapshot, or status changes written since by this
    # bench's own runs (its recompute section commits full runs): the night would take it again.
    taken = FlowSnapshot.objects.filter(date=latest).aggregate(taken=Max("taken_at"))["taken"]
    if taken is None or StatusChange.objects.filter(created_at__gt=taken).exists():
        flow_snapshot_take(day=latest)
    if not RenewalSnapshot.objects.filter(date=latest).exists():  # seeded before the renewal rate read it
        renewal_snapshot_take(day=latest)
    campaign = _campaigns_setup(admin, comercial)
    sample = Client.objects.filter(purchase_count__gt=5).order_by("id").values_list("pk", flat=True)[:1]
    detail_id = sample[0] if sample else Client.objects.order_by("id").values_list("pk", flat=True)[0]
    surname = Client.objects.order_by("id").values_list("last_name", flat=True)[0].split(" ")[0]
    phone = Client.objects.exclude(phone="").order_by("id").values_list("phone", flat=True)[0]
    print(f"{connection.vendor}, {total:,} clients, {REPEAT} timed requests per URL\n")
    print(f"{'user':<11} {'page':<58} {'median ms':>9} {'p95 ms':>8}")
    cases = [
        (admin, "/clients/"),
        (admin, "/clients/?page=200"),
        (admin, "/clients/?sort=-last_purchase_date"),
        (admin, "/clients/?status=dormant&sort=-last_purchase_date"),
        (admin, "/clients/?status=active&city=Madrid&sort=name"),
        (admin, f"/clients/?q={surname}"),
        (admin, f"/clients/?q={phone.replace(' ', '')}"),
        (comercial, "/clients/"),
        (comercial, "/clients/?page=50"),
        (comercial, "/clients/?status=dormant&sort=-spend_12m"),
        (admin, f"/clients/{detail_id}/"),
        (comercial, "/agenda/"),
        (comercial, "/agenda/?view=month"),
        (admin, "/dashboard/"),
        (manager, "/dashboard/"),
        (comercial, "/dashboard/"),
        (manager, "/dashboard/leaving/"),
        (admin, "/segments/"),
        (comercial, "/imports/"),
        (admin, "/campaigns/"),
        (admin, f"/campaigns/{campaign.pk}/"),
    ]
    only = os.environ.get("BENCH_ONLY")
    for user, url in cases:
        if only and only not in url:
            continue
        http = HttpClient()
        http.force_login(user)
        if user == comercial and url.startswith("/clients/") and url[9:10].isdigit():
            continue
        median, p95, _ = timed(http, url)
        print(f"{user.username:<11} {url[:58]:<58} {median:>9.1f} {p95:>8.1f}")
    return 0


def _campaigns_setup(admin, comercial):
    """Consents (as the demo records them), a draft e-mail campaign to the "Madrid" segment and
    5,000 NPS answers over the last year, once: what the campaign page and the dashboard's NPS
    figures read."""
    import datetime as dt
    import random

    from campaigns.models import Campaign, Consent, Recipient, SurveyAnswer
    from demo.consents import consents_seed

    if not Consent.objects.exists():
        consents_seed()
    madrid = Segment.objects.get(owner=admin, name="Madrid")
    campaign = Campaign.objects.filter(name="Bench draft").first() or Campaign.objects.create(
        name="Bench draft", goal=Campaign.Goal.PROMOTION, segment=madrid, created_by=admin,
        subject="{{ first_name }}, te esperamos", body="Hola {{ first_name }}: {{ salesperson }} — {{ last_product }}",
    )
    if not SurveyAnswer.objects.exists():
        survey = Campaign.objects.create(
            name="Bench NPS", goal=Campaign.Goal.SURVEY, segment=madrid, created_by=admin, subject="NPS", body="?",
            state=Campaign.State.DONE, launched_at=timezone.now() - dt.timedelta(days=60),
        )
        rng = random.Random(3)
        clients = list(Client.objects.order_by("?").values_list("pk", "status")[:5000])
        recipients = Recipient.objects.bulk_create(
            [Recipient(campaign=survey, client_id=pk, status_at_launch=status, state=Recipient.State.SENT) for pk, status in clients]
        )
        Campaign.objects.filter(pk=survey.pk).update(recipient_count=len(recipients))
        SurveyAnswer.objects.bulk_create([
            SurveyAnswer(recipient=recipient, client_id=recipient.client_id, score=rng.choice([0, 3, 6, 7, 8, 9, 9, 10, 10]),
                         answered_at=timezone.now() - dt.timedelta(days=rng.randint(0, 300)))
            for recipient in recipients
        ])
    return campaign


if __name__ == "__main__":
    sys.exit(main())
