"""The UI's search box: an email or a phone number matches exactly through its blind index;
anything else searches names (Chinese full names written together, "张伟", included)."""

import re

from django.db.models import Q, QuerySet

from customers import crypto, selectors

_PHONE = re.compile(r"^\+?[\d\s\-().]{6,}$")


def kind_of(term: str) -> str:
    term = term.strip()
    if "@" in term:
        return "email"
    if _PHONE.match(term) and sum(ch.isdigit() for ch in term) >= 6:
        return "phone"
    return "text"


def contact_search(queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    kind = kind_of(term)
    if kind == "email":
        return queryset.filter(email_index=crypto.email_index(term))
    if kind == "phone":
        return queryset.filter(phone_index=crypto.phone_index(term))
    return selectors.contact_text_search(queryset, term)


def company_search(queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    if kind_of(term) == "phone":
        return queryset.filter(phone_index=crypto.phone_index(term))
    return queryset.filter(
        Q(name__icontains=term) | Q(domain__icontains=term) | Q(industry__icontains=term)
    )


def deal_search(queryset: QuerySet, term: str) -> QuerySet:
    term = term.strip()
    if not term:
        return queryset
    return queryset.filter(Q(name__icontains=term) | Q(company__name__icontains=term))
