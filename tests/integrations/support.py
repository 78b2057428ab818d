"""Helpers for the bulk job tests: API clients with chosen scopes, queued tasks caught."""

from rest_framework.test import APIClient

from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create


def client_for(user, scopes=ALL_SCOPES) -> APIClient:
    """A partner client authenticated with a fresh API key of `user`, with `scopes`."""
    _, raw_key = api_key_create(user=user, name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


class Queued(list):
    """Stands in for a task's ``delay``: records the job ids instead of sending them."""

    def __call__(self, job_id: int) -> None:
        self.append(job_id)
