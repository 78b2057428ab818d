"""What every SOAP operation shares: the caller, paging and times."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.soap import auth
from integrations.soap.faults import InvalidRequest
from integrations.soap.types import Id

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

RequiredId = Id(min_occurs=1, nillable=False)


def caller(ctx) -> auth.Caller:
    """Set by the application before any operation runs (see ``app.CrmApplication``)."""
    return ctx.udc


def page_bounds(offset: int | None, limit: int | None) -> tuple[int, int]:
    offset = 0 if offset is None else offset
    limit = DEFAULT_LIMIT if limit is None else limit
    errors = {}
    if offset < 0:
        errors["offset"] = _("Must be 0 or more.")
    if not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = _("Must be between 1 and %(limit)d.") % {"limit": MAX_LIMIT}
    if errors:
        raise InvalidRequest(errors)
    return offset, limit


def as_utc(moment: datetime | None, *, field: str = "updated_since") -> datetime | None:
    """A time without an offset is taken as UTC."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise InvalidRequest({field: _("The time is out of range.")}) from None
