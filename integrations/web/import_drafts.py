"""An uploaded file waiting between the wizard's steps (preview, mapping) until a job takes it.

The file sits in the media storage under a random token that only the uploader's session
knows; nothing is an ImportJob until the user starts a dry run or the import.
"""

import secrets
from dataclasses import asdict, dataclass
from typing import IO

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest
from django.utils.text import get_valid_filename

from crm_project.storage_errors import storage_failures
from integrations.services.exchange_files import IMPORT_DRAFTS_FOLDER, import_drafts_purge

SESSION_KEY = "crm_import_drafts"
FOLDER = IMPORT_DRAFTS_FOLDER
KEPT_PER_SESSION = 3  # older drafts of the same session are deleted when a new one arrives


@dataclass(frozen=True)
class Draft:
    token: str
    path: str
    filename: str
    resource: str
    format: str

    def open(self) -> IO[bytes]:
        with storage_failures("reading an import draft"):
            return default_storage.open(self.path, "rb")


def draft_save(*, request: HttpRequest, upload: UploadedFile, resource: str, format: str) -> Draft:
    _purge_abandoned()
    token = secrets.token_urlsafe(16)
    filename = upload.name or "import"
    with storage_failures("storing an import draft"):
        stored = default_storage.save(
            f"{FOLDER}/{token}-{get_valid_filename(filename) or 'import'}", upload
        )
    draft = Draft(token=token, path=stored, filename=filename, resource=resource, format=format)
    drafts = dict(request.session.get(SESSION_KEY, {}))
    drafts[token] = asdict(draft)
    for old in list(drafts)[:-KEPT_PER_SESSION]:
        _delete_file(drafts.pop(old)["path"])
    request.session[SESSION_KEY] = drafts
    return draft


def draft_get(*, request: HttpRequest, token: str) -> Draft:
    stored = request.session.get(SESSION_KEY, {}).get(token)
    if stored is None:
        raise Http404("No such upload in this session.")
    with storage_failures("looking up an import draft"):
        if not default_storage.exists(stored["path"]):
            raise Http404("No such upload in this session.")
    return Draft(**stored)


def draft_discard(*, request: HttpRequest, draft: Draft) -> None:
    drafts = dict(request.session.get(SESSION_KEY, {}))
    drafts.pop(draft.token, None)
    request.session[SESSION_KEY] = drafts
    _delete_file(draft.path)


def _purge_abandoned() -> None:
    """Drafts of any session left half-way for a day (also purged nightly)."""
    with storage_failures("purging abandoned import drafts"):
        import_drafts_purge()


def _delete_file(path: str) -> None:
    with storage_failures("deleting an import draft"):
        if default_storage.exists(path):
            default_storage.delete(path)
