"""`make load`: salespeople using Cartera at once (locust, run by bench/load.sh).

Each simulated user logs in through the real login form as one of the demo's people (comerciales,
gerentes and the administrador, spread in that order), then browses with think time: the agenda,
the client list filtered, sorted and searched, client pages (ids taken from the list pages it has
seen, so always clients it may see), the dashboard, saved segments, the month calendar, and now and
then records an interaction on one of its clients through the real form.

Requests are named by page kind so that URLs with ids group together. Any 4xx/5xx, a redirect to
the login page or a form that does not save counts as a failure. A user whose login fails stops
at once: it never retries a password (django-axes locks a username after failed logins).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import re
import time
import zoneinfo

from locust import HttpUser, between, events, task
from locust.exception import StopUser

PASSWORD = os.environ.get("LOAD_PASSWORD", "cartera-demo")
# The demo's logins (seed_demo, 4 comerciales): 20 users = 12 comerciales, 6 gerentes, 2 admins.
ACCOUNTS = os.environ.get(
    "LOAD_ACCOUNTS",
    "comercial1,comercial2,comercial3,comercial4,gerente,comercial1,comercial2,comercial3,comercial4,gerente2,"
    "admin,comercial1,comercial2,comercial3,comercial4,gerente,gerente2,gerente,gerente2,admin",
).split(",")
# Think time between two actions of one user, in seconds ("min-max").
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("LOAD_WAIT", "0.5-2").split("-"))
SURNAMES = [
    "García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz", "Moreno",
    "Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida", "Iglesias", "Navarro",
]
TIME_ZONE = zoneinfo.ZoneInfo(os.environ.get("TIME_ZONE", "Europe/Madrid"))

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CLIENT_LINK_RE = re.compile(r'href="/clients/(\d+)/"')
HAPPENED_RE = re.compile(r'name="happened_at" value="([^"]+)"')
LOGIN_PATH = "/accounts/login/"

_next_account = itertools.count()

# Every request's end time, name and duration, written to LOAD_TIMES for bench/load.sh's report:
# the pages' percentiles without the logins, and after the last login (locust's own aggregate
# counts the logins, whose password hashing is no page's time).
TIMES_PATH = os.environ.get("LOAD_TIMES", "")
_times: list[tuple[float, str, float]] = []


@events.request.add_listener
def _request_record(request_type, name, response_time, **kwargs) -> None:
    _times.append((time.time(), name, response_time))


@events.quitting.add_listener
def _times_write(**kwargs) -> None:
    if TIMES_PATH:
        with open(TIMES_PATH, "w", encoding="utf-8") as out:
            out.writelines(f"{ended:.3f}\t{name}\t{ms:.1f}\n" for ended, name, ms in _times)


class Salesperson(HttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.username = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.client_ids: list[int] = []
        self.rng = random.Random()
        self.login()
        # A first look at the portfolio gives the client ids this user may open and write on.
        self.page("/clients/?sort=-spend_12m", "clients: by spend")
        if not self.client_ids:
            raise StopUser()

    # -- helpers ---------------------------------------------------------------------------------

    def login(self) -> None:
        with self.client.get(LOGIN_PATH, name="login form", catch_response=True) as response:
            token = self._csrf(response)
            if response.status_code != 200 or not token:
                response.failure(f"login form: HTTP {response.status_code}, token {'found' if token else 'missing'}")
                raise StopUser()
        with self.client.post(
            LOGIN_PATH, name="login", allow_redirects=False, catch_response=True,
            data={"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token, "next": ""},
            headers={"Referer": f"{self.host}{LOGIN_PATH}"},
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location or LOGIN_PATH in location:
                response.failure(f"login as {self.username} did not succeed: HTTP {response.status_code} -> {location!r}")
                raise StopUser()  # never retry: a lockout would follow
            if "sessionid" not in self.client.cookies:
                response.failure("login: no session cookie")
                raise StopUser()

    def _csrf(self, response) -> str:
        match = CSRF_RE.search(response.text or "")
        return match.group(1) if match else self.client.cookies.get("csrftoken", "")

    def page(self, url: str, name: str):
        """GET a page; anything but a 200 that stayed logged in is a failure. Harvests client ids."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif LOGIN_PATH in response.url or any(LOGIN_PATH in r.headers.get("Location", "") for r in response.history):
                response.failure("redirected to the login page")
            elif url.startswith("/clients/?"):
                ids = [int(pk) for pk in CLIENT_LINK_RE.findall(response.text)]
                if ids:
                    self.client_ids = (ids + self.client_ids)[:200]
            return response

    def _some_client(self) -> int:
        return self.rng.choice(self.client_ids)

    # -- what people do --------------------------------------------------------------------------

    @task(6)
    def agenda(self) -> None:
        self.page("/agenda/", "agenda")

    @task(1)
    def agenda_month(self) -> None:
        self.page("/agenda/?view=month", "agenda: month")

    @task(3)
    def clients_dormant_by_spend(self) -> None:
        self.page("/clients/?status=dormant&sort=-spend_12m", "clients: dormant by spend")

    @task(1)
    def clients_page_n(self) -> None:
        self.page(f"/clients/?sort=-last_purchase_date&page={self.rng.randint(2, 20)}", "clients: page n")

    @task(3)
    def clients_search(self) -> None:
        self.page(f"/clients/?q={self.rng.choice(SURNAMES)}", "clients: search")

    @task(6)
    def client_detail(self) -> None:
        self.page(f"/clients/{self._some_client()}/", "client page")

    @task(2)
    def dashboard(self) -> None:
        self.page("/dashboard/", "dashboard")

    @task(1)
    def segments(self) -> None:
        self.page("/segments/", "segments")

    @task(3)
    def interaction_record(self) -> None:
        """Opens the interaction form of one of its clients and saves a call, half the time with a
        next step; the answer must be the redirect to the client's page."""
        pk = self._some_client()
        url = f"/clients/{pk}/interactions/new/"
        form = self.page(url, "interaction form")
        if form is None or form.status_code != 200:
            return
        token = self._csrf(form)
        match = HAPPENED_RE.search(form.text)
        now = dt.datetime.now(TIME_ZONE).replace(second=0, microsecond=0)
        happened_at = match.group(1) if match else now.strftime("%Y-%m-%dT%H:%M")
        data = {
            "csrfmiddlewaretoken": token,
            "kind": self.rng.choice(["call", "visit", "email", "whatsapp"]),
            "direction": "outbound",
            "happened_at": happened_at,
            "summary": f"Load test: llamada de seguimiento ({self.username}).",
            "outcome": self.rng.choice(["interested", "no_answer", "call_back", "info", "offer_sent"]),
            "needs": "", "objections": "", "competitor_notes": "",
        }
        if self.rng.random() < 0.5:
            data.update({
                "next_kind": "call", "next_date": (now.date() + dt.timedelta(days=self.rng.randint(1, 14))).isoformat(),
                "next_time": "10:00", "next_notes": "Load test: volver a llamar",
            })
        with self.client.post(
            url, data=data, name="interaction save", allow_redirects=False, catch_response=True,
            headers={"Referer": f"{self.host}{url}"},
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302:
                response.failure(f"HTTP {response.status_code} (form not saved)")
            elif location.rstrip("/").split("?")[0] != f"/clients/{pk}":
                response.failure(f"unexpected redirect to {location!r}")
