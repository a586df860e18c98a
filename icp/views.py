from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.models import Client
from clients.selectors import visible_client
from icp.forms import CriterionFormSet, ProfileForm
from icp.suggest import MIN_POPULATION, criteria_suggest
from icp.values import Vocabulary
from segmentation import records
from segmentation.ideal import dashboard_fit, is_probable_suggestion, profile_save
from segmentation.ideal_models import Criterion, IdealProfile


def profile_edit(request: HttpRequest) -> HttpResponse:
    """The administrador's ideal client profile: weighted criteria, pre-filled with Cartera's
    suggestions from the best clients on "Suggest" (?suggest=1), saved all at once."""
    if not request.user.is_administrador:
        raise PermissionDenied
    vocabulary = Vocabulary()
    profile = IdealProfile.current()
    suggestions = None
    if request.method == "POST":
        form = ProfileForm(request.POST)
        formset = CriterionFormSet(request.POST, vocabulary=vocabulary, prefix="criteria")
        if form.is_valid() and formset.is_valid():
            criteria = formset.criteria()
            profile_save(by=request.user, threshold=form.cleaned_data["threshold"], criteria=criteria)
            if criteria:
                messages.success(request, _("Ideal client profile saved. Every client's fit is being recomputed."))
            else:
                messages.warning(request, _("The profile has no criteria now: no client has a fit until you add some."))
            return redirect("icp:profile_edit")
    else:
        form = ProfileForm(initial={"threshold": profile.threshold})
        if "suggest" in request.GET:
            suggestions = criteria_suggest()
            rows = [(s.attribute, s.value, s.weight) for s in suggestions.items]
        else:
            rows = list(Criterion.objects.values_list("attribute", "value", "weight"))
        initial = [{"attribute": a, "value": vocabulary.label(a, v), "weight": w} for a, v, w in rows]
        formset = CriterionFormSet(initial=initial, vocabulary=vocabulary, prefix="criteria")
    evidence = [s.evidence for s in suggestions.items] if suggestions else []
    context = {
        "form": form, "formset": formset, "profile": profile, "suggestions": suggestions,
        "rows": [(row, evidence[index] if index < len(evidence) else "") for index, row in enumerate(formset.forms)],
        "datalists": vocabulary.datalists(), "fit": dashboard_fit(owner_ids=None), "min_population": MIN_POPULATION,
    }
    return render(request, "icp/profile_edit.html", context)


def client_fit_context(client: Client) -> dict:
    """The client page's fit card: the fit, and whether to suggest qualifying it as probable (one query)."""
    profile = IdealProfile.current()
    return {"icp_profile": profile, "icp_probable": is_probable_suggestion(client, profile)}


@require_POST
def probable_accept(request: HttpRequest, pk: int) -> HttpResponse:
    """One click on the client page: the suggested prospect is qualified as probable (client_update)."""
    client = visible_client(request, pk)
    if not is_probable_suggestion(client, IdealProfile.current()):
        messages.error(request, _("This client is no longer suggested as probable: nothing was changed."))
        return redirect(client)
    version = request.POST.get("version", "")
    try:
        records.client_update(
            by=request.user, client=client, data={"prospect_qualification": Client.Qualification.PROBABLE},
            seen_version=int(version) if version.isdecimal() else client.version,
        )
    except records.EditConflict:
        messages.error(request, _("Someone else saved this client meanwhile: check the page and try again."))
        return redirect(client)
    messages.success(request, _("Qualified as a probable client: it fits the ideal profile."))
    return redirect(client)


