"""The import wizard: upload → preview and map the columns → dry run or import on the worker →
a page that follows the job's progress (htmx polls it) and offers the error report.

Every step calls the bulk import services; the job itself runs on a Celery worker.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm_project.storage_errors import StorageUnavailable
from customers.export_response import CONTENT_TYPES, wants_bom
from customers.pii import can_view_pii
from customers.web.common import is_htmx
from customers.web.exchange_common import requires_perm
from customers.web.forms import apply_errors
from integrations import selectors
from integrations.imports import reports as import_reports
from integrations.imports import services as imports
from integrations.models import (
    ImportCreatedRecord,
    ImportJob,
    ImportRowError,
    JobStatus,
    Resource,
)
from integrations.web.import_drafts import draft_discard, draft_get, draft_save
from integrations.web.import_forms import ImportMappingForm, ImportUploadForm

RUN = "integrations.add_importjob"
VIEW = "integrations.view_importjob"
PREVIEW_ROWS = 10
RECENT_JOBS = 10
ERRORS_SHOWN = 20
CREATED_SHOWN = 50


@requires_perm(RUN)
def import_new(request: HttpRequest) -> HttpResponse:
    """Step 1: the file and what it holds. A file that cannot be read is refused here."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload, resource = form.cleaned_data["file"], form.cleaned_data["resource"]
        try:
            imports.import_preview(
                file=upload, resource=resource, format=form.cleaned_data["format"], limit=1
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            upload.seek(0)
            try:
                draft = draft_save(
                    request=request,
                    upload=upload,
                    resource=resource,
                    format=form.cleaned_data["format"],
                )
            except StorageUnavailable:
                form.add_error(None, StorageUnavailable.user_message())
            else:
                return redirect("web:import-map", draft.token)
    recent = selectors.import_job_list(user=request.user).filter(created_by=request.user)
    context = {"form": form, "jobs": recent[:RECENT_JOBS]}
    status = 422 if form.is_bound else 200
    return render(request, "web/imports/new.html", context, status=status)


@requires_perm(RUN)
def import_map(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: the detected format and the first rows, a field for each column (pre-filled
    from the headers), the options; then a dry run or the import, both as a job."""
    try:
        draft = draft_get(request=request, token=token)
        with draft.open() as handle:
            preview = imports.import_preview(
                file=handle, resource=draft.resource, format=draft.format, limit=PREVIEW_ROWS
            )
    except StorageUnavailable:
        messages.error(request, StorageUnavailable.user_message())
        return redirect("web:import-new")
    except ValidationError as error:
        draft_discard(request=request, draft=draft)
        messages.error(request, " ".join(error.messages))
        return redirect("web:import-new")
    form = ImportMappingForm(
        request.POST or None,
        resource=draft.resource,
        headers=preview.headers,
        detected=preview.mapping.targets,
        names_related=imports.names_related(preview),
        may_match_by_email=can_view_pii(request.user),
    )
    if request.method == "POST" and form.is_valid():
        dry_run = request.POST.get("action") == "dry_run"
        try:
            with draft.open() as handle:
                job = imports.import_create(
                    user=request.user,
                    file=handle,
                    filename=draft.filename,
                    resource=draft.resource,
                    format=draft.format,
                    mode=form.cleaned_data["mode"],
                    match_key=form.cleaned_data["match_key"],
                    mapping=form.mapping(),
                    dry_run=dry_run,
                    all_or_nothing=form.cleaned_data["all_or_nothing"],
                    create_related=form.cleaned_data.get("create_related", False),
                )
        except StorageUnavailable:
            form.add_error(None, StorageUnavailable.user_message())
        except ValidationError as error:
            apply_errors(form, error)
        else:
            draft_discard(request=request, draft=draft)
            messages.success(
                request, _("The dry run has started.") if dry_run else _("The import has started.")
            )
            return redirect("web:import-detail", job.pk)
    context = {
        "draft": draft,
        "resource_label": Resource(draft.resource).label,
        "preview": preview,
        "rows": _preview_table(preview),
        "form": form,
    }
    status = 422 if form.is_bound else 200
    return render(request, "web/imports/map.html", context, status=status)


def _preview_table(preview: imports.Preview) -> list[list[Any]]:
    """The first rows as cells under the headers (JSON and XML records flattened like a run
    flattens them)."""
    table = []
    for row in preview.rows:
        values = imports.plain_record(row) if isinstance(row, dict) else {}
        table.append([values.get(header) for header in preview.headers])
    return table


@requires_perm(VIEW)
@require_GET
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's page; with htmx only its progress panel, which polls itself until the job
    has finished."""
    job = _visible_job(request, pk)
    context = {
        "job": job,
        "row_errors": _first_errors(job),
        "can_rerun": _can_run_for_real(job),
        "related_created": _first_created(job),
    }
    if is_htmx(request):
        return render(request, "web/imports/_progress.html", context)
    return render(request, "web/imports/detail.html", context)


def _first_errors(job: ImportJob) -> list[ImportRowError]:
    if not job.is_finished:
        return []
    return list(import_reports.rejected_rows(job)[:ERRORS_SHOWN])


def _first_created(job: ImportJob) -> list[dict[str, Any]]:
    """The first companies and contacts the job created (create_related); the REST door
    lists them all."""
    if not job.is_finished or not (job.companies_created or job.contacts_created):
        return []
    records = ImportCreatedRecord.objects.filter(job=job).order_by("entity", "row_number", "id")
    return import_reports.created_related(records[:CREATED_SHOWN])


def _can_run_for_real(job: ImportJob) -> bool:
    finished_well = job.status in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_SUCCEEDED)
    return job.dry_run and finished_well


@requires_perm(RUN)
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    if job.is_finished:
        messages.warning(request, _("The job had already finished."))
    else:
        job = imports.import_cancel(job=job)
        if job.status == JobStatus.CANCELLED:
            messages.success(request, _("The import was cancelled."))
        else:
            messages.success(request, _("The import stops after the rows it is writing now."))
    return redirect("web:import-detail", job.pk)


@requires_perm(RUN)
@require_POST
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """After a dry run: the same file and options, for real, as a new job."""
    dry_run = _visible_job(request, pk)
    if not _can_run_for_real(dry_run):
        messages.error(request, _("Only a finished dry run can be run for real."))
        return redirect("web:import-detail", dry_run.pk)
    try:
        with imports.import_upload_open(job=dry_run) as handle:
            job = imports.import_create(
                user=request.user,
                file=handle,
                filename=dry_run.original_filename,
                resource=dry_run.resource,
                format=dry_run.format,
                mode=dry_run.mode,
                match_key=dry_run.match_key,
                mapping=dry_run.mapping,
                all_or_nothing=dry_run.all_or_nothing,
                create_related=dry_run.create_related,
            )
    except FileNotFoundError:
        messages.error(request, _("The uploaded file is no longer stored; upload it again."))
        return redirect("web:import-new")
    except StorageUnavailable:
        messages.error(request, StorageUnavailable.user_message())
        return redirect("web:import-detail", dry_run.pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("web:import-detail", dry_run.pk)
    messages.success(request, _("The import has started."))
    return redirect("web:import-detail", job.pk)


@requires_perm(VIEW)
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """Every rejected row as CSV, written by the service the REST door uses too, with the
    byte-order mark a spreadsheet needs (unless `?bom=false`)."""
    job = _visible_job(request, pk)
    try:
        bom = wants_bom(request)
    except ValidationError as error:
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain")
    report = import_reports.import_error_report_csv(
        job=job, can_view_pii=can_view_pii(request.user), bom=bom
    )
    response = StreamingHttpResponse(report, content_type=CONTENT_TYPES["csv"])
    filename = import_reports.import_error_report_filename(job)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _visible_job(request: HttpRequest, pk: int) -> ImportJob:
    """The user's own job, or anyone's for managers; 404 otherwise (no hint that it exists)."""
    return get_object_or_404(selectors.import_job_list(user=request.user), pk=pk)
