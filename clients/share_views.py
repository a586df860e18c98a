"""Sharing a client with a colleague from the client page, and taking the share back.

The owner, the gerente of the owner's team and an administrador share; whoever else sees the
client (the colleague it is shared with, a teammate) sees the list without the controls.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import ColleagueForm
from accounts.models import Team, User
from accounts.selectors import colleagues
from clients.models import Client
from clients.selectors import visible_client
from segmentation import records


def may_share(user: User, client: Client) -> bool:
    if user.pk == client.owner_id or user.is_administrador:
        return True
    # One query, and only for a gerente: does this gerente manage the owner's team?
    return user.is_gerente and Team.objects.filter(manager=user, members=client.owner_id).exists()


def share_context(user: User, client: Client) -> dict:
    """What the client page's "Shared with" part needs: the list, and the controls for those who may share."""
    shared_with = list(client.shared_with.order_by("first_name", "last_name", "username"))
    context = {"shared_with": shared_with, "can_share": may_share(user, client)}
    if context["can_share"]:
        exclude = {client.owner_id, *(person.pk for person in shared_with)}
        context["share_form"] = ColleagueForm(queryset=colleagues(exclude=exclude))
    return context


def _answer(request: HttpRequest, client: Client, form: ColleagueForm | None = None) -> HttpResponse:
    """htmx gets the part again in place; a plain form post goes back to the client page."""
    if not request.htmx:
        return redirect(client)
    context = {"client": client, **share_context(request.user, client)}
    if form is not None and form.errors:
        context["share_form"] = form
    return render(request, "clients/partials/client_shares.html", context)


def _tell(request: HttpRequest, text: str) -> None:
    # In place (htmx) the list itself shows the change; a message would surface on the next page.
    if not request.htmx:
        messages.success(request, text)


@require_POST
def client_share(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    if not may_share(request.user, client):
        raise PermissionDenied
    exclude = {client.owner_id, *client.shares.values_list("user_id", flat=True)}
    form = ColleagueForm(request.POST, queryset=colleagues(exclude=exclude))
    if form.is_valid():
        try:
            records.client_share(by=request.user, client=client, user=form.cleaned_data["user"])
        except ValidationError as error:
            form.add_error("user", error)
        else:
            _tell(request, _("%(client)s is now shared with %(person)s.")
                  % {"client": client, "person": form.cleaned_data["user"]})
    if form.errors and not request.htmx:
        messages.error(request, " ".join(form.errors["user"]))
    return _answer(request, client, form)


@require_POST
def client_unshare(request: HttpRequest, pk: int) -> HttpResponse:
    client = visible_client(request, pk)
    if not may_share(request.user, client):
        raise PermissionDenied
    form = ColleagueForm(request.POST, queryset=client.shared_with.all())
    if form.is_valid():
        records.client_unshare(by=request.user, client=client, user=form.cleaned_data["user"])
        _tell(request, _("%(client)s is no longer shared with %(person)s.")
              % {"client": client, "person": form.cleaned_data["user"]})
    return _answer(request, client)
