"""STORAGE_URL becomes STORAGES["default"]: the local folder when empty, S3 with private,
never-overwritten objects and fail-fast connections otherwise; a mistake fails at start."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from crm_project.storage_url import (
    CONNECT_TIMEOUT_SECONDS,
    LOCAL_BACKEND,
    MAX_ATTEMPTS,
    S3_BACKEND,
    default_storage,
)


@pytest.mark.parametrize("url", [None, "", "  "])
def test_empty_url_keeps_the_local_media_folder(url):
    assert default_storage(url) == {"BACKEND": LOCAL_BACKEND}


def test_s3_url_names_bucket_endpoint_and_region():
    storage = default_storage(
        "s3://crm-files?endpoint_url=http://127.0.0.1:9000&region_name=us-east-1"
    )

    options = storage["OPTIONS"]
    assert storage["BACKEND"] == S3_BACKEND
    assert options["bucket_name"] == "crm-files"
    assert options["endpoint_url"] == "http://127.0.0.1:9000"
    assert options["region_name"] == "us-east-1"
    assert options["location"] == ""


def test_s3_objects_are_private_signed_v4_and_never_overwritten():
    options = default_storage("s3://crm-files")["OPTIONS"]

    assert options["file_overwrite"] is False
    assert options["default_acl"] is None  # the bucket owner's alone; no public-read
    assert options["querystring_auth"] is True  # any link would be signed and expire
    assert options["client_config"].signature_version == "s3v4"
    assert options["object_parameters"] == {}


def test_s3_connections_fail_fast():
    config = default_storage("s3://crm-files")["OPTIONS"]["client_config"]

    assert config.connect_timeout == CONNECT_TIMEOUT_SECONDS
    assert config.retries == {"mode": "standard", "total_max_attempts": MAX_ATTEMPTS}
    assert CONNECT_TIMEOUT_SECONDS * MAX_ATTEMPTS + 1 < 5  # an upload answers within 5 s


def test_s3_reads_spill_to_disk_rather_than_memory():
    assert default_storage("s3://crm-files")["OPTIONS"]["max_memory_size"] > 0


def test_server_side_encryption_and_prefix_are_options_of_the_url():
    options = default_storage(
        "s3://crm-files?server_side_encryption=AES256&location=/crm/prod/&addressing_style=path"
    )["OPTIONS"]

    assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
    assert options["location"] == "crm/prod"
    assert options["client_config"].s3 == {"addressing_style": "path"}


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("gs://crm-files", "gs://"),
        ("s3://", "names the bucket only"),
        ("s3://key:secret@crm-files", "AWS_ACCESS_KEY_ID"),
        ("s3://crm-files/some/prefix", "?location="),
        ("s3://crm-files?endpoint=http://x", "unknown option endpoint"),
        ("s3://crm-files?region_name=a&region_name=b", "region_name given more than once"),
        ("s3://crm-files?server_side_encryption=yes", "AES256 or aws:kms"),
        ("s3://crm-files?addressing_style=dns", "addressing_style"),
        ("s3://crm-files?endpoint_url=127.0.0.1:9000", "http(s)://"),
    ],
)
def test_a_mistake_fails_at_start_naming_what_is_wrong(url, named):
    with pytest.raises(ImproperlyConfigured, match="STORAGE_URL") as error:
        default_storage(url)

    assert named in str(error.value)


def test_an_upload_reads_ahead_two_parts_not_ten():
    """boto3 buffers a stream it cannot seek one part at a time, ten parts ahead by default:
    the memory an export's upload takes is parts × part size, whatever the file's size."""
    transfer = default_storage("s3://crm-files")["OPTIONS"]["transfer_config"]

    assert transfer.max_in_memory_upload_chunks * transfer.multipart_chunksize <= 16 * 1024**2
