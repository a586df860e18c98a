"""The background exports' pages: the offer to prepare a large export, its progress, the download,
and "My exports". Each user sees only their own exports (another's is a 404)."""

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clients.exports import XLSX_CONTENT_TYPE, export_response
from clients.models import Client
from exports.forms import ExportStartForm
from exports.models import ExportJob
from exports.services import ExportRefused, export_is_large, export_job_create, export_queryset, progress_get
from segmentation.models import Segment

RECENT_EXPORTS = 20
CONTENT_TYPES = {ExportJob.Format.CSV: "text/csv; charset=utf-8", ExportJob.Format.XLSX: XLSX_CONTENT_TYPE}


def export_or_offer(
    request: HttpRequest, *, queryset: QuerySet[Client], kind: str, fmt: str, params: dict, name: str,
) -> HttpResponse | StreamingHttpResponse:
    """The download itself; above EXPORT_BACKGROUND_ROWS, a page offering to prepare it in the
    background (a POST: a GET, even prefetched, never starts work)."""
    if not export_is_large(queryset):
        return export_response(queryset, fmt, name)
    form = ExportStartForm(initial={"kind": kind, "format": fmt, **params})
    return render(request, "exports/export_start.html", {
        "form": form, "kind": kind, "fmt": fmt, "threshold": settings.EXPORT_BACKGROUND_ROWS, "name": name,
    })


@require_POST
def export_create(request: HttpRequest) -> HttpResponse:
    form = ExportStartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("This export could not be prepared. Start it again from the list."))
        return redirect("exports:export_list")
    kind, fmt, params = form.cleaned_data["kind"], form.cleaned_data["format"], form.params()
    if kind == ExportJob.Kind.SEGMENT:
        segment = get_object_or_404(Segment.objects.visible_to(request.user), pk=params["segment"])
        name = slugify(segment.name) or "segment"
    else:
        name = _("clients")
    try:
        export_queryset(user=request.user, kind=kind, params=params)  # invalid filters are said now, not later
    except ExportRefused as refusal:
        messages.error(request, str(refusal))
        return redirect("exports:export_list")
    job = export_job_create(user=request.user, kind=kind, fmt=fmt, params=params, name=name)
    return redirect("exports:export_detail", pk=job.pk)


def _job(request: HttpRequest, pk: int) -> ExportJob:
    return get_object_or_404(ExportJob, pk=pk, created_by=request.user)


@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    jobs = ExportJob.objects.filter(created_by=request.user)[:RECENT_EXPORTS]
    return render(request, "exports/export_list.html", {"jobs": jobs, "keep_days": settings.EXPORT_KEEP_DAYS})


@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    return render(request, "exports/export_detail.html", {"job": job, "progress": progress_get(job)})


@require_GET
def export_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar, polled by htmx; once finished the page reloads to show the download."""
    job = _job(request, pk)
    response = render(request, "exports/partials/progress.html", {"job": job, "progress": progress_get(job)})
    if job.finished:
        response["HX-Refresh"] = "true"
    return response


@require_GET
def export_download(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(request, pk)
    if not job.downloadable:
        raise Http404("Not ready, failed or purged")
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is gone") from None
    filename = f"{job.name}-{timezone.localdate(job.created_at).isoformat()}.{job.format}"
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=CONTENT_TYPES[job.format])
