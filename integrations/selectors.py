"""Read queries for integration records, shaped for the doors (REST, admin)."""

from typing import Any

from django.db.models import QuerySet

from integrations.models import ExportJob, ImportJob


def import_job_list(*, user: Any) -> QuerySet[ImportJob]:
    """A user's own import jobs; everyone's for those who may change any job (managers)."""
    queryset = ImportJob.objects.select_related("created_by")
    if user.has_perm("integrations.change_importjob"):
        return queryset
    return queryset.filter(created_by_id=user.pk)


def export_job_list(*, user: Any) -> QuerySet[ExportJob]:
    """A user's own export jobs; everyone's for those who may change any job (managers)."""
    queryset = ExportJob.objects.select_related("created_by")
    if user.has_perm("integrations.change_exportjob"):
        return queryset
    return queryset.filter(created_by_id=user.pk)
