"""Each user's API tokens: created (the token shown once, on the answer to the creation), listed
by name and first characters, revoked. Nobody sees or revokes another person's tokens."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api.forms import TokenForm
from api.models import ApiToken
from api.tokens import token_create
from api.tokens import token_revoke as revoke


@never_cache  # the answer to a creation holds the token itself
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        token, secret = token_create(
            user=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"], expires_at=form.expires_at,
        )
        created = {"token": token, "secret": secret}
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)  # revoked ones too: the list says when
    return render(request, "api/token_list.html", {"form": form, "tokens": tokens, "created": created})


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if revoke(token=token):
        messages.success(request, _("The token “%(name)s” was revoked: it no longer works.") % {"name": token.name})
    return redirect("api_tokens:token_list")
