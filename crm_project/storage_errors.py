"""A file store that cannot be reached, as one error every door answers the same way.

The store is the local folder or S3 (``crm_project/storage_url.py``); each fails in its own
words (``OSError``, botocore's errors). Services wrap what they do with a stored file in
``storage_failures`` so that the REST door answers 503 ``storage_unavailable``, the pages show
a message and a job ends failed with a sentence, instead of a traceback or a half-made job.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class StorageUnavailable(Exception):
    """The file store refused or did not answer; nothing was stored. Worth trying again later:
    it says nothing about the file itself."""

    code = "storage_unavailable"

    @staticmethod
    def user_message() -> str:
        """In the language active where it is shown, not where it was raised."""
        return _("The file store cannot be reached just now. Try again in a few minutes.")


@contextmanager
def storage_failures(action: str) -> Iterator[None]:
    """Turn the store's own failures during `action` (e.g. "storing an import upload") into
    StorageUnavailable, logged once with their cause for the operator. A missing file stays
    FileNotFoundError: that is an answer from a working store (a purged export), not a fault."""
    try:
        yield
    except FileNotFoundError:
        raise
    except (OSError, BotoCoreError, ClientError) as error:
        logger.warning("File store failed while %s: %s: %s", action, type(error).__name__, error)
        raise StorageUnavailable(f"{action}: {error}") from error
