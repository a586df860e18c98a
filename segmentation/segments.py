"""Saved segments: the client list's filters under a name, evaluated live for whoever opens them."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, QuerySet, Sum, Value
from django.http import QueryDict
from django.utils.translation import gettext as _

from accounts.models import User
from clients.filters import ClientFilter
from clients.models import Client
from segmentation.dashboard import Cell
from segmentation.models import Segment

NOT_FILTERS = {"page", "sort", "per_page"}


def _filter_names() -> set[str]:
    """The list's filter parameters, with the suffixes of range widgets (last_purchase_after…)."""
    names = set()
    for name, declared in ClientFilter.base_filters.items():
        names.add(name)
        widget = declared.field_class.widget if hasattr(declared.field_class, "widget") else None
        for suffix in getattr(widget, "suffixes", ()) or ():
            names.add(f"{name}_{suffix}")
    return names


def segment_params(query: QueryDict) -> dict[str, list[str]]:
    """The filter parameters of a list URL, empty values and paging/sorting dropped."""
    names = _filter_names()
    return {
        key: values
        for key in sorted(query.keys())
        if key in names and key not in NOT_FILTERS and (values := [v for v in query.getlist(key) if v.strip()])
    }


def segment_query(segment: Segment) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, values in segment.params.items():
        data.setlist(key, values)
    return data


def segment_filter(*, user: User, segment: Segment, visible: QuerySet | None = None) -> ClientFilter:
    queryset = Client.objects.visible_to(user) if visible is None else visible
    return ClientFilter(segment_query(segment), queryset=queryset, user=user)


def segment_clients(*, user: User, segment: Segment, visible: QuerySet | None = None) -> QuerySet:
    """The segment's clients among those `user` may see (an invalid filter gives none).

    `visible`: the user's Client.objects.visible_to(user), when the caller already has it (the
    access rule looks up the user's team and shares once, not once per segment).
    """
    filterset = segment_filter(user=user, segment=segment, visible=visible)
    return filterset.qs if filterset.is_valid() else Client.objects.none()


def segments_union(
    *, user: User, segments: list[Segment], visible: QuerySet, shape: Callable[[QuerySet], QuerySet],
) -> QuerySet | None:
    """One query over several segments: each segment's clients in `visible`, tagged with
    `segment_id` and reduced by `shape`, UNION ALL; None when no segment's filter is valid.

    Each part runs its segment's own filter, so its indexes apply. Folding them into one scan
    with "id IN (segment)" filters read every client once per segment (4.8 s at a million clients).
    """
    parts = []
    for segment in segments:
        filterset = segment_filter(user=user, segment=segment, visible=visible)
        if filterset.is_valid():
            tagged = filterset.qs.order_by().annotate(segment_id=Value(segment.pk, output_field=IntegerField()))
            parts.append(shape(tagged))
    return parts[0].union(*parts[1:], all=True) if parts else None


def segment_totals(*, user: User, segments: list[Segment], visible: QuerySet | None = None):
    """{segment pk: Cell(clients, 12-month revenue)}, live, among the clients `user` may see."""
    if not segments:
        return {}
    rows = segments_union(
        user=user, segments=segments, visible=Client.objects.visible_to(user) if visible is None else visible,
        shape=lambda clients: clients.values("segment_id").annotate(n=Count("pk"), r=Sum("spend_12m")),
    ) or []
    totals = {segment.pk: Cell() for segment in segments}
    for row in rows:
        totals[row["segment_id"]] = Cell(row["n"] or 0, row["r"] or 0)
    return totals


def segment_create(*, owner: User, name: str, shared: bool, query: QueryDict) -> Segment:
    """Saves the list's current filters as `owner`'s segment; the owner comes from the request."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the segment a name."))
    if len(name) > Segment._meta.get_field("name").max_length:
        raise ValidationError(_("The name is too long."))
    ProhibitNullCharactersValidator()(name)  # as a form's CharField would: PostgreSQL stores no NUL
    params = segment_params(query)
    for values in params.values():  # every value is stored, not only the one the filter reads
        for value in values:
            ProhibitNullCharactersValidator()(value)
    probe = ClientFilter(query, queryset=Client.objects.none(), user=owner)
    if not probe.is_valid():
        raise ValidationError(_("These filters are not valid; correct them on the list first."))
    try:
        with transaction.atomic():
            return Segment.objects.create(owner=owner, name=name, shared=shared, params=params)
    except IntegrityError:
        raise ValidationError(_("You already have a segment called “%(name)s”.") % {"name": name}) from None
