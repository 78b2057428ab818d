"""Celery signal handlers for integrations."""

import logging
from typing import Any

from django.db import DatabaseError

from integrations.services import imports

logger = logging.getLogger(__name__)


def resume_stalled_imports(**kwargs: Any) -> None:
    """A worker that starts picks up imports whose worker died (they resume from their last
    committed chunk): a killed worker never leaves a job stuck in "running"."""
    try:
        resumed = imports.recover_stalled_imports()
    except DatabaseError as error:  # the worker still starts; the next start tries again
        logger.warning("Could not look for stalled imports: %s", error)
        return
    if resumed:
        logger.info("Resuming stalled imports: %s", resumed)
