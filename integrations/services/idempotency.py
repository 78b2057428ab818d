"""Idempotency keys: a retried POST gets the first response back and writes nothing new.

`replay_or_claim` runs inside the request's transaction. A first request claims the key (a row
whose unique constraint makes a concurrent twin wait, then fail); `complete` stores the
response in the same transaction as the writes it describes.

The stored response is the exact first body, encrypted like the PII it holds (so a replay
answers what the first request answered, even after the record changed or was deleted), and
a key lives IDEMPOTENCY_KEY_TTL_HOURS: `idempotency_records_purge` deletes older records
every night, so nothing stays at rest longer than a retry could need it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.formats.json_values import JSONEncoder
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
        raise ValidationError(
            {"Idempotency-Key": _("Use 1 to %(most)d characters.") % {"most": MAX_KEY_LENGTH}}
        )
    IdempotencyRecord.objects.filter(
        owner=owner, key=key, created_at__lt=_oldest_valid(timezone.now())
    ).delete()
    existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    owner=owner, key=key, fingerprint=request_fingerprint, status_code=0
                )
        except IntegrityError:
            raise IdempotencyConflict(
                _("A request with this Idempotency-Key is still being processed; retry shortly."),
                code="idempotency_key_in_use",
            ) from None
    if existing.fingerprint != request_fingerprint:
        raise IdempotencyConflict(
            _("This Idempotency-Key was already used for a different request."),
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


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete every record older than the key lifetime; returns how many. Safe to run at any
    time: a live key's record is never touched, an expired one would be replaced anyway."""
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=_oldest_valid(now or timezone.now())
    ).delete()
    return deleted


def _oldest_valid(now: datetime) -> datetime:
    return now - timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
