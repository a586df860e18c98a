"""The lifecycle rule of DOMAIN.md "Lifecycle status", for one client, in plain Python.

The nightly engine (segmentation/engine.py) applies the same rule in SQL to every client at
once; this module is the reference it is tested against and what a single client's refresh uses.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from clients.models import Status


@dataclass(frozen=True)
class Thresholds:
    alta_window_days: int = 30
    dormido_after_days: int = 90
    baja_after_days: int = 365
    # Volume tiers: ratios of a client's 12-month spend to the mean over clients who spent.
    tier_very_high: Decimal = Decimal("2.0")
    tier_high: Decimal = Decimal("1.2")
    tier_medium: Decimal = Decimal("0.6")
    # Frequency classes: the median gap in days between distinct purchase dates.
    frequent_max_days: int = 30
    habitual_max_days: int = 90
    # Colour alerts (segmentation/alerts.py), in days.
    valuable_dormant_days: int = 7
    renewal_notice_days: int = 30
    due_soon_days: int = 2
    awaiting_limit_days: int = 7
    contact_cadence_days: int = 45
    valuable_dormant_enabled: bool = True
    # Automatic follow-ups (segmentation/automation.py): each rule switchable, with its day count.
    auto_reactivation_enabled: bool = True
    reactivation_due_days: int = 2
    auto_renewal_enabled: bool = True
    renewal_call_days: int = 30
    auto_welcome_enabled: bool = True
    welcome_after_days: int = 7
    morning_summary_enabled: bool = True
    # The gerente's alert when one reason for leaving passes this share (%) of the month's bajas,
    # from this many bajas in the month (segmentation/leaving.py); a share of 0 turns it off.
    leave_alert_share: int = 40
    leave_alert_minimum: int = 5


def status_for(
    *, as_of: dt.date, first_purchase: dt.date | None, last_purchase: dt.date | None,
    closed_at: dt.date | None, thresholds: Thresholds,
) -> str:
    if closed_at is not None and (last_purchase is None or last_purchase <= closed_at):
        return Status.LOST
    if last_purchase is None:
        return Status.PROSPECT
    days_since_last = (as_of - last_purchase).days
    if days_since_last > thresholds.baja_after_days:
        return Status.LOST
    if days_since_last > thresholds.dormido_after_days:
        return Status.DORMANT
    if (as_of - first_purchase).days <= thresholds.alta_window_days:
        return Status.NEW
    return Status.ACTIVE


def status_since_for(
    *, status: str, previous: str, as_of: dt.date, first_purchase: dt.date | None,
    last_purchase: dt.date | None, closed_at: dt.date | None, thresholds: Thresholds,
) -> dt.date:
    """The day `status`, found on `as_of` in place of `previous`, began, as the dates tell.

    A nightly run finds each change on its day, and then this is `as_of`. A first run, an
    import or new thresholds find changes late: a client silent for two years has been lost
    since the day after `baja_after_days`, not since the run. Mirrored in SQL by
    segmentation.engine (the UPDATE of status_since).
    """
    if status == Status.LOST:
        closed = closed_at is not None and (last_purchase is None or last_purchase <= closed_at)
        since = closed_at if closed else last_purchase + dt.timedelta(days=thresholds.baja_after_days + 1)
    elif status == Status.DORMANT:
        since = last_purchase + dt.timedelta(days=thresholds.dormido_after_days + 1)
    elif status == Status.NEW:
        since = first_purchase
    elif status == Status.ACTIVE and previous in (Status.DORMANT, Status.LOST):
        since = last_purchase  # the purchase that brought them back
    elif status == Status.ACTIVE:
        since = first_purchase + dt.timedelta(days=thresholds.alta_window_days + 1)
    else:
        since = as_of
    return min(since, as_of)
