"""The doors a record can come through, each run on the same record and reduced to one outcome.

An outcome is ``(accepted, {field: [messages]})``: what a user of that door would notice
(was the record taken, and which fields were named with which words). Every door but the last
runs inside a transaction that is rolled back, so each sees the database as the test left it.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation
from rest_framework.test import APIClient

from customers.models import UserPreference
from integrations.imports import services as imports
from integrations.models import ImportRowError
from integrations.scopes import ALL_SCOPES
from integrations.services import sync
from integrations.services.api_keys import api_key_create
from tests.factories import SalesUserFactory

Outcome = tuple[bool, dict[str, list[str]]]
Door = Callable[[str, Mapping[str, Any]], Outcome]
# The REST door names record-wide errors as DRF does; the services and the import say __all__.
REST_NON_FIELD = "non_field_errors"
ENDPOINTS = {"contacts": "contacts", "companies": "companies", "deals": "deals"}


@contextmanager
def undone() -> Iterator[None]:
    """Run a door and then forget everything it wrote, so the next door starts the same."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@contextmanager
def in_a_worker() -> Iterator[None]:
    """What a worker process has active: the project's language, whatever a request before
    left active in this thread (the import must find its user's language itself)."""
    with translation.override(settings.LANGUAGE_CODE), undone():
        yield


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()


@pytest.fixture(autouse=True)
def files_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]


@pytest.fixture(params=["en", "zh-hans"])
def language(request) -> str:
    return request.param


@pytest.fixture
def user(db, language):
    """The person behind every door: a salesperson whose stored language is `language`."""
    person = SalesUserFactory()
    UserPreference.objects.create(user=person, language=language)
    return person


def as_cell(value: Any) -> str:
    """A value as a CSV file written by hand would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(str(item) for item in value)
    return str(value)


def flat(record: Mapping[str, Any]) -> dict[str, Any]:
    """Custom values as the ``custom_fields.<name>`` columns a file carries."""
    row = {key: value for key, value in record.items() if key != "custom_fields"}
    for name, value in (record.get("custom_fields") or {}).items():
        row[f"custom_fields.{name}"] = value
    return row


def import_outcome(job) -> Outcome:
    job.refresh_from_db()
    errors: dict[str, list[str]] = {}
    for field, message in (
        ImportRowError.objects.filter(job=job).order_by("id").values_list("field", "message")
    ):
        errors.setdefault(field, []).append(message)
    written = job.rows_created + job.rows_updated + job.rows_unchanged
    return written == 1 and job.rows_failed == 0 and not errors, errors


class Doors:
    """Each door as a function of (resource, record) -> Outcome, all acting as `user`."""

    def __init__(self, user, language: str, tmp_path) -> None:
        self.user = user
        self.language = language
        self.tmp_path = tmp_path
        _, raw_key = api_key_create(user=user, name="parity", scopes=list(ALL_SCOPES))
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")

    def rest(self, resource: str, record: Mapping[str, Any]) -> Outcome:
        """POST the record as JSON, in the user's language (a key's requests carry it as
        Accept-Language: the stored preference is the web UI's)."""
        with undone():
            response = self.api.post(
                f"/api/v1/{ENDPOINTS[resource]}/",
                json.dumps(record),
                content_type="application/json",
                HTTP_ACCEPT_LANGUAGE=self.language,
            )
        assert response.status_code in (201, 400, 422), response.content
        if response.status_code == 201:
            return True, {}
        return False, _flat_errors(response.json().get("errors") or {})

    def file_import(self, resource: str, record: Mapping[str, Any]) -> Outcome:
        """The record as one row of a CSV file, imported as the user by the import service."""
        row = {key: as_cell(value) for key, value in flat(record).items()}
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(row) or ["external_id"])
        writer.writeheader()
        writer.writerow(row)
        with in_a_worker():
            job = imports.import_create(
                user=self.user,
                file=io.BytesIO(text.getvalue().encode()),
                filename=f"{resource}.csv",
                resource=resource,
                enqueue=False,
            )
            imports.import_run(job_id=job.pk)
            return import_outcome(job)

    def connector_sync(self, resource: str, record: Mapping[str, Any]) -> Outcome:
        """The record as a JSON file in a drop folder, fetched by a sync of the file connector
        that the user set up (the run imports as its creator)."""
        drop = self.tmp_path / f"drop-{resource}"
        drop.mkdir(exist_ok=True)
        (drop / "records.json").write_text(json.dumps([dict(record)]), encoding="utf-8")
        with in_a_worker():
            connection = sync.connection_create(
                name=f"Drop {resource}",
                connector="file",
                config={"folder": str(drop)},
                resource=resource,
                mapping={},
                user=self.user,
            )
            run = sync.sync_run(connection.pk)
            assert run.import_job_id, run.error_message
            return import_outcome(run.import_job)

    def all(self) -> dict[str, Door]:
        return {"rest": self.rest, "import": self.file_import, "sync": self.connector_sync}


def _flat_errors(errors: Mapping[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """REST's errors keyed as the services key them: a nested object's errors
    (``{"custom_fields": {"score": [...]}}``) under dotted names, DRF's non-field key as
    ``__all__``."""
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        name = "__all__" if key == REST_NON_FIELD and not prefix else f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat_errors(value, prefix=f"{name}."))
        else:
            flat[name] = [str(item) for item in (value if isinstance(value, list) else [value])]
    return flat


@pytest.fixture
def doors(user, language, tmp_path) -> Doors:
    return Doors(user, language, tmp_path)


@pytest.fixture
def outcomes(doors) -> Callable[[str, Mapping[str, Any]], dict[str, Outcome]]:
    """Run one record through every door: {door name: outcome}."""

    def run(resource: str, record: Mapping[str, Any]) -> dict[str, Outcome]:
        return {name: door(resource, record) for name, door in doors.all().items()}

    return run
