"""Idempotency keys: a retried POST gets the first response back and writes nothing new.

`replay_or_claim` runs inside the request's transaction. A first request claims the key (a row
whose unique constraint makes a concurrent twin wait, then fail); `complete` stores the
response in the same transaction as the writes it describes.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from integrations.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyConflict(Exception):
    """The key is in use by a request still running, or was used for a different request."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Replay:
    status_code: int
    data: Any
    headers: dict[str, str]


def fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def replay_or_claim(
    *, owner: str, key: str, request_fingerprint: str
) -> Replay | IdempotencyRecord:
    """Must run inside ``transaction.atomic``: the claim commits or rolls back with the writes."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError({"Idempotency-Key": f"Use 1 to {MAX_KEY_LENGTH} characters."})
    oldest_valid = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    IdempotencyRecord.objects.filter(owner=owner, key=key, created_at__lt=oldest_valid).delete()
    existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    owner=owner, key=key, fingerprint=request_fingerprint, status_code=0
                )
        except IntegrityError:
            raise IdempotencyConflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code="idempotency_key_in_use",
            ) from None
    if existing.fingerprint != request_fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used for a different request.",
            code="idempotency_key_reused",
        )
    return Replay(existing.status_code, existing.response_data, existing.response_headers)


def complete(
    *, record: IdempotencyRecord, status_code: int, data: Any, headers: dict[str, str]
) -> None:
    record.status_code = status_code
    # Through DRF's encoder: decimals, dates and lazy strings become plain JSON.
    record.response_data = json.loads(json.dumps(data, cls=JSONEncoder))
    record.response_headers = headers
    record.save(update_fields=["status_code", "response_data", "response_headers"])
