"""The morning summary e-mail of each salesperson (DOMAIN.md "Rhythm of a day").

Sent by the nightly job after the recompute: each active comercial with an e-mail address gets
their red clients, today's agenda (and how many follow-ups are overdue), the clients that turned
dormant today and the pending contracts ending within the renewal notice, in their language.
Each gerente gets the same of their own, and a red alert when one reason for leaving is given
by more than the administrador's share of their team's lost clients this month
(segmentation/leaving.py: "6 of 11 lost clients this month cite “Price”").
A salesperson with nothing in any section gets no e-mail.

Never two on one day: User.morning_summary_sent_on is set right after each send, so a run that
crashes half-way sends, when run again, only the e-mails still missing.

Queries: one for the recipients, then six per salesperson whatever the size of their portfolio:
one per listed section (reds, today's follow-ups, new dormant clients, contracts to renew), each
carrying the section's total in a COUNT(*) OVER () column so that listing at most a few rows
still tells how many there are; one aggregate for today's and overdue follow-up counts; and the
UPDATE that marks the salesperson as sent (not run when they are skipped). A gerente's alert
adds three when it is on: their teams' members and their shares (the access rule's terms), then
this month's lost clients per reason in one grouped query.
"""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Window
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.models import Role, User
from clients.models import Alert, Client, Contract, FollowUp, Status, not_in_trash, portfolio_scope
from segmentation.leaving import alert_text, month_counts, reason_alert
from segmentation.models import StatusChange
from segmentation.rules import Thresholds

logger = logging.getLogger(__name__)

MAX_REDS = 20
MAX_AGENDA = 30
MAX_DORMANT = 20
MAX_CONTRACTS = 20


@dataclass(frozen=True)
class Line:
    client: str
    url: str
    detail: str
    when: str = ""


@dataclass
class Section:
    title: str
    lines: list[Line]
    total: int
    note: str = ""
    more: int = field(init=False)

    def __post_init__(self) -> None:
        self.more = self.total - len(self.lines)


def morning_summaries_send(*, day: dt.date, thresholds: Thresholds) -> int:
    """Sends today's summary to every comercial who has not had it yet; returns how many were sent."""
    if not thresholds.morning_summary_enabled:
        return 0
    def in_group(role: str) -> Exists:
        return Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=role))

    recipients = list(
        User.objects.filter(is_active=True, groups__name__in=[Role.COMERCIAL, Role.GERENTE])
        .exclude(email="")
        .exclude(morning_summary_sent_on=day)
        .annotate(sells=in_group(Role.COMERCIAL), manages=in_group(Role.GERENTE))
        .distinct()
        .order_by("pk")
    )
    sent = 0
    with get_connection() as connection:
        for user in recipients:
            with translation.override(user.language or settings.LANGUAGE_CODE):
                message = _message(user=user, day=day, thresholds=thresholds)
            if message is None:
                continue
            message.connection = connection
            try:
                message.send()
            except Exception:  # one bad address or a hiccup must not keep the others' mail back
                logger.exception("Morning summary to user %s failed; the next run retries it", user.pk)
                continue
            User.objects.filter(pk=user.pk).update(morning_summary_sent_on=day)
            sent += 1
    return sent


def _message(*, user: User, day: dt.date, thresholds: Thresholds) -> EmailMultiAlternatives | None:
    """The e-mail in the active language, or None when there is nothing to tell."""
    links = _Links(settings.SITE_URL.rstrip("/"))
    sections = []
    if getattr(user, "manages", False):  # a gerente's alert first: the one thing in red for the whole team
        sections.append(_leaving(user, day, thresholds, links))
    sells = getattr(user, "sells", True)
    if sells:  # a gerente who does not sell gets the alert alone
        sections += [_reds(user, links), _agenda(user, day, links), _dormant(user, day, links),
                     _contracts(user, day, thresholds, links)]
    if not any(section.total or section.note for section in sections):
        return None
    context = {
        "user": user,
        "day": formats.date_format(day, "DATE_FORMAT"),
        "sections": [section for section in sections if section.total or section.note],
        "agenda_url": links.site + reverse("clients:agenda"),
    }
    if sells:
        reds, agenda = sections[-4].total, sections[-3].total
        subject = gettext("Your day in Cartera: %(reds)s, %(today)s") % {
            "reds": ngettext("%(count)d red client", "%(count)d red clients", reds) % {"count": reds},
            "today": ngettext("%(count)d follow-up today", "%(count)d follow-ups today", agenda) % {"count": agenda},
        }
    else:
        subject = gettext("Your day in Cartera: %(alert)s") % {"alert": sections[0].note}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/morning_summary.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(render_to_string("emails/morning_summary.html", context), "text/html")
    return message


@dataclass(frozen=True)
class _Links:
    """Absolute links to clients (the e-mail is read outside Cartera) and short dates."""

    site: str

    def line(self, client: Client, detail: str, when: str = "") -> Line:
        return Line(client=client.display_name, url=self.site + client.get_absolute_url(), detail=detail, when=when)

    @staticmethod
    def short(value: dt.date) -> str:
        return formats.date_format(value, "SHORT_DATE_FORMAT")


def _reds(user: User, links: _Links) -> Section:
    """The salesperson's clients in red, each with the reason (one query)."""
    reds, total = _head_and_total(
        Client.objects.not_in_trash().filter(owner=user, alert=Alert.RED).order_by("sort_name", "id"),
        MAX_REDS,
    )
    return Section(
        title=ngettext("%(count)d client in red", "%(count)d clients in red", total) % {"count": total},
        lines=[links.line(client, client.alert_text()) for client in reds],
        total=total,
    )


def _agenda(user: User, day: dt.date, links: _Links) -> Section:
    """Today's follow-ups, and how many are overdue (two queries: the counts, then the list)."""
    zone = timezone.get_default_timezone()
    day_start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    pending = FollowUp.objects.filter(assigned_to=user, status=FollowUp.State.PENDING)
    counts = pending.filter(due_at__lt=day_end).aggregate(
        today=Count("pk", filter=Q(due_at__gte=day_start)), overdue=Count("pk", filter=Q(due_at__lt=day_start))
    )
    agenda = list(
        pending.filter(due_at__gte=day_start, due_at__lt=day_end).select_related("client").order_by("due_at", "id")[:MAX_AGENDA]
    )
    today, overdue = counts["today"], counts["overdue"]
    return Section(
        title=ngettext("%(count)d follow-up today", "%(count)d follow-ups today", today) % {"count": today},
        lines=[
            links.line(f.client, f.get_kind_display(), when=formats.time_format(timezone.localtime(f.due_at, zone), "TIME_FORMAT"))
            for f in agenda
        ],
        total=today,
        note=ngettext("You also have %(count)d overdue follow-up.", "You also have %(count)d overdue follow-ups.", overdue)
        % {"count": overdue} if overdue else "",
    )


def _dormant(user: User, day: dt.date, links: _Links) -> Section:
    """The clients who turned dormant today, with their last purchase (one query)."""
    dormant, total = _head_and_total(
        StatusChange.objects.filter(not_in_trash("client__"), date=day, to_status=Status.DORMANT, client__owner=user)
        .select_related("client")
        .order_by("client__last_name", "client__first_name", "client_id"),
        MAX_DORMANT,
    )
    return Section(
        title=ngettext("%(count)d client turned dormant", "%(count)d clients turned dormant", total) % {"count": total},
        lines=[
            links.line(change.client, gettext("Last purchase on %(date)s") % {"date": links.short(change.client.last_purchase_date)}
                       if change.client.last_purchase_date else "")
            for change in dormant
        ],
        total=total,
    )


def _contracts(user: User, day: dt.date, thresholds: Thresholds, links: _Links) -> Section:
    """The pending contracts ending within the renewal notice (one query)."""
    contracts, total = _head_and_total(
        Contract.objects.renewal_due(day, thresholds.renewal_notice_days).filter(not_in_trash("client__"), client__owner=user)
        .select_related("client")
        .order_by("end_date", "id"),
        MAX_CONTRACTS,
    )
    return Section(
        title=ngettext("%(count)d contract to renew", "%(count)d contracts to renew", total) % {"count": total},
        lines=[links.line(contract.client, contract.title, when=links.short(contract.end_date)) for contract in contracts],
        total=total,
    )


def _leaving(user: User, day: dt.date, thresholds: Thresholds, links: _Links) -> Section:
    """A gerente's red alert when one reason passes the share of their team's lost clients this
    month (and the month has the minimum); an empty section otherwise (three queries, none when off)."""
    if not thresholds.leave_alert_share:
        return Section(title="", lines=[], total=0)
    clients = Client.objects.visible_in(portfolio_scope(user))
    counts = month_counts(clients=clients, today=day)
    alert = reason_alert(counts=counts, share=thresholds.leave_alert_share, minimum=thresholds.leave_alert_minimum)
    if alert is None:
        return Section(title="", lines=[], total=0)
    return Section(
        title=gettext("Why clients leave"),
        lines=[Line(client=gettext("Lost clients per reason, month by month"),
                    url=links.site + reverse("segmentation:leaving_reasons"), detail="")],
        total=1, note=alert_text(alert),
    )


def _head_and_total(queryset: QuerySet, limit: int) -> tuple[list, int]:
    """The first `limit` rows and how many there are, in one query (the window counts before LIMIT)."""
    rows = list(queryset.annotate(section_total=Window(Count("pk")))[:limit])
    return rows, rows[0].section_total if rows else 0
