"""REST doors for bulk jobs under /api/v1/: imports (upload, preview, progress, cancel, the
per-row error report) and exports (create, progress, download). Each action parses, calls one
service or selector, and shapes the reply; the jobs run on a worker."""

from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from customers.api.pagination import NewestFirstCursorPagination, StableCursorPagination
from customers.export_response import CONTENT_TYPES, wants_bom
from integrations import selectors
from integrations.api import schema
from integrations.api import serializers as s
from integrations.api_auth import request_can_view_pii, request_may_write
from integrations.exports import services as exports
from integrations.formats.writers import UTF8_BOM
from integrations.imports import reports as import_reports
from integrations.imports import services as imports
from integrations.models import (
    ExportJob,
    FileFormat,
    ImportCreatedRecord,
    ImportJob,
    JobStatus,
)


class JobConflict(exceptions.APIException):
    """The job is not in a state that allows this (finished, or not finished yet)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "job_state_conflict"


class RowErrorPagination(StableCursorPagination):
    ordering = ("row_number", "id")


class CreatedRecordPagination(StableCursorPagination):
    ordering = ("entity", "row_number", "id")


class _JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    pagination_class = NewestFirstCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["status", "resource"]

    def created(self, job: Any, detail_route: str) -> Response:
        """202: the job is queued; `Location` is where to watch it."""
        location = self.request.build_absolute_uri(reverse(detail_route, args=[job.pk]))
        data = self.get_serializer(job).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


@schema.import_jobs
class ImportJobViewSet(_JobViewSet):
    """Bulk imports: a file becomes a job a worker runs in chunks. Users see their own jobs;
    users who may change any import job (managers) see everyone's."""

    scope_resource = "imports"
    serializer_class = s.ImportJobOutputSerializer
    parser_classes = [MultiPartParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no user
            return ImportJob.objects.none()
        return selectors.import_job_list(user=self.request.user)

    def create(self, request: Request) -> Response:
        options = s.ImportCreateInputSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        data = options.validated_data
        job = imports.import_create(
            user=request.user,
            file=data["file"],
            filename=data["file"].name or "",
            resource=data["resource"],
            format=data.get("format") or "",
            mode=data["mode"],
            match_key=data["match_key"],
            mapping=data.get("mapping") or {},
            dry_run=data["dry_run"],
            all_or_nothing=data["all_or_nothing"],
            create_related=data["create_related"],
            may_look_up_pii=request_can_view_pii(request),
            may_create_related=imports.can_create_related(request.user, data["resource"])
            and request_may_write(request, imports.related_resources(data["resource"])),
        )
        return self.created(job, "import-job-detail")

    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        options = s.ImportPreviewInputSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        data = options.validated_data
        preview = imports.import_preview(
            file=data["file"],
            resource=data["resource"],
            format=data.get("format") or "",
            mapping=data.get("mapping") or None,
            limit=data["rows"],
        )
        output = s.ImportPreviewOutputSerializer(
            {
                "format": preview.format,
                "encoding": preview.encoding,
                "delimiter": preview.delimiter,
                "headers": preview.headers,
                "mapping": preview.mapping.targets,
                "ignored": preview.mapping.ignored,
                "rows": preview.rows,
            }
        )
        return Response(output.data)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        job = self.get_object()
        if job.is_finished:
            raise JobConflict(
                _("The job has already finished (%(status)s).") % {"status": job.status}
            )
        job = imports.import_cancel(job=job)
        return Response(self.get_serializer(job).data)

    @action(detail=True, methods=["get"], pagination_class=RowErrorPagination)
    def errors(self, request: Request, pk: str) -> Response | StreamingHttpResponse:
        job = self.get_object()
        queryset = import_reports.rejected_rows(job)
        can_view_pii = request_can_view_pii(request)
        if request.accepted_renderer.format == "csv":
            return _error_report_csv(job, can_view_pii=can_view_pii, bom=wants_bom(request))
        page = self.paginate_queryset(queryset)
        shown = import_reports.report_values(job=job, can_view_pii=can_view_pii)
        rows = [
            {"row_number": e.row_number, "field": e.field, "message": e.message}
            | {"values": shown(e.values)}
            for e in page
        ]
        return self.get_paginated_response(s.ImportRowErrorOutputSerializer(rows, many=True).data)

    @action(detail=True, methods=["get"], pagination_class=CreatedRecordPagination)
    def related(self, request: Request, pk: str) -> Response:
        """The companies (and contacts) the job created because no record matched."""
        job = self.get_object()
        page = self.paginate_queryset(ImportCreatedRecord.objects.filter(job=job))
        rows = import_reports.created_related(page)
        output = s.ImportCreatedRecordOutputSerializer(rows, many=True)
        return self.get_paginated_response(output.data)


def _error_report_csv(job: ImportJob, *, can_view_pii: bool, bom: bool) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        import_reports.import_error_report_csv(job=job, can_view_pii=can_view_pii, bom=bom),
        content_type=CONTENT_TYPES["csv"],
    )
    filename = import_reports.import_error_report_filename(job)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@schema.export_jobs
class ExportJobViewSet(_JobViewSet):
    """Bulk exports: the REST list's filters, every matching record, one file. Users see their
    own jobs; users who may change any export job (managers) see everyone's."""

    scope_resource = "exports"
    serializer_class = s.ExportJobOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        return selectors.export_job_list(user=self.request.user)

    def create(self, request: Request) -> Response:
        options = s.ExportCreateInputSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        data = options.validated_data
        job = exports.export_create(
            user=request.user,
            resource=data["resource"],
            format=data["format"],
            filters=data.get("filters") or {},
            include_pii=data["include_pii"] and request_can_view_pii(request),
            may_look_up_pii=request_can_view_pii(request),
        )
        return self.created(job, "export-job-detail")

    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        job = self.get_object()
        if job.status != JobStatus.SUCCEEDED or not job.file:
            raise JobConflict(
                _("The export is %(status)s; there is no file to download yet.")
                % {"status": job.status}
            )
        if job.include_pii and not request_can_view_pii(request):
            raise exceptions.PermissionDenied(
                _("This export holds decrypted personal data, which this key or user may not read.")
            )
        bom = job.format == FileFormat.CSV and wants_bom(request)
        try:
            handle = exports.export_file_open(job=job)
        except FileNotFoundError:
            raise exceptions.NotFound(_("The export's file is no longer stored.")) from None
        _skip_unwanted_bom(handle, bom=bom)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{job.resource}-{job.pk}.{job.format}",
            content_type=CONTENT_TYPES[job.format],
        )

    def perform_content_negotiation(self, request: Request, force: bool = False):
        """A download is the file whatever the client accepts (errors then come as JSON)."""
        return super().perform_content_negotiation(
            request, force=force or self.action == "download"
        )


def _skip_unwanted_bom(handle, *, bom: bool) -> None:
    """An export job's CSV is stored once, with the byte-order mark a spreadsheet needs (a
    browser downloading it keeps it); a program that did not ask for it gets the file from the
    byte after it. FileResponse sends from the handle's position, its length included."""
    start = handle.read(len(UTF8_BOM))
    handle.seek(len(start) if start == UTF8_BOM and not bom else 0)
