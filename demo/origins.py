"""Where the demo's clients came from, who referred whom, and a year of status changes, so that the
sources page, the best referrers, a referrer's page and the dashboard's flows show something on a
fresh `make demo`.

Set-based, one statement each, whatever the number of clients:
* source details: the words behind a campaign, web, event or networking source (by id);
* referrals: each salesperson's clients who came by referral were brought by one of that
  salesperson's six biggest spenders who bought before them (the first three bring more);
* status changes over the last year, read from each client's purchases by the lifecycle rule
  (DOMAIN.md) with the current thresholds: prospecto → alta at the first purchase, alta → activo
  when the alta window ends, activo → dormido and dormido → baja after a gap without purchases,
  back to activo at the purchase that ends a gap, baja at a closing date. The demo's load leaves
  the nightly engine none (a load is not a history), and the flows are what managers read.
"""

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from clients.models import NOT_IN_TRASH_SQL, Client, Purchase, Status
from core.sql import add_days, date_param, date_value
from segmentation.models import StatusChange
from segmentation.services import current_thresholds

HISTORY_DAYS = 365
REFERRERS = 6  # per salesperson: their biggest spenders

DETAILS = {  # by source, two of each, chosen by the client's id
    Client.Source.CAMPAIGN: ("Campaña de primavera", "Promoción Black Friday"),
    Client.Source.WEB: ("Formulario de contacto", "Tienda online"),
    Client.Source.EVENT: ("Feria Expohogar", "Congreso del sector"),
    Client.Source.NETWORKING: ("Cámara de comercio", "Asociación de empresarios"),
}


@transaction.atomic
def origins_seed(*, today: dt.date | None = None) -> dict[str, int]:
    """Writes the details, the referrals and the status history; returns how many of each."""
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        details = _details_write(cursor)
        referrals = _referrals_write(cursor)
        changes = _status_changes_write(cursor, today)
    return {"details": details, "referrals": referrals, "status_changes": changes}


def _details_write(cursor) -> int:
    branches, params = [], []
    for source, (even, odd) in DETAILS.items():
        branches.append("WHEN source = %s AND id %% 2 = 0 THEN %s WHEN source = %s THEN %s")
        params += [source, even, source, odd]
    sources = ", ".join(["%s"] * len(DETAILS))
    cursor.execute(
        f"UPDATE {Client._meta.db_table} SET source_detail = CASE {' '.join(branches)} ELSE source_detail END"  # noqa: S608
        f" WHERE source IN ({sources}) AND source_detail = ''",
        [*params, *DETAILS],
    )
    return cursor.rowcount


def _referrals_write(cursor) -> int:
    clients = Client._meta.db_table
    cursor.execute(
        f"UPDATE {clients} AS c SET referred_by_id = m.referrer FROM ("  # noqa: S608
        "  SELECT referred.id, candidate.id AS referrer FROM ("
        "   SELECT id, owner_id, first_purchase_date, ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY id) AS rk"
        f"   FROM {clients} WHERE source = %s AND {NOT_IN_TRASH_SQL}) referred"
        "  JOIN ("
        "   SELECT id, owner_id, first_purchase_date,"
        "    ROW_NUMBER() OVER (PARTITION BY owner_id ORDER BY total_spent DESC, id) AS rk"
        f"   FROM {clients} WHERE first_purchase_date IS NOT NULL AND {NOT_IN_TRASH_SQL}) candidate"
        "  ON candidate.owner_id = referred.owner_id AND candidate.rk = 1 + (referred.rk %% 15) %% %s"
        "  WHERE candidate.id <> referred.id"
        "  AND (referred.first_purchase_date IS NULL OR candidate.first_purchase_date < referred.first_purchase_date)"
        ") m WHERE m.id = c.id AND c.referred_by_id IS NULL",
        [Client.Source.REFERRAL, REFERRERS],
    )
    return cursor.rowcount


def _status_changes_write(cursor, today: dt.date) -> int:
    """One INSERT … SELECT of every change dated in the last HISTORY_DAYS days (see the module)."""
    thresholds = current_thresholds()
    clients, purchases, changes = Client._meta.db_table, Purchase._meta.db_table, StatusChange._meta.db_table
    active_after, dormant_after, lost_after = (
        thresholds.alta_window_days + 1, thresholds.dormido_after_days + 1, thresholds.baja_after_days + 1,
    )
    cause = StatusChange.Cause
    # Each client's distinct purchase days, each with the one before (NULL for the first).
    days = (
        "SELECT client_id, date, LAG(date) OVER (PARTITION BY client_id ORDER BY date) AS prev"  # noqa: S608
        f" FROM (SELECT DISTINCT client_id, date FROM {purchases}) d"
    )
    # A closed client (no purchase after its closing) leaves at its closing date instead.
    open_client = "(c.closed_at IS NULL OR c.closed_at < c.last_purchase_date)"
    parts = [
        # The first purchase: prospecto → alta; the window's end: alta → activo.
        (f"SELECT c.id AS client_id, %(prospect)s AS from_status, %(new)s AS to_status, c.first_purchase_date AS day,"  # noqa: S608
         f" %(purchase)s AS cause FROM {clients} c"
         " WHERE c.first_purchase_date IS NOT NULL"),
        (f"SELECT c.id, %(new)s, %(active)s, {add_days('c.first_purchase_date', str(active_after))}, %(recompute)s"  # noqa: S608
         f" FROM {clients} c WHERE c.first_purchase_date IS NOT NULL AND ({open_client}"
         f" OR c.closed_at > {add_days('c.first_purchase_date', str(active_after))})"),
        # A gap between two purchases: dormido (and baja) on the way, activo again at the purchase.
        (f"SELECT g.client_id, %(active)s, %(dormant)s, {add_days('g.prev', str(dormant_after))}, %(recompute)s"  # noqa: S608
         f" FROM ({days}) g WHERE g.prev IS NOT NULL AND g.date > {add_days('g.prev', str(dormant_after - 1))}"),
        (f"SELECT g.client_id, %(dormant)s, %(lost)s, {add_days('g.prev', str(lost_after))}, %(recompute)s"  # noqa: S608
         f" FROM ({days}) g WHERE g.prev IS NOT NULL AND g.date > {add_days('g.prev', str(lost_after - 1))}"),
        (f"SELECT g.client_id, CASE WHEN g.date > {add_days('g.prev', str(lost_after - 1))} THEN %(lost)s"  # noqa: S608
         f" ELSE %(dormant)s END, %(active)s, g.date, %(purchase)s"
         f" FROM ({days}) g WHERE g.prev IS NOT NULL AND g.date > {add_days('g.prev', str(dormant_after - 1))}"),
        # After the last purchase, while no other came.
        (f"SELECT c.id, %(active)s, %(dormant)s, {add_days('c.last_purchase_date', str(dormant_after))}, %(recompute)s"  # noqa: S608
         f" FROM {clients} c WHERE c.last_purchase_date IS NOT NULL AND ({open_client}"
         f" OR c.closed_at > {add_days('c.last_purchase_date', str(dormant_after - 1))})"),
        (f"SELECT c.id, %(dormant)s, %(lost)s, {add_days('c.last_purchase_date', str(lost_after))}, %(recompute)s"  # noqa: S608
         f" FROM {clients} c WHERE c.last_purchase_date IS NOT NULL AND {open_client}"),
        # Closed on purpose.
        (f"SELECT c.id, CASE WHEN c.closed_at > {add_days('c.last_purchase_date', str(dormant_after - 1))}"  # noqa: S608
         " THEN %(dormant)s ELSE %(active)s END, %(lost)s, c.closed_at, %(closure)s"
         f" FROM {clients} c WHERE c.closed_at IS NOT NULL AND c.last_purchase_date IS NOT NULL AND NOT {open_client}"),
    ]
    params = {
        "prospect": Status.PROSPECT, "new": Status.NEW, "active": Status.ACTIVE, "dormant": Status.DORMANT,
        "lost": Status.LOST, "purchase": cause.PURCHASE, "recompute": cause.RECOMPUTE, "closure": cause.CLOSURE,
        "since": date_value(today - dt.timedelta(days=HISTORY_DAYS - 1)), "today": date_value(today),
        "now": timezone.now(),
    }
    union = " UNION ALL ".join(parts)
    cursor.execute(
        f"INSERT INTO {changes} (client_id, from_status, to_status, date, cause, created_at)"  # noqa: S608
        f" SELECT h.client_id, h.from_status, h.to_status, h.day, h.cause, %(now)s"
        f" FROM ({union}) h"
        f" JOIN {clients} k ON k.id = h.client_id AND k.{NOT_IN_TRASH_SQL}"
        f" WHERE h.day >= {date_param('since')} AND h.day <= {date_param('today')}",
        params,
    )
    return cursor.rowcount
