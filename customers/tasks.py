"""Celery tasks for the domain: thin wrappers that call one service."""

from celery import shared_task

from customers.services import encryption


@shared_task(name="customers.rotate_encryption_keys")
def rotate_encryption_keys(batch_size: int = 1000) -> dict[str, int]:
    """Safe to retry: values already under the primary key are skipped."""
    return encryption.rotate_encryption_keys(batch_size=batch_size).by_model
