"""Helpers for the bulk job tests: API clients with chosen scopes, queued tasks caught,
imports run in-process."""

import io

from rest_framework.test import APIClient

from integrations.imports import services as imports
from integrations.models import ImportJob
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create


def client_for(user, scopes=ALL_SCOPES) -> APIClient:
    """A partner client authenticated with a fresh API key of `user`, with `scopes`."""
    _, raw_key = api_key_create(user=user, name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def run_import(
    content: bytes | str,
    *,
    filename: str = "contacts.csv",
    resource: str = "contacts",
    on_progress=None,
    **options,
) -> ImportJob:
    """An import of `content` created and run here, as a worker would run it."""
    data = content.encode() if isinstance(content, str) else content
    job = imports.import_create(
        user=None,
        file=io.BytesIO(data),
        filename=filename,
        resource=resource,
        enqueue=False,
        **options,
    )
    return imports.import_run(job_id=job.pk, on_progress=on_progress)


class Queued(list):
    """Stands in for a task's ``apply_async`` (how ``integrations.queueing`` publishes):
    records the job ids instead of sending them."""

    def __call__(self, args: tuple = (), **options) -> None:
        (job_id,) = args
        self.append(job_id)
