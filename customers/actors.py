"""Who reads or writes a record, and through which door: one small value every door builds
in one line and hands to the selectors (and the services).

What a read may do is decided here, once, from the user's permissions and the API key's
scopes (``pii.can_view_pii``, ``pii:read``). Record visibility (own / team / all) and field
history will read the actor here too, so each is added in one place instead of once per door.
"""

import enum
from dataclasses import dataclass
from typing import Any

from customers import pii


class Door(enum.StrEnum):
    REST = "rest"
    SOAP = "soap"
    WEB = "web"
    ADMIN = "admin"
    IMPORT = "import"
    SYNC = "sync"
    EXPORT = "export"
    FEED = "feed"
    WEBHOOK = "webhook"
    COMMAND = "command"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """`may_read_pii`: personal data is decrypted for this actor, and records may be looked
    up by it (an exact email, a phone, a PII custom field): a match or its absence would tell
    whether a person exists (``pii.check_pii_lookup``)."""

    door: Door
    user: Any = None
    api_key_id: int | None = None
    import_job_id: int | None = None
    connection_id: int | None = None
    may_read_pii: bool = False

    @classmethod
    def for_user(cls, user: Any, *, door: Door) -> "Actor":
        """A signed-in person (the web UI, the admin, a REST session)."""
        return cls(door=door, user=user, may_read_pii=pii.can_view_pii(user))

    @classmethod
    def for_request(cls, request: Any, *, door: Door = Door.WEB) -> "Actor":
        """The person behind a Django request's session (web UI or admin). A REST request
        may carry an API key: build its actor with ``integrations.api_auth.request_actor``."""
        return cls.for_user(getattr(request, "user", None), door=door)

    @classmethod
    def for_api_key(cls, api_key: Any, *, door: Door) -> "Actor":
        """A partner system through its key (REST or SOAP): personal data needs both the
        user's ``view_pii`` and the key's ``pii:read``."""
        return cls(
            door=door,
            user=api_key.user,
            api_key_id=api_key.pk,
            may_read_pii=pii.key_can_view_pii(api_key.user, api_key.scopes),
        )

    @classmethod
    def for_import_job(cls, job: Any) -> "Actor":
        """A file import writes as the job's creator; it reads no personal data back."""
        return cls(door=Door.IMPORT, user=job.created_by, import_job_id=job.pk)

    @classmethod
    def for_connection(cls, connection: Any) -> "Actor":
        """A connector sync, on behalf of the connection (and whoever set it up)."""
        user = getattr(connection, "created_by", None)
        return cls(door=Door.SYNC, user=user, connection_id=connection.pk)

    @classmethod
    def system(cls, *, door: Door = Door.SYSTEM, may_read_pii: bool = True) -> "Actor":
        """The application itself (a management command, a job whose rights were checked
        when it was created): shell access already holds the keys."""
        return cls(door=door, may_read_pii=may_read_pii)


SYSTEM = Actor.system()
