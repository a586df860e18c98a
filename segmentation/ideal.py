"""The profile's writes and what follows them: the fit of every client, the figures per salesperson."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from accounts.models import User
from clients.models import Client, Status
from core.tasks import enqueue
from segmentation.ideal_fit import COLUMNS, fit_recompute
from segmentation.ideal_models import Criterion, FitSummary, IdealProfile


@transaction.atomic
def profile_save(*, by: User, threshold: int, criteria: list[tuple[str, str, int]]) -> IdealProfile:
    """Replaces the profile's criteria (attribute, value, weight) and threshold; every client's
    fit is recomputed once the change is committed (in the background with a broker)."""
    if not by.is_administrador:
        raise PermissionDenied
    profile = IdealProfile.current()
    profile.threshold, profile.updated_by, profile.updated_at = threshold, by, timezone.now()
    profile.full_clean()
    profile.save()
    Criterion.objects.all().delete()
    rows = [Criterion(attribute=attribute, value=value, weight=weight) for attribute, value, weight in criteria]
    for row in rows:
        row.full_clean(validate_unique=False, validate_constraints=False)
    Criterion.objects.bulk_create(rows)
    transaction.on_commit(lambda: enqueue("segmentation.tasks.ideal_fit_recompute"))
    return profile


def fit_refresh_all() -> dict:
    """Every client's fit (only the changed rows are written), then the figures per salesperson."""
    with transaction.atomic():
        changed = fit_recompute()
        summaries = summaries_take()
    return {"icp_fit_changed": changed, "icp_summaries": summaries}


def fit_refresh_clients(client_ids: list[int]) -> int:
    """The fit of a few clients after their record changed (two queries: the criteria, the UPDATE)."""
    return fit_recompute(client_ids=list(client_ids))


# What the criteria read of a client's own data (segmentation/ideal_fit.py): an edit of anything else keeps the fit.
FIT_FIELDS = frozenset({*COLUMNS.values(), "company_name", "interests"})


def fit_refresh_after_edit(client_id: int, fields) -> int:
    """The client's fit after an edit of `fields`, when one of them is read by the criteria."""
    return fit_refresh_clients([client_id]) if FIT_FIELDS.intersection(fields) else 0


def _fits(threshold: int) -> Q:
    return Q(icp_fit__gte=threshold)


def probable_rule(threshold: int) -> Q:
    """A prospect that fits the profile and has shown no interest (nor been qualified yet)."""
    return _fits(threshold) & Q(status=Status.PROSPECT, prospect_qualification="")


def is_probable_suggestion(client: Client, profile: IdealProfile) -> bool:
    """Whether the client page suggests qualifying `client` as probable (the same rule as probable_rule)."""
    return (
        profile.pk is not None and client.icp_fit is not None and client.icp_fit >= profile.threshold
        and client.status == Status.PROSPECT and not client.prospect_qualification
    )


def summaries_take() -> int:
    """Rewrites the figures per salesperson in one grouped query (none while no profile is defined)."""
    FitSummary.objects.all().delete()
    profile = IdealProfile.objects.filter(pk=1).first()
    if profile is None or not Criterion.objects.exists():
        return 0
    threshold, now = profile.threshold, timezone.now()
    rows = (
        Client.objects.not_in_trash().values_list("owner_id")
        .annotate(
            clients=Count("pk"), fitting=Count("pk", filter=_fits(threshold)), revenue=Sum("spend_12m"),
            fitting_revenue=Sum("spend_12m", filter=_fits(threshold)),
            probable=Count("pk", filter=probable_rule(threshold)),
        ).order_by()
    )
    summaries = [
        FitSummary(
            owner_id=owner_id, clients=clients, fitting=fitting, revenue=revenue or 0,
            fitting_revenue=fitting_revenue or 0, probable=probable, threshold=threshold, computed_at=now,
        )
        for owner_id, clients, fitting, revenue, fitting_revenue, probable in rows
    ]
    FitSummary.objects.bulk_create(summaries)
    return len(summaries)


@dataclass(frozen=True)
class DashboardFit:
    """The dashboard's card: clients that fit and their share of the 12-month revenue."""

    clients: int
    fitting: int
    revenue: Decimal
    fitting_revenue: Decimal
    probable: int
    threshold: int
    computed_at: object

    @property
    def share(self) -> float:
        return round(float(self.fitting_revenue * 100 / self.revenue), 1) if self.revenue else 0.0

    @property
    def fitting_pct(self) -> float:
        return round(self.fitting * 100 / self.clients, 1) if self.clients else 0.0


def dashboard_fit(*, owner_ids: list[int] | None) -> DashboardFit | None:
    """The figures of the salespeople `owner_ids` (None: everyone's), from the last full
    recompute (one query); None while no profile is defined."""
    summaries = FitSummary.objects.all() if owner_ids is None else FitSummary.objects.filter(owner_id__in=owner_ids)
    totals = summaries.aggregate(
        clients=Sum("clients"), fitting=Sum("fitting"), revenue=Sum("revenue"), fitting_revenue=Sum("fitting_revenue"),
        probable=Sum("probable"), threshold=Max("threshold"), computed_at=Max("computed_at"), rows=Count("pk"),
    )
    if not totals["rows"]:
        return None
    return DashboardFit(
        clients=totals["clients"], fitting=totals["fitting"], revenue=totals["revenue"] or Decimal("0"),
        fitting_revenue=totals["fitting_revenue"] or Decimal("0"), probable=totals["probable"],
        threshold=totals["threshold"], computed_at=totals["computed_at"],
    )

