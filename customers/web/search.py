"""The UI's search box: an email or a phone number matches exactly through its blind index;
anything else searches names (Chinese full names written together, "张伟", included)."""

import re

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat

from customers import crypto

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
    # Family name first without a space (Chinese) and given name first with one (Latin).
    queryset = queryset.alias(
        _name_east=Concat("last_name", "first_name"),
        _name_west=Concat("first_name", Value(" "), "last_name"),
    )
    condition = Q()
    for word in term.split():
        condition &= (
            Q(_name_east__icontains=word)
            | Q(_name_west__icontains=word)
            | Q(title__icontains=word)
            | Q(company__name__icontains=word)
        )
    return queryset.filter(condition)


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
