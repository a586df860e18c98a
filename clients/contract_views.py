"""A client's contracts (create, edit, renew, end) and the renewal portfolio page and its export.

Every page starts from the access rule (clients.selectors.visible_client: another portfolio's
client is a 404); changing a contract also needs clients.renewals.may_manage_contracts (a colleague
the client is only shared with gets a 403), which the services check again.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from clients.contract_forms import ContractEndForm, ContractForm, RenewalFilterForm
from clients.exports import EXPORT_LIMIT, neutralise, rows_response
from clients.models import Client, Contract
from clients.renewals import (
    PAGE_LIMIT,
    RenewalState,
    can_end,
    can_renew,
    contracts_for_page,
    may_manage_contracts,
    portfolio_totals,
    renewal_defaults,
    renewal_portfolio,
)
from clients.selectors import visible_client
from segmentation import records
from segmentation.models import LifecycleSettings

EXPORT_FORMATS = {"csv", "xlsx"}


def contracts_context(user, client: Client) -> dict:
    """The client page's contracts card: current ones first, and whether the user may change them."""
    return {
        "contracts": contracts_for_page(list(client.contracts.all())),
        "can_manage_contracts": may_manage_contracts(user, client),
    }


def _managed(request: HttpRequest, pk: int, contract_pk: int | None = None) -> tuple[Client, Contract | None]:
    client = visible_client(request, pk)
    if not may_manage_contracts(request.user, client):
        raise PermissionDenied
    contract = get_object_or_404(client.contracts, pk=contract_pk) if contract_pk is not None else None
    if contract is not None:
        contract.client = client
    return client, contract


def _form_page(request, client, form, *, title, contract=None, renewing=False) -> HttpResponse:
    context = {"client": client, "form": form, "page_title": title, "contract": contract, "renewing": renewing}
    return render(request, "clients/contract_form.html", context)


def contract_create(request: HttpRequest, pk: int) -> HttpResponse:
    client, _contract = _managed(request, pk)
    form = ContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        records.contract_create(client=client, by=request.user, **form.cleaned_data)
        messages.success(request, _("Contract added."))
        return redirect(client)
    return _form_page(request, client, form, title=_("New contract"))


def contract_edit(request: HttpRequest, pk: int, contract_pk: int) -> HttpResponse:
    client, contract = _managed(request, pk, contract_pk)
    form = ContractForm(request.POST or None, instance=contract)
    if request.method == "POST" and form.is_valid():
        records.contract_update(contract=contract, by=request.user, **form.cleaned_data)
        messages.success(request, _("Contract saved."))
        return redirect(client)
    return _form_page(request, client, form, title=_("Edit contract"), contract=contract)


def contract_renew(request: HttpRequest, pk: int, contract_pk: int) -> HttpResponse:
    client, contract = _managed(request, pk, contract_pk)
    if not can_renew(contract):
        messages.error(request, _("This contract was already renewed or ended."))
        return redirect(client)
    form = ContractForm(request.POST or None, initial=renewal_defaults(contract))
    if request.method == "POST" and form.is_valid():
        try:
            records.contract_renew(contract=contract, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Contract renewed."))
            return redirect(client)
    return _form_page(request, client, form, title=_("Renew contract"), contract=contract, renewing=True)


def contract_end(request: HttpRequest, pk: int, contract_pk: int) -> HttpResponse:
    client, contract = _managed(request, pk, contract_pk)
    if not can_end(contract):
        messages.error(request, _("This contract was already renewed or ended."))
        return redirect(client)
    form = ContractEndForm(request.POST or None, contract=contract)
    if request.method == "POST" and form.is_valid():
        try:
            records.contract_end(contract=contract, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Contract ended."))
            return redirect(client)
    context = {"client": client, "form": form, "contract": contract, "page_title": _("End contract")}
    return render(request, "clients/contract_end.html", context)


@require_POST
def contract_proposal_sent(request: HttpRequest, pk: int, contract_pk: int) -> HttpResponse:
    client, contract = _managed(request, pk, contract_pk)
    try:
        records.contract_proposal_sent(contract=contract, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Renewal proposal marked as sent for %(contract)s.") % {"contract": contract})
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect(client)


# The renewal portfolio

def _portfolio(request: HttpRequest) -> tuple[RenewalFilterForm, dict]:
    form = RenewalFilterForm(
        request.GET or None, user=request.user, default_days=LifecycleSettings.current().renewal_window_days,
    )
    choices = form.choices()
    return form, {**choices, "contracts": renewal_portfolio(user=request.user, **choices)}


@require_GET
def renewals(request: HttpRequest) -> HttpResponse:
    form, chosen = _portfolio(request)
    portfolio = chosen["contracts"]
    today = timezone.localdate()
    rows = [
        {"contract": c, "days_left": c.days_to_end(today), "state_label": RenewalState.LABELS[c.renewal_state],
         "badge": RenewalState.BADGES[c.renewal_state],
         "can_mark_proposal_sent": c.renewal_state in (RenewalState.NOTHING, RenewalState.CALL)}
        for c in portfolio[:PAGE_LIMIT]
    ]
    totals = portfolio_totals(portfolio)
    context = {
        "form": form, "rows": rows, "totals": totals, "days": chosen["days"], "limit": PAGE_LIMIT,
        "capped": totals.contracts > len(rows), "query": request.GET.urlencode(),
    }
    return render(request, "clients/renewals.html", context)


EXPORT_HEADERS = [
    gettext_lazy("Client"), gettext_lazy("Contract"), gettext_lazy("End date"), gettext_lazy("Days left"),
    gettext_lazy("Value at stake"), gettext_lazy("Salesperson"), gettext_lazy("Renewal state"),
]


@require_GET
def renewals_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_FORMATS:
        raise Http404("Unknown export format")
    _form, chosen = _portfolio(request)
    today = timezone.localdate()

    def rows():
        for c in chosen["contracts"][:EXPORT_LIMIT].iterator(chunk_size=2000):
            yield [neutralise(value) for value in (
                str(c.client), c.title, c.end_date, c.days_to_end(today), c.value, str(c.client.owner),
                str(RenewalState.LABELS[c.renewal_state]),
            )]

    return rows_response(EXPORT_HEADERS, rows(), fmt, _("renewals"), sheet_title=_("Renewals"))
