"""Times the REST API's purchase feeds end to end on the current database (run through `make bench`):
the request through the whole middleware stack and the token's authentication, the checks, the
write, the audit entries and the refresh of the clients' figures, status and colour.

* a single purchase POST (with an Idempotency-Key), BENCH_API_SINGLE times on random clients of a
  comercial's portfolio: median and 95th percentile (target: median <= 50 ms);
* a bulk POST of 1,000 purchases on 1,000 different clients, a third of them with a product line,
  BENCH_API_BULK times: each run's time (target: <= 2 s, the refresh of the 1,000 clients included).

Everything written is rolled back at the end (the token included), as bench/imports.py does.
"""

import datetime as dt
import os
import random
import statistics
import time
import uuid
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
os.environ.setdefault("RATE_LIMIT_API_TOKEN", "")  # the bench is one token sending as fast as it can
django.setup()

from django.db import transaction  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from api.tokens import token_create  # noqa: E402
from clients.models import Client, Product  # noqa: E402
from segmentation import records  # noqa: E402

SINGLE = int(os.environ.get("BENCH_API_SINGLE", "60"))
BULK = int(os.environ.get("BENCH_API_BULK", "3"))
BULK_ROWS = 1000


class Rollback(Exception):
    pass


def main() -> None:
    rng = random.Random(19)
    # The comercial with the most clients: the access rule as a salesperson meets it.
    seller = max(User.objects.filter(groups__name=Role.COMERCIAL, is_active=True), key=lambda u: u.clients.count())
    clients = list(Client.objects.visible_to(seller).values_list("pk", flat=True))
    products = list(Product.objects.filter(is_active=True).values_list("pk", flat=True)[:200])
    admin = User.objects.filter(groups__name=Role.ADMINISTRADOR, is_active=True).first() or seller
    everyone = list(Client.objects.visible_to(admin).values_list("pk", flat=True))
    print(f"database: {Client.objects.count():,} clients; {seller.username} sees {len(clients):,}")
    today = timezone.localdate()
    try:
        with transaction.atomic():
            http = HttpClient()
            _token, secret = token_create(user=seller, name="bench")
            _admin_token, admin_secret = token_create(user=admin, name="bench")
            headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_ACCEPT_LANGUAGE": "es"}
            # Each API request is followed by the form's service alone on another random client: the
            # yardstick sees the same load as the API (the machine may be shared), and the difference
            # is what the API adds (the token, the access rule, the checks, the JSON, the key).
            times, service = [], []
            for number in range(SINGLE + 3):
                body = {"client": rng.choice(clients), "date": (today - dt.timedelta(days=rng.randint(0, 30))).isoformat()}
                if products and number % 2:
                    body["lines"] = [{"product": rng.choice(products), "quantity": "2"}]
                else:
                    body["amount"] = f"{rng.randint(5, 500)}.{rng.randint(0, 99):02d}"
                start = time.perf_counter()
                response = http.post(
                    "/api/purchases", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **headers,
                )
                elapsed = time.perf_counter() - start
                assert response.status_code == 201, response.content[:500]
                client = Client.objects.get(pk=rng.choice(clients))
                start = time.perf_counter()
                records.purchase_record(client=client, by=seller, date=today, amount=Decimal("12.50"))
                alone = time.perf_counter() - start
                if number >= 3:  # the first requests warm the process up (imports, caches)
                    times.append(elapsed)
                    service.append(alone)
            times.sort()
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"{'purchase_record alone (the form service), median':<58} {statistics.median(service) * 1000:7.1f} ms")
            print(f"{'single purchase POST, median (target <= 50 ms)':<58} {statistics.median(times) * 1000:7.1f} ms")
            print(f"{'single purchase POST, 95th percentile':<58} {p95 * 1000:7.1f} ms")
            admin_headers = {**headers, "HTTP_AUTHORIZATION": f"Bearer {admin_secret}"}
            for run in range(BULK):
                chosen = rng.sample(everyone, min(BULK_ROWS, len(everyone)))
                rows = []
                for number, pk in enumerate(chosen):
                    row = {"client": pk, "date": (today - dt.timedelta(days=rng.randint(0, 60))).isoformat()}
                    if products and number % 3 == 0:
                        row["lines"] = [{"product": rng.choice(products), "quantity": "1"}]
                    else:
                        row["amount"] = f"{rng.randint(5, 900)}.00"
                    rows.append(row)
                start = time.perf_counter()
                response = http.post("/api/purchases/bulk", {"purchases": rows}, content_type="application/json", **admin_headers)
                elapsed = time.perf_counter() - start
                assert response.status_code == 201, response.content[:500]
                result = response.json()
                print(
                    f"{f'bulk POST of {len(rows):,} purchases, run {run + 1} (target <= 2 s)':<58} {elapsed:7.2f} s"
                    f"  ({result['created']} created, {result['clients_refreshed']} clients refreshed)"
                )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
