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
from django.test import Client as HttpClient  # noqa: E402

from accounts.models import User  # noqa: E402
from clients.models import Client  # noqa: E402

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
    ]
    for user, url in cases:
        http = HttpClient()
        http.force_login(user)
        if user == comercial and url.startswith("/clients/") and url[9:10].isdigit():
            continue
        median, p95, _ = timed(http, url)
        print(f"{user.username:<11} {url[:58]:<58} {median:>9.1f} {p95:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
