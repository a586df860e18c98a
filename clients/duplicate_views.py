"""Likely duplicates: the warning of the client form, the page of pairs, and the merge page.

The page of pairs is a gerente's (their team) or an administrador's. Merging needs to see both
clients and the right to merge them (segmentation.merge.may_merge: also the comercial who owns
both); anyone else gets a 404 for a client they cannot see, a 403 for one they can.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.duplicates import (
    PAIRS_SHOWN,
    duplicate_pairs,
    hidden_match_text,
    likely_duplicates_of,
    reason_text,
    split_by_visibility,
)
from clients.models import Client, NotDuplicate
from clients.selectors import visible_client
from segmentation import merge

# A change of any of these on an existing client is checked again; other edits are not.
MATCHED_FIELDS = {"tax_id", "email", "phone", "first_name", "last_name", "company_name", "city"}
SAVE_ANYWAY = "save_anyway"


def duplicate_warning(request: HttpRequest, form, client: Client | None = None) -> dict | None:
    """The warning the client form shows before saving a likely duplicate, or None to save.

    Matches the user may open are listed with a link; those in another portfolio only say why
    ("ask your gerente"), never whose. Once the user chose "Save anyway", or when an edit leaves
    every matched field as it was, the form saves."""
    if request.POST.get(SAVE_ANYWAY) or (client and not _matched_fields_changed(form, client)):
        return None
    matches = likely_duplicates_of(form.cleaned_data, exclude_pk=client.pk if client else None)
    if client and matches:
        ids = [m.client.pk for m in matches]
        checked = {a if b == client.pk else b for a, b in NotDuplicate.objects.filter(  # this client's own pairs
            Q(first_id=client.pk, second_id__in=ids) | Q(second_id=client.pk, first_id__in=ids),
        ).values_list("first_id", "second_id")}
        matches = [m for m in matches if m.client.pk not in checked]
    shown, hidden = split_by_visibility(request.user, matches)
    if not shown and not hidden:
        return None
    user = request.user
    return {
        "duplicates": [
            {
                "client": m.client, "reasons": [reason_text(r, m.client.city) for r in m.reasons],
                # An edited client may be merged into the match at once (merge.may_merge, without a
                # query: a shown match is visible, and so is the client being edited).
                "merge_url": reverse("clients:client_merge", args=[m.client.pk, client.pk]) if client and (
                    user.can_manage_portfolios or m.client.owner_id == client.owner_id == user.pk
                ) else "",
            }
            for m in shown
        ],
        "hidden_duplicates": [hidden_match_text(reason) for reason in hidden],
        "save_anyway": SAVE_ANYWAY,
    }


def _matched_fields_changed(form, client: Client) -> bool:
    """Compared with what is stored (the form has already copied its values onto the instance),
    in their cleaned form: a phone shown nationally and stored in E.164 is not a change."""
    stored = Client.objects.filter(pk=client.pk).values(*MATCHED_FIELDS).first() or {}
    return any(form.cleaned_data.get(name) != stored.get(name) for name in MATCHED_FIELDS)


def _managers_only(request: HttpRequest) -> None:
    if not request.user.can_manage_portfolios:
        raise PermissionDenied


def duplicate_list(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    pairs = duplicate_pairs(request.user)
    rows = [{"pair": pair, "reasons": pair.reason_texts()} for pair in pairs]
    return render(request, "clients/duplicates.html", {"rows": rows, "limit": len(pairs) >= PAIRS_SHOWN})


class PairForm(forms.Form):
    first = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    second = forms.IntegerField(min_value=1, max_value=2**63 - 1)


@require_POST
def not_duplicates(request: HttpRequest) -> HttpResponse:
    _managers_only(request)
    form = PairForm(request.POST)
    if not form.is_valid() or form.cleaned_data["first"] == form.cleaned_data["second"]:
        messages.error(request, _("Choose two clients."))
        return redirect("clients:client_duplicates")
    visible = Client.objects.visible_to(request.user)
    first = get_object_or_404(visible, pk=form.cleaned_data["first"])
    second = get_object_or_404(visible, pk=form.cleaned_data["second"])
    merge.clients_not_duplicates(by=request.user, first=first, second=second)
    messages.success(request, _("%(first)s and %(second)s will not be offered as duplicates again.") % {
        "first": first, "second": second,
    })
    return redirect("clients:client_duplicates")


class MergeForm(forms.Form):
    """One choice per field whose values differ: whose value the merged client keeps."""

    def __init__(self, *args, survivor: Client, absorbed: Client, user, **kwargs):
        super().__init__(*args, **kwargs)
        defaults = merge.merge_defaults(survivor, absorbed)
        # A referrer is named only when the user may see it (the access rule), as on the client page.
        referrer_ids = [pk for pk in (survivor.referred_by_id, absorbed.referred_by_id) if pk]
        referrers = {
            referrer.pk: referrer for referrer in Client.objects.visible_to(user).filter(pk__in=referrer_ids)
        } if referrer_ids else {}
        self.rows = []
        for name in merge.MERGED_FIELDS:
            field = Client._meta.get_field(name)
            mine, theirs = _shown(survivor, field, referrers), _shown(absorbed, field, referrers)
            row = {"name": name, "label": field.verbose_name, "survivor": mine, "absorbed": theirs}
            if getattr(survivor, name) != getattr(absorbed, name):
                self.fields[name] = forms.ChoiceField(
                    label=field.verbose_name, choices=[(merge.SURVIVOR, mine), (merge.ABSORBED, theirs)],
                    initial=defaults[name], widget=forms.RadioSelect, required=False,
                )
            self.rows.append(row)
        self.defaults = defaults

    def clean(self) -> dict:
        """A choice left out keeps what the page proposed (the survivor's value unless empty)."""
        data = super().clean()
        return {name: data.get(name) or self.defaults[name] for name in self.fields}

    def bound_rows(self):
        return [{**row, "field": self[row["name"]] if row["name"] in self.fields else None} for row in self.rows]


def _shown(client: Client, field, referrers: dict[int, Client]) -> str:
    if field.name == "referred_by":
        if client.referred_by_id is None:
            return "—"
        referrer = referrers.get(client.referred_by_id)
        return str(referrer) if referrer else _("a client of another portfolio")
    if field.choices:
        return str(getattr(client, f"get_{field.name}_display")() or "—")
    value = getattr(client, field.name)
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


def client_merge(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Side by side, the fields that differ with a choice each (the survivor's value by default,
    unless it is empty), then one confirmation; the first client is the one that stays."""
    survivor, absorbed = visible_client(request, pk), visible_client(request, other_pk)
    if survivor.pk == absorbed.pk:
        raise Http404("A client is not its own duplicate")
    if not merge.may_merge(request.user, survivor, absorbed):
        raise PermissionDenied
    form = MergeForm(request.POST or None, survivor=survivor, absorbed=absorbed, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            merged = merge.client_merge(by=request.user, survivor=survivor, absorbed=absorbed, values=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(absorbed)s was merged into %(survivor)s.") % {
                "absorbed": absorbed, "survivor": merged,
            })
            return redirect(merged)
    context = {"survivor": survivor, "absorbed": absorbed, "form": form, "rows": form.bound_rows()}
    return render(request, "clients/client_merge.html", context)

