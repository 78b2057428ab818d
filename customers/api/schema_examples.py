"""Example records and errors for the OpenAPI document (see `customers.api.schema`).

Records are given once, as JSON; their XML and CSV forms are rendered from them by the API's own
renderers, so the examples cannot drift from what the API sends.
"""

ETAG = '"9f86d081884c7d659a2feaa0c55ad015"'
IDEMPOTENCY = "order-2026-0042-contact"

CONTACT = {
    "id": 42,
    "external_id": "hubspot-1017",
    "first_name": "Lin",
    "last_name": "Wei",
    "full_name": "Lin Wei",
    "title": "Head of Purchasing",
    "company": {"id": 7, "name": "Acme Trading"},
    "email": "lin.wei@example.com",
    "phone": "+86 138 0013 8000",
    "address": "88 Century Avenue, Pudong, Shanghai",
    "lifecycle_stage": "customer",
    "source": "trade fair",
    "owner": {"id": 3, "username": "zhang.min"},
    "tags": ["key-account", "vip"],
    "custom_fields": {"wechat_id": "linwei88", "budget_band": "100k-500k"},
    "notes": "Prefers WeChat in the afternoon.",
    "consent_email": True,
    "consent_phone": False,
    "consent_updated_at": "2026-03-02T09:15:00Z",
    "created_at": "2026-01-12T08:30:00Z",
    "updated_at": "2026-03-02T09:15:00Z",
}
CONTACT_INPUT = {
    "external_id": "hubspot-1017",
    "first_name": "Lin",
    "last_name": "Wei",
    "title": "Head of Purchasing",
    "email": "lin.wei@example.com",
    "phone": "+86 138 0013 8000",
    "lifecycle_stage": "customer",
    "source": "trade fair",
    "tags": ["key-account", "vip"],
    "consent_email": True,
}

COMPANY = {
    "id": 7,
    "external_id": "erp-C-0042",
    "name": "Acme Trading",
    "domain": "acme-trading.example.com",
    "industry": "Wholesale",
    "size_band": "51-200",
    "country": "CN",
    "phone": "+86 21 6888 0000",
    "address": "88 Century Avenue, Pudong, Shanghai",
    "owner": {"id": 3, "username": "zhang.min"},
    "tags": ["key-account"],
    "custom_fields": {"credit_limit": "500000.00"},
    "created_at": "2026-01-10T02:00:00Z",
    "updated_at": "2026-02-20T06:45:00Z",
}
COMPANY_INPUT = {
    "external_id": "erp-C-0042",
    "name": "Acme Trading",
    "domain": "acme-trading.example.com",
    "industry": "Wholesale",
    "size_band": "51-200",
    "country": "CN",
    "tags": ["key-account"],
}

DEAL = {
    "id": 19,
    "external_id": "erp-D-2026-118",
    "name": "Acme 2026 framework agreement",
    "company": {"id": 7, "name": "Acme Trading"},
    "primary_contact": {"id": 42, "full_name": "Lin Wei"},
    "amount": "250000.00",
    "currency": "CNY",
    "pipeline": {"id": 1, "name": "Sales"},
    "stage": {"id": 3, "name": "Proposal"},
    "status": "open",
    "expected_close_date": "2026-06-30",
    "closed_at": None,
    "owner": {"id": 3, "username": "zhang.min"},
    "tags": ["framework"],
    "custom_fields": {"contract_type": "framework"},
    "created_at": "2026-02-01T03:00:00Z",
    "updated_at": "2026-03-05T07:20:00Z",
}
DEAL_INPUT = {
    "external_id": "erp-D-2026-118",
    "name": "Acme 2026 framework agreement",
    "company": 7,
    "primary_contact": 42,
    "amount": "250000.00",
    "currency": "CNY",
    "stage": 3,
    "expected_close_date": "2026-06-30",
    "tags": ["framework"],
}

ACTIVITY = {
    "id": 311,
    "external_id": "ticket-5521",
    "kind": "call",
    "subject": "Pricing follow-up",
    "body": "Agreed to send the revised quote by Friday.",
    "due_at": None,
    "done_at": "2026-03-05T07:00:00Z",
    "contact": {"id": 42, "full_name": "Lin Wei"},
    "company": {"id": 7, "name": "Acme Trading"},
    "deal": {"id": 19, "name": "Acme 2026 framework agreement"},
    "author": {"id": 3, "username": "zhang.min"},
    "created_at": "2026-03-05T07:05:00Z",
    "updated_at": "2026-03-05T07:05:00Z",
}
ACTIVITY_INPUT = {
    "kind": "call",
    "subject": "Pricing follow-up",
    "body": "Agreed to send the revised quote by Friday.",
    "done_at": "2026-03-05T07:00:00Z",
    "contact": 42,
    "deal": 19,
}

PIPELINE = {
    "id": 1,
    "name": "Sales",
    "is_default": True,
    "stages": [
        {"id": 1, "name": "Qualification", "position": 0, "win_probability": 10, "outcome": "open"},
        {"id": 3, "name": "Proposal", "position": 1, "win_probability": 50, "outcome": "open"},
        {"id": 5, "name": "Won", "position": 2, "win_probability": 100, "outcome": "won"},
        {"id": 6, "name": "Lost", "position": 3, "win_probability": 0, "outcome": "lost"},
    ],
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}
PIPELINE_INPUT = {
    "name": "Partnerships",
    "is_default": False,
    "stages": [
        {"name": "Intro", "position": 0, "win_probability": 10, "outcome": "open"},
        {"name": "Signed", "position": 1, "win_probability": 100, "outcome": "won"},
        {"name": "Dropped", "position": 2, "win_probability": 0, "outcome": "lost"},
    ],
}
TAG = {"id": 4, "name": "vip", "created_at": "2026-01-12T08:30:00Z"}
TAG_INPUT = {"name": "vip"}
USER = {"id": 3, "username": "zhang.min", "full_name": "Min Zhang", "is_active": True}

# Batch request examples, by resource (else the resource's single input example).
BATCH_RECORDS = {
    "contacts": [
        CONTACT_INPUT,
        {"first_name": "Min", "last_name": "Zhang", "email": "zhang.min@example.com"},
        {"external_id": "hubspot-1018", "first_name": "Ana", "lifecycle_stage": "lead"},
    ],
}

BATCH_OUTCOME = {
    "committed": True,
    "created": 2,
    "updated": 0,
    "error": 1,
    "rolled_back": 0,
    "results": [
        {"index": 0, "status": "created", "id": 43},
        {
            "index": 1,
            "status": "error",
            "errors": {"email": ["Another contact already has this email address."]},
        },
        {"index": 2, "status": "created", "id": 44},
    ],
}
BATCH_ROLLED_BACK = {
    "code": "batch_rolled_back",
    "message": "Nothing was written: 1 of 3 records are invalid (atomic=true).",
    "errors": {"records.1.email": ["Another contact already has this email address."]},
    "committed": False,
    "created": 0,
    "updated": 0,
    "error": 1,
    "rolled_back": 2,
    "results": [
        {"index": 0, "status": "rolled_back"},
        {
            "index": 1,
            "status": "error",
            "errors": {"email": ["Another contact already has this email address."]},
        },
        {"index": 2, "status": "rolled_back"},
    ],
}


def _error(code: str, message: str, errors: dict | None = None, **extra) -> dict:
    return {"code": code, "message": message, "errors": errors or {}, **extra}


ERRORS = {
    400: [
        (
            "Field errors",
            _error(
                "invalid",
                "Some fields are invalid.",
                {
                    "email": ["Enter a valid email address."],
                    "non_field_errors": ["A contact needs a name, an email or a phone number."],
                },
            ),
        ),
        (
            "Unparseable body",
            _error("parse_error", "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
        ),
    ],
    401: [
        (
            "No credentials",
            _error("not_authenticated", "Authentication credentials were not provided."),
        ),
        ("Bad key", _error("authentication_failed", "This API key has been revoked.")),
    ],
    403: [
        (
            "Missing scope",
            _error("permission_denied", "This API key lacks the 'contacts:write' scope."),
        ),
    ],
    404: [("Not found", _error("not_found", "Not found."))],
    406: [
        ("Not acceptable", _error("not_acceptable", "Could not satisfy the request Accept header."))
    ],
    409: [
        (
            "Key in use",
            _error(
                "idempotency_conflict",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            ),
        )
    ],
    412: [
        (
            "Changed since read",
            _error(
                "precondition_failed",
                "The record changed since you read it (If-Match does not match its ETag).",
            ),
        )
    ],
    413: [
        (
            "Too large",
            _error(
                "request_too_large",
                "Request bodies are limited to 10485760 bytes; this one has 12582912. Split it, "
                "or use the bulk import endpoint for files.",
            ),
        )
    ],
    415: [
        (
            "Unsupported type",
            _error("unsupported_media_type", 'Unsupported media type "text/plain" in request.'),
        )
    ],
    422: [
        (
            "Key reused",
            _error(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
            ),
        )
    ],
    429: [
        (
            "Throttled",
            _error(
                "throttled",
                "Request was throttled. Expected available in 12 seconds.",
                retry_after="12",
            ),
        )
    ],
}
