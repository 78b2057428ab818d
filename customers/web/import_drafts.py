"""An uploaded file waiting between the wizard's steps (preview, mapping) until a job takes it.

The file sits in the media storage under a random token that only the uploader's session
knows; nothing is an ImportJob until the user starts a dry run or the import.
"""

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import IO

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.text import get_valid_filename

SESSION_KEY = "crm_import_drafts"
FOLDER = "import-drafts"
KEPT_PER_SESSION = 3  # older drafts of the same session are deleted when a new one arrives
ABANDONED_AFTER = timedelta(days=1)  # drafts of any session, left half-way through the wizard


@dataclass(frozen=True)
class Draft:
    token: str
    path: str
    filename: str
    resource: str
    format: str

    def open(self) -> IO[bytes]:
        return default_storage.open(self.path, "rb")


def draft_save(*, request: HttpRequest, upload: UploadedFile, resource: str, format: str) -> Draft:
    _purge_abandoned()
    token = secrets.token_urlsafe(16)
    filename = upload.name or "import"
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
    if stored is None or not default_storage.exists(stored["path"]):
        raise Http404("No such upload in this session.")
    return Draft(**stored)


def draft_discard(*, request: HttpRequest, draft: Draft) -> None:
    drafts = dict(request.session.get(SESSION_KEY, {}))
    drafts.pop(draft.token, None)
    request.session[SESSION_KEY] = drafts
    _delete_file(draft.path)


def _purge_abandoned() -> None:
    try:
        _folders, names = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return
    cutoff = timezone.now() - ABANDONED_AFTER
    for name in names:
        path = f"{FOLDER}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            _delete_file(path)


def _delete_file(path: str) -> None:
    if default_storage.exists(path):
        default_storage.delete(path)
