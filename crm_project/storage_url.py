"""``STORAGE_URL`` as Django's ``STORAGES["default"]``: where uploads, export files and error
reports live, so that a worker on another machine reads what the web process stored.

Empty: the local ``MEDIA_ROOT`` (the embedded default). ``s3://BUCKET?endpoint_url=…&
region_name=…``: any S3-speaking store through django-storages, credentials from
``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (or the instance's role).
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"

# A store that does not answer must cost a web request seconds, not boto's defaults (60 s to
# connect, 5 attempts): a refused connection fails at once, an unreachable address after
# 2 × 1.5 s plus at most 1 s of back-off, so an upload answers 503 within 5 s.
CONNECT_TIMEOUT_SECONDS = 1.5
READ_TIMEOUT_SECONDS = 20
MAX_ATTEMPTS = 2

# Files read from S3 are first copied to a temporary file: past this size it is on disk, not in
# memory (django-storages' default, 0, keeps a whole import or export file in memory).
SPOOL_MAX_MEMORY_BYTES = 4 * 1024 * 1024
UPLOAD_PART_BYTES = 8 * 1024 * 1024
# What a signed link to a file would stay valid for; the CRM itself hands out no links (the
# API and the pages stream files through the application, which checks who may read them).
SIGNED_LINK_SECONDS = 300

_S3_OPTIONS = {
    "endpoint_url",
    "region_name",
    "addressing_style",
    "location",
    "server_side_encryption",
}
_ADDRESSING_STYLES = {"auto", "path", "virtual"}
_SERVER_SIDE_ENCRYPTIONS = {"AES256", "aws:kms"}


def default_storage(url: str | None) -> dict[str, Any]:
    """The ``STORAGES["default"]`` entry for `url`. A mistake fails at start, naming the part
    that is wrong, rather than at the first upload."""
    if not url or not url.strip():
        return {"BACKEND": LOCAL_BACKEND}
    parts = urlsplit(url.strip())
    if parts.scheme != "s3":
        raise ImproperlyConfigured(
            f"STORAGE_URL must be empty (local files) or s3://BUCKET?…, not {parts.scheme}://."
        )
    bucket = parts.netloc
    if not bucket or "@" in bucket or parts.path not in ("", "/"):
        raise ImproperlyConfigured(
            "STORAGE_URL: s3://BUCKET names the bucket only (credentials come from "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; a prefix from ?location=)."
        )
    return {"BACKEND": S3_BACKEND, "OPTIONS": _s3_options(bucket, _query(parts.query))}


def _query(query: str) -> dict[str, str]:
    parsed = parse_qs(query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(parsed) - _S3_OPTIONS)
    if unknown:
        raise ImproperlyConfigured(
            f"STORAGE_URL: unknown option {', '.join(unknown)}; "
            f"use {', '.join(sorted(_S3_OPTIONS))}."
        )
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated:
        raise ImproperlyConfigured(f"STORAGE_URL: {', '.join(repeated)} given more than once.")
    return {name: values[0].strip() for name, values in parsed.items()}


def _s3_options(bucket: str, query: dict[str, str]) -> dict[str, Any]:
    from botocore.config import Config

    addressing_style = query.get("addressing_style") or "auto"
    if addressing_style not in _ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"STORAGE_URL: addressing_style must be one of {', '.join(sorted(_ADDRESSING_STYLES))}."
        )
    encryption = query.get("server_side_encryption") or ""
    if encryption and encryption not in _SERVER_SIDE_ENCRYPTIONS:
        raise ImproperlyConfigured(
            "STORAGE_URL: server_side_encryption must be "
            f"{' or '.join(sorted(_SERVER_SIDE_ENCRYPTIONS))}."
        )
    endpoint_url = query.get("endpoint_url") or None
    if endpoint_url and urlsplit(endpoint_url).scheme not in ("http", "https"):
        raise ImproperlyConfigured("STORAGE_URL: endpoint_url must be an http(s):// address.")
    return {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url,
        "region_name": query.get("region_name") or None,
        "location": (query.get("location") or "").strip("/"),
        # The files hold customer data in the clear: never overwrite one another, never public.
        # No ACL is sent: an object then belongs to the bucket's owner alone (S3's default, and
        # the only choice on buckets whose ACLs are disabled, which refuse any ACL header).
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": SIGNED_LINK_SECONDS,
        "object_parameters": {"ServerSideEncryption": encryption} if encryption else {},
        "max_memory_size": SPOOL_MAX_MEMORY_BYTES,
        # Given whole, this replaces django-storages' own Config: the signature and addressing
        # style it would have set are set here.
        "client_config": Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        ),
        "transfer_config": _transfer_config(),
    }


def _transfer_config() -> Any:
    """An export of any size is uploaded in 8 MB parts, two at a time. django-storages hands
    boto3 a stream it cannot seek, which boto3 reads ahead into memory, ten parts by default:
    80 MB per upload. Two parts keep a 100,000-contact export's upload within ~20 MB."""
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=UPLOAD_PART_BYTES,
        multipart_chunksize=UPLOAD_PART_BYTES,
        max_concurrency=2,
    )
    config.max_in_memory_upload_chunks = 2  # not a keyword of boto3's TransferConfig
    return config
