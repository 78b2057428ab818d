"""The UI's search box: an email or a phone number matches exactly through its blind index;
anything else searches names (Chinese full names written together, "张伟", included).

The box only decides which filter a term is (``email``, ``phone`` or ``search``); the list
selector applies it for the actor, so an exact email or phone search answers only users who
may read personal data; anyone else gets the search box's field error (and no rows), whether
or not the person exists (``pii.check_pii_lookup``)."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from customers import pii, selectors
from customers.actors import Actor

SEARCH_FIELD = "q"


def kind_of(term: str) -> str:
    term = term.strip()
    if pii.looks_like_email(term):
        return "email"
    if pii.looks_like_phone(term):
        return "phone"
    return "text"


def contact_search(queryset: QuerySet, term: str, *, actor: Actor) -> QuerySet:
    return _search("contact", queryset, term, actor=actor, exact=("email", "phone"))


def company_search(queryset: QuerySet, term: str, *, actor: Actor) -> QuerySet:
    return _search("company", queryset, term, actor=actor, exact=("phone",))


def deal_search(queryset: QuerySet, term: str, *, actor: Actor) -> QuerySet:
    """Deals hold no personal data to look up: every term is words."""
    return _search("deal", queryset, term, actor=actor, exact=())


def _search(
    entity: str, queryset: QuerySet, term: str, *, actor: Actor, exact: tuple[str, ...]
) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    kind = kind_of(term)
    name = kind if kind in exact else "search"
    try:
        return selectors.LISTS[entity](actor=actor, filters={name: term}, queryset=queryset)
    except ValidationError as error:  # reported on the search box, whichever filter it was
        raise ValidationError({SEARCH_FIELD: error.messages}) from None
