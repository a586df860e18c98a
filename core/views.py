from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import check_for_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language as django_set_language

from core.health import broker_status, database_status


@login_not_required
@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 while the database answers; the broker is reported but does not fail the probe."""
    database = database_status()
    payload = {"status": "ok" if database == "ok" else "error", "database": database, "broker": broker_status()}
    return JsonResponse(payload, status=200 if database == "ok" else 503)


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembering the choice on the user for e-mails sent later."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and check_for_language(language):
        get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return response


def home(request: HttpRequest) -> HttpResponse:
    return redirect("clients:agenda")
