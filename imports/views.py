"""Upload → preview (mapping, options, every row's errors) → confirm → progress → report.

Each user sees only their own imports (another's is a 404). The preview's figures are computed
when the file or the choices change, and stored on the job, so showing it reads no file.
"""

import csv
import io

from django.contrib import messages
from django.db.models.functions import Length
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clients.exports import attachment, csv_delimiter, neutralise
from imports.forms import PreviewForm, UploadForm
from imports.jobs import job_confirm, job_confirmable, job_create, job_reanalyse, job_reopen, progress_get
from imports.models import ImportJob

ERRORS_SHOWN = 100
RECENT_IMPORTS = 20


def _job(request: HttpRequest, pk: int) -> ImportJob:
    jobs = ImportJob.objects.defer("data").annotate(file_size=Length("data")).select_related("owner")
    job = get_object_or_404(jobs, pk=pk, created_by=request.user)
    job.created_by = request.user  # the same user: no second load of them and their roles
    return job


def import_list(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = job_create(
            user=request.user, kind=form.cleaned_data["kind"], filename=form.cleaned_data["file"].name,
            data=form.data_bytes, table=form.table,
        )
        return redirect("imports:import_detail", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user).defer("data", "errors")[:RECENT_IMPORTS]
    return render(request, "imports/import_list.html", {"form": form, "jobs": jobs})


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.state != ImportJob.State.PREVIEW:
        if request.method == "POST":
            return redirect("imports:import_detail", pk=job.pk)
        if job.state == ImportJob.State.ANALYSING:
            return render(request, "imports/import_analysing.html", {"job": job, "progress": progress_get(job)})
        return render(request, "imports/import_report.html", _report_context(job))
    headers = job.summary.get("headers", [])
    form = PreviewForm(request.POST or None, job=job, headers=headers)
    if request.method == "POST" and form.is_valid():
        before = _choices(job)
        job = form.save()
        confirm = request.POST.get("action") == "confirm"
        if not confirm or _choices(job) != before:
            job_reanalyse(job)  # the run analyses again anyway: a confirmation as previewed skips it
            if job.state == ImportJob.State.ANALYSING:
                return redirect("imports:import_detail", pk=job.pk)
        if confirm:
            if job_confirm(job):
                return redirect("imports:import_detail", pk=job.pk)
            messages.error(request, _("This file cannot be imported yet: see the errors below."))
        return redirect("imports:import_detail", pk=job.pk)
    return render(request, "imports/import_preview.html", {
        "job": job, "form": form, "summary": job.summary, "sample": job.summary.get("sample", []),
        "errors": job.errors[:ERRORS_SHOWN], "error_count": len(job.errors), "confirmable": job_confirmable(job),
    })


def _choices(job: ImportJob) -> tuple:
    return job.mapping, job.owner_id, job.create_missing_clients, job.create_missing_products, job.only_valid


def _report_context(job: ImportJob) -> dict:
    return {
        "job": job, "summary": job.summary, "progress": progress_get(job),
        "errors": job.errors[:ERRORS_SHOWN], "error_count": len(job.errors),
    }


def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar, polled by htmx; once the import or the analysis ends, the page reloads to
    show the report or the preview."""
    job = _job(request, pk)
    response = render(request, "imports/partials/progress.html", {"job": job, "progress": progress_get(job)})
    if not job.under_way:
        response["HX-Refresh"] = "true"
    return response


@require_POST
def import_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    job_reopen(job)
    return redirect("imports:import_detail", pk=job.pk)


@require_POST
def import_delete(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.under_way:
        raise Http404("An import under way cannot be discarded")
    job.delete()
    messages.success(request, _("The file was discarded."))
    return redirect(reverse("imports:import_list"))


def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Every row error of the last analysis as CSV: row, column, value, message."""
    job = _job(request, pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=csv_delimiter(), lineterminator="\r\n")
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Error")])
    for line, column, value, message in job.errors:
        writer.writerow([line, neutralise(column), neutralise(value), message])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = _("errors")  # outside the f-string, where makemessages finds it
    response["Content-Disposition"] = attachment(f"{name}-{job.pk}", "csv")
    return response
