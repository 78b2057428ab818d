"""The UI's search box: an email or a phone number matches exactly through its blind index;
anything else searches names (Chinese full names written together, "张伟", included).

An exact email or phone search answers only users who may read personal data; anyone else
gets the search box's field error (and no rows), whether or not the person exists
(``pii.check_pii_lookup``)."""

from django.db.models import Q, QuerySet

from customers import crypto, pii, selectors

SEARCH_FIELD = "q"


def kind_of(term: str) -> str:
    term = term.strip()
    if pii.looks_like_email(term):
        return "email"
    if pii.looks_like_phone(term):
        return "phone"
    return "text"


def contact_search(queryset: QuerySet, term: str, *, may_look_up_pii: bool) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    kind = kind_of(term)
    if kind in ("email", "phone"):
        pii.check_pii_lookup([SEARCH_FIELD], allowed=may_look_up_pii)
    if kind == "email":
        return queryset.filter(email_index=crypto.email_index(term))
    if kind == "phone":
        return queryset.filter(phone_index=crypto.phone_index(term))
    return selectors.contact_text_search(queryset, term)


def company_search(queryset: QuerySet, term: str, *, may_look_up_pii: bool) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    if kind_of(term) == "phone":
        pii.check_pii_lookup([SEARCH_FIELD], allowed=may_look_up_pii)
        return queryset.filter(phone_index=crypto.phone_index(term))
    return queryset.filter(
        Q(name__icontains=term) | Q(domain__icontains=term) | Q(industry__icontains=term)
    )


def deal_search(queryset: QuerySet, term: str, *, may_look_up_pii: bool) -> QuerySet:
    """Deals hold no personal data to look up: `may_look_up_pii` is taken for a uniform call."""
    term = term.strip()
    if not term:
        return queryset
    return queryset.filter(Q(name__icontains=term) | Q(company__name__icontains=term))
