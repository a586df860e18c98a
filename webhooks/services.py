"""Webhooks: the endpoints, the events they receive and each delivery's attempts.

Where deliveries come from:
* per-row events (a purchase recorded, a survey answered): the service that makes the change emits
  it (core.events); `_row_event` writes one pending delivery per subscribed endpoint inside that
  transaction and queues their sending after the commit. A rolled-back write leaves nothing.
* set-based events (status changes, clients turning red, contracts entering the renewal notice):
  the night changes them for many clients at once, so they are not emitted row by row. `scan`
  reads, after the night and on a beat schedule, what changed since it last looked, and writes the
  deliveries with one INSERT … SELECT per kind: the status changes after a cursor (the last
  StatusChange id announced); the clients in red and the contracts in the notice window that carry
  no mark yet (ScanMark, dropped when they leave the set, so a second time is announced again).
  A kind nobody subscribes to costs nothing: no marks, no cursor; the first scan with a subscriber
  starts from what is there without announcing the past.

Sending: `delivery_attempt` claims a due delivery with a conditional UPDATE (two workers never send
one twice), posts it signed (webhooks.transport), and records the answer. A 2xx delivers it; anything
else (an error, a timeout, a 3xx: redirects are not followed) is retried after 1, 5, 25, 125 and
625 minutes, then the delivery has failed. An endpoint that fails PAUSE_AFTER attempts in a row is
paused (its new events are no longer written) and the administradores get an e-mail; resuming
sends what waited.
"""

import datetime as dt
import json
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Role, User
from clients.models import Alert, Client, Contract
from core import events
from core.sql import is_postgres, queryset_sql
from core.tasks import enqueue
from segmentation.models import StatusChange
from segmentation.services import current_thresholds
from webhooks import transport
from webhooks.models import TEST_EVENT, Delivery, Endpoint, Event, ScanMark, ScanState

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6  # the first and five retries
PAUSE_AFTER = 10  # failed attempts in a row (any of its deliveries) before an endpoint is paused
CLAIM = dt.timedelta(minutes=2)  # an attempt under way: longer than its timeouts
SEND_BATCH = 200  # deliveries a sending task takes before it queues the next one
RESPONSES_KEPT = 10
KEEP_DAYS = 30  # a delivery's record, once delivered or failed (beat entry "Webhooks: forget old deliveries")
SUBSCRIBERS_KEY = "webhooks:subscribers"
SUBSCRIBERS_SECONDS = 60  # how long another process may miss a change of endpoints (invalidated on change)

# The set-based kinds and the event each announces.
STATUS, RED, RENEWAL = "status", "red", "renewal"
SCANNED = {STATUS: events.CLIENT_STATUS_CHANGED, RED: events.CLIENT_TURNED_RED, RENEWAL: events.CONTRACT_RENEWAL_DUE}
ROW_EVENTS = (events.PURCHASE_RECORDED, events.SURVEY_ANSWERED)


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next attempt after `attempts` failed ones: 1, 5, 25, 125, 625 minutes."""
    return dt.timedelta(minutes=5 ** (attempts - 1))


# --- Who listens --------------------------------------------------------------------------------

def _subscribers_read() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for pk, codes in Endpoint.objects.filter(state=Endpoint.State.ACTIVE).values_list("pk", "events"):
        for code in codes:
            found.setdefault(code, []).append(pk)
    return found


def subscribers() -> dict[str, list[int]]:
    """The active endpoints of each event, from the cache: a write's emit costs no query when no
    endpoint listens. A hint only: the deliveries are written from the endpoints table itself."""
    found = cache.get(SUBSCRIBERS_KEY)
    if found is None:
        found = _subscribers_read()
        cache.set(SUBSCRIBERS_KEY, found, SUBSCRIBERS_SECONDS)
    return found


def _subscribers_changed() -> None:
    cache.delete(SUBSCRIBERS_KEY)
    transaction.on_commit(lambda: cache.delete(SUBSCRIBERS_KEY))


def _row_event(name: str, items: list[dict]) -> None:
    """A per-row event (or the same event for the rows of a bulk write): a pending delivery for each
    row and active subscriber, written in one statement, sent after the commit."""
    if not subscribers().get(name):
        return
    now = timezone.now()
    targets = [pk for pk, codes in Endpoint.objects.filter(state=Endpoint.State.ACTIVE).values_list("pk", "events")
               if name in codes]
    if not targets:
        return
    payloads = json.loads(json.dumps(items, cls=DjangoJSONEncoder))
    created = Delivery.objects.bulk_create(
        [Delivery(endpoint_id=pk, event=name, payload=payload, created_at=now, next_attempt_at=now)
         for payload in payloads for pk in targets],
        batch_size=1000,
    )
    if len(created) <= SEND_BATCH:
        ids = [delivery.pk for delivery in created]
        transaction.on_commit(lambda: enqueue("webhooks.tasks.deliveries_send", ids))
    else:  # a bulk write: the batches of the due deliveries' task
        transaction.on_commit(lambda: enqueue("webhooks.tasks.deliveries_send_due"))


def _changed_in_bulk(name: str, items: list[dict]) -> None:
    """The night is done, or a write changed a status: scan (after the commit) if anyone listens."""
    kinds = [STATUS] if name == events.STATUS_CHANGED else list(SCANNED)
    listened = subscribers()
    kinds = [kind for kind in kinds if listened.get(SCANNED[kind])]
    if kinds:
        transaction.on_commit(lambda: enqueue("webhooks.tasks.webhooks_scan", kinds))


def events_connect() -> None:
    """Called by WebhooksConfig.ready."""
    for name in ROW_EVENTS:
        events.connect(name, _row_event, many=True)
    events.connect(events.NIGHTLY_DONE, _changed_in_bulk, many=True)
    events.connect(events.STATUS_CHANGED, _changed_in_bulk, many=True)


# --- The set-based scan -------------------------------------------------------------------------

def _json_object(pairs: list[tuple[str, str]]) -> str:
    function = "jsonb_build_object" if is_postgres() else "json_object"
    arguments = ", ".join(f"'{key}', {value}" for key, value in pairs)
    return f"{function}({arguments})"


def _insert_deliveries(cursor, *, event: str, payload: str, source: str, where: str, endpoint_ids: list[int],
                       now: dt.datetime, params: dict) -> int:
    """One pending delivery per row of `source` (aliased r) and subscribed endpoint, in one statement."""
    names = []
    for index, pk in enumerate(endpoint_ids):
        params[f"endpoint{index}"] = pk
        names.append(f"%(endpoint{index})s")
    params.update(event=event, now=connection.ops.adapt_datetimefield_value(now), pending=Delivery.State.PENDING,
                  active=Endpoint.State.ACTIVE)
    cursor.execute(
        f"""INSERT INTO {Delivery._meta.db_table}
                (endpoint_id, event, payload, created_at, state, attempts, next_attempt_at, last_error, responses)
            SELECT e.id, %(event)s, {payload}, %(now)s, %(pending)s, 0, %(now)s, '', '[]'
            FROM {source} CROSS JOIN {Endpoint._meta.db_table} e
            WHERE e.id IN ({", ".join(names)}) AND e.state = %(active)s AND ({where})
            ORDER BY r.id, e.id""",  # noqa: S608 - table names and built SQL; values are parameters
        params,
    )
    return cursor.rowcount


def _kind_reset(kind: str) -> None:
    """Nobody listens: no cursor, no marks (the next subscriber starts from then)."""
    ScanState.objects.filter(kind=kind).delete()
    if kind != STATUS:
        ScanMark.objects.filter(kind=kind).delete()


def _status_lock(cursor) -> bool:
    """On PostgreSQL, waits (briefly) for the transactions still inserting status changes: ids are
    taken before the commit, so a change committed after a higher one would fall behind the cursor.
    SHARE mode lets readers through and holds new inserts for the few milliseconds of the scan.
    False: a long transaction (the night's lifecycle) still writes; the next scan gets them."""
    if not is_postgres():
        return True  # SQLite commits one writer at a time: ids are in commit order
    cursor.execute("SET LOCAL lock_timeout = '500ms'")
    try:
        with transaction.atomic():
            cursor.execute(f"LOCK TABLE {StatusChange._meta.db_table} IN SHARE MODE")
    except OperationalError as error:  # psycopg's LockNotAvailable
        logger.info("Webhook scan of status changes postponed: %s", error)
        return False
    return True


def _status_scan(endpoint_ids: list[int], now: dt.datetime) -> int:
    """The status changes after the cursor, one delivery per change and endpoint."""
    with connection.cursor() as cursor:
        if not _status_lock(cursor):
            return 0
        last = StatusChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ScanState.objects.bulk_create([ScanState(kind=STATUS, value=last)], ignore_conflicts=True)
        after = ScanState.objects.select_for_update().get(kind=STATUS).value
        if last <= after:
            return 0
        payload = _json_object([
            ("status_change_id", "r.id"), ("client", _json_object([("id", "c.id"), ("ref", "c.client_ref")])),
            ("from_status", "r.from_status"), ("to_status", "r.to_status"), ("date", "r.date"), ("cause", "r.cause"),
        ])
        params = {"after": after, "last": last}
        source = f"{StatusChange._meta.db_table} r JOIN {Client._meta.db_table} c ON c.id = r.client_id"
        created = _insert_deliveries(cursor, event=SCANNED[STATUS], payload=payload, source=source,
                                     where="r.id > %(after)s AND r.id <= %(last)s", endpoint_ids=endpoint_ids,
                                     now=now, params=params)
    ScanState.objects.filter(kind=STATUS).update(value=last)
    return created


SCAN_TABLE = "webhooks_scan_current"


def _marked_scan(kind: str, rows, payload_pairs: list[tuple[str, str]], endpoint_ids: list[int], now: dt.datetime) -> int:
    """The rows of the `rows` queryset (an `id` column) without a mark: a delivery each (unless
    this is the first scan, which only marks), then the marks follow the set. The set is read once
    into a temporary table (the reds are a scan of the clients table)."""
    seeded = ScanState.objects.filter(kind=kind).exists()
    mark = ScanMark._meta.db_table
    params: dict = {"kind": kind}
    current = queryset_sql(rows.order_by(), params, "rows")
    unmarked = f"NOT EXISTS (SELECT 1 FROM {mark} m WHERE m.kind = %(kind)s AND m.object_id = r.id)"  # noqa: S608
    created = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {SCAN_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {SCAN_TABLE} AS {current}", params)
        if seeded:
            created = _insert_deliveries(cursor, event=SCANNED[kind], payload=_json_object(payload_pairs),
                                         source=f"{SCAN_TABLE} r", where=unmarked, endpoint_ids=endpoint_ids,
                                         now=now, params=params)
        cursor.execute(
            f"DELETE FROM {mark} WHERE kind = %(kind)s AND object_id NOT IN (SELECT r.id FROM {SCAN_TABLE} r)",  # noqa: S608
            params,
        )
        cursor.execute(
            f"INSERT INTO {mark} (kind, object_id) SELECT %(kind)s, r.id FROM {SCAN_TABLE} r WHERE {unmarked}",  # noqa: S608
            params,
        )
        cursor.execute(f"DROP TABLE {SCAN_TABLE}")
    if not seeded:
        ScanState.objects.bulk_create([ScanState(kind=kind)], ignore_conflicts=True)
    return created


def _red_scan(endpoint_ids: list[int], now: dt.datetime) -> int:
    reds = Client.objects.not_in_trash().filter(alert=Alert.RED).values("id", "client_ref", "alert_reason", "alert_value")
    return _marked_scan(RED, reds, [
        ("client", _json_object([("id", "r.id"), ("ref", "r.client_ref")])), ("reason", "r.alert_reason"),
        ("reason_value", "r.alert_value"),
    ], endpoint_ids, now)


def _renewal_scan(endpoint_ids: list[int], now: dt.datetime) -> int:
    thresholds = current_thresholds()
    due = Contract.objects.renewal_due(timezone.localdate(now), thresholds.renewal_notice_days).filter(
        client__deleted_at__isnull=True,
    ).annotate(client_ref=F("client__client_ref")).values("id", "client_id", "client_ref", "title", "end_date")
    return _marked_scan(RENEWAL, due, [
        ("contract", _json_object([("id", "r.id"), ("title", "r.title"), ("end_date", "r.end_date")])),
        ("client", _json_object([("id", "r.client_id"), ("ref", "r.client_ref")])),
        ("notice_days", str(int(thresholds.renewal_notice_days))),
    ], endpoint_ids, now)


SCANNERS = {STATUS: _status_scan, RED: _red_scan, RENEWAL: _renewal_scan}


def scan(*, kinds: list[str] | None = None, now: dt.datetime | None = None) -> dict[str, int]:
    """Writes the deliveries of what changed since the last scan; the number written per kind.
    Idempotent: a second run right after writes nothing."""
    now = now or timezone.now()
    listened = _subscribers_read()
    written = {}
    for kind in kinds or list(SCANNED):
        endpoint_ids = listened.get(SCANNED[kind], [])
        with transaction.atomic():
            if not endpoint_ids:
                _kind_reset(kind)
                written[kind] = 0
                continue
            written[kind] = SCANNERS[kind](endpoint_ids, now)
    if any(written.values()):
        transaction.on_commit(lambda: enqueue("webhooks.tasks.deliveries_send_due"))
    return written


# --- Sending ------------------------------------------------------------------------------------

def delivery_body(delivery: Delivery) -> bytes:
    """The JSON sent, the same bytes at every attempt."""
    envelope = {
        "id": delivery.pk, "event": delivery.event, "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def deliveries_due(*, now: dt.datetime | None = None, limit: int | None = None) -> list[int]:
    now, limit = now or timezone.now(), limit or SEND_BATCH
    return list(
        Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now, endpoint__state=Endpoint.State.ACTIVE)
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """One attempt of a due delivery; None when it is not due (sent, claimed by another worker,
    not yet time, or its endpoint paused meanwhile)."""
    now = timezone.now()
    due = Delivery.objects.filter(pk=delivery_id, state=Delivery.State.PENDING, next_attempt_at__lte=now)
    if not due.update(next_attempt_at=now + CLAIM):
        return None
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.event != TEST_EVENT:
        return None  # waits for the resume, which makes it due again
    body = delivery_body(delivery)
    headers = {
        transport.SIGNATURE_HEADER: transport.signature(endpoint.secret, body, int(now.timestamp())),
        "Cartera-Event": delivery.event, "Cartera-Delivery": str(delivery.pk),
    }
    outcome = transport.post(endpoint.url, body, headers)
    logger.info("Webhook delivery %s (%s) to endpoint %s, attempt %s: %s %s", delivery.pk, delivery.event,
                endpoint.pk, delivery.attempts + 1, outcome.status, outcome.error)
    return _attempt_record(delivery, outcome, at=timezone.now())


@transaction.atomic
def _attempt_record(delivery: Delivery, outcome: transport.Outcome, *, at: dt.datetime) -> Delivery:
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = outcome.status, outcome.error[:300]
    delivery.responses = [*delivery.responses, {
        "at": at.isoformat(), "code": outcome.status, "error": outcome.error[:300], "ms": outcome.milliseconds,
    }][-RESPONSES_KEPT:]
    test = delivery.event == TEST_EVENT
    if outcome.ok:
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = Delivery.State.DELIVERED, at, None
    elif test or delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, None
    else:
        delivery.next_attempt_at = at + backoff(delivery.attempts)
    delivery.save(update_fields=[
        "attempts", "last_status_code", "last_error", "responses", "state", "delivered_at", "next_attempt_at",
    ])
    if test:  # a test says how the endpoint answers; it does not count towards pausing it
        return delivery
    endpoints = Endpoint.objects.filter(pk=delivery.endpoint_id)
    if outcome.ok:
        endpoints.exclude(consecutive_failures=0).update(consecutive_failures=0)
        return delivery
    endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    if endpoints.filter(state=Endpoint.State.ACTIVE, consecutive_failures__gte=PAUSE_AFTER).update(
        state=Endpoint.State.PAUSED, paused_reason=Endpoint.PausedReason.FAILING, paused_at=at,
    ):
        _subscribers_changed()
        endpoint_id = delivery.endpoint_id
        logger.warning("Webhook endpoint %s paused after %s failed attempts in a row", endpoint_id, PAUSE_AFTER)
        transaction.on_commit(lambda: enqueue("webhooks.tasks.endpoint_paused_notify", endpoint_id))
    return delivery


def endpoint_paused_notify(*, endpoint_id: int) -> int:
    """Tells every active administrador with an e-mail address, in their language; how many."""
    endpoint = Endpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.is_active:
        return 0
    admins = User.objects.filter(
        Q(groups__name=Role.ADMINISTRADOR) | Q(is_superuser=True), is_active=True,
    ).exclude(email="").distinct().order_by("pk")
    link = settings.SITE_URL.rstrip("/") + reverse("webhooks:endpoint_edit", args=[endpoint.pk])
    sent = 0
    for user in admins:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = gettext("Cartera paused a webhook endpoint: %(url)s") % {"url": endpoint.url}
            body = render_to_string("emails/webhook_paused.txt", {
                "user": user, "endpoint": endpoint, "link": link, "failures": endpoint.consecutive_failures,
            })
        send_mail(subject, body, None, [user.email])
        sent += 1
    return sent


def deliveries_purge(*, days: int = KEEP_DAYS, now: dt.datetime | None = None) -> int:
    """Forgets the deliveries delivered or failed more than `days` ago (the pending ones stay)."""
    before = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _by_model = Delivery.objects.filter(
        state__in=[Delivery.State.DELIVERED, Delivery.State.FAILED], created_at__lt=before,
    ).delete()
    return deleted


# --- The administrador's changes ----------------------------------------------------------------

def _scan_soon() -> None:
    """A new subscription starts its cursor or marks now, not at the next beat."""
    transaction.on_commit(lambda: enqueue("webhooks.tasks.webhooks_scan", None))


@transaction.atomic
def endpoint_create(*, by: User, url: str, events: list[str], description: str = "") -> Endpoint:
    endpoint = Endpoint.objects.create(url=url, events=_events_clean(events), description=description, created_by=by)
    _subscribers_changed()
    _scan_soon()
    return endpoint


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, url: str, events: list[str], description: str = "") -> Endpoint:
    endpoint.url, endpoint.events, endpoint.description = url, _events_clean(events), description
    endpoint.save(update_fields=["url", "events", "description"])
    _subscribers_changed()
    _scan_soon()
    return endpoint


def _events_clean(codes: list[str]) -> list[str]:
    return [code for code in Event.values if code in set(codes)]


@transaction.atomic
def endpoint_pause(*, endpoint: Endpoint) -> bool:
    changed = Endpoint.objects.filter(pk=endpoint.pk, state=Endpoint.State.ACTIVE).update(
        state=Endpoint.State.PAUSED, paused_reason=Endpoint.PausedReason.BY_HAND, paused_at=timezone.now(),
    )
    _subscribers_changed()
    return bool(changed)


@transaction.atomic
def endpoint_resume(*, endpoint: Endpoint) -> bool:
    """Active again, its count of failures cleared, what waited sent now."""
    now = timezone.now()
    changed = Endpoint.objects.filter(pk=endpoint.pk, state=Endpoint.State.PAUSED).update(
        state=Endpoint.State.ACTIVE, paused_reason="", paused_at=None, consecutive_failures=0,
    )
    if changed:
        Delivery.objects.filter(endpoint=endpoint, state=Delivery.State.PENDING).update(next_attempt_at=now)
        _subscribers_changed()
        _scan_soon()
        transaction.on_commit(lambda: enqueue("webhooks.tasks.deliveries_send_due"))
    return bool(changed)


@transaction.atomic
def endpoint_delete(*, endpoint: Endpoint) -> None:
    endpoint.delete()
    _subscribers_changed()


@transaction.atomic
def endpoint_test_send(*, endpoint: Endpoint, by: User) -> Delivery:
    """A test event to the endpoint, paused or not: one attempt, which does not count towards pausing."""
    now = timezone.now()
    delivery = Delivery.objects.create(
        endpoint=endpoint, event=TEST_EVENT, created_at=now, next_attempt_at=now,
        payload={"message": "Test event from Cartera", "sent_by": by.get_username()},
    )
    transaction.on_commit(lambda: enqueue("webhooks.tasks.deliveries_send", [delivery.pk]))
    return delivery
