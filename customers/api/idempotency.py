"""`Idempotency-Key` for POST endpoints: a retried request returns the first response."""

import functools
from collections.abc import Callable

from django.db import transaction
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from integrations.models import ApiKey
from integrations.services import idempotency

_REPLAYED_HEADERS = ("ETag", "Location")


class IdempotencyConflictError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_conflict"


class IdempotencyKeyReusedError(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


def _owner(request: Request) -> str:
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"


def idempotent(view_method: Callable) -> Callable:
    """Wrap a viewset POST method. Without the header the request runs as usual."""

    @functools.wraps(view_method)
    def wrapper(self, request: Request, *args, **kwargs) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view_method(self, request, *args, **kwargs)
        request_fingerprint = idempotency.fingerprint(
            method=request.method, path=request.get_full_path(), body=request.body
        )
        with transaction.atomic():
            try:
                claim = idempotency.replay_or_claim(
                    owner=_owner(request), key=key, request_fingerprint=request_fingerprint
                )
            except idempotency.IdempotencyConflict as conflict:
                error = (
                    IdempotencyKeyReusedError
                    if conflict.code == "idempotency_key_reused"
                    else IdempotencyConflictError
                )
                raise error(detail=str(conflict), code=conflict.code) from None
            if isinstance(claim, idempotency.Replay):
                return Response(
                    claim.data,
                    status=claim.status_code,
                    headers={**claim.headers, "Idempotent-Replayed": "true"},
                )
            response = view_method(self, request, *args, **kwargs)
            headers = {name: response[name] for name in _REPLAYED_HEADERS if name in response}
            idempotency.complete(
                record=claim, status_code=response.status_code, data=response.data, headers=headers
            )
            return response

    return wrapper
