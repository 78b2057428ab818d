"""ETags and If-Match: optimistic concurrency for single-record writes."""

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("The record changed since you read it (If-Match does not match its ETag).")
    default_code = "precondition_failed"


def etag_for(instance: models.Model) -> str:
    """Changes whenever the record is written (every service write saves and bumps updated_at)."""
    version = f"{instance._meta.label}:{instance.pk}:{instance.updated_at.isoformat()}"
    return f'"{hashlib.sha256(version.encode()).hexdigest()[:32]}"'


def _tags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def check_if_match(request: Request, instance: models.Model) -> None:
    header = request.headers.get("If-Match")
    if header is None:
        return
    tags = _tags(header)
    if "*" not in tags and etag_for(instance) not in tags:
        raise PreconditionFailed()


def not_modified(request: Request, instance: models.Model) -> bool:
    header = request.headers.get("If-None-Match")
    return header is not None and etag_for(instance) in _tags(header)
