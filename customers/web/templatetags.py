"""Template helpers for the UI: money and query strings (`{% load crm_ui %}`)."""

from decimal import Decimal

from django import template
from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.translation import get_language, gettext

from customers.pii import masked as pii_masked

register = template.Library()

_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


@register.filter
def money(amount: Decimal | int | None, currency: str = "") -> str:
    """'¥1,234.50' in Chinese, 'CNY 1,234.50' in English. Thousands are grouped by three in
    both: Django's zh-hans format has no separator at all, and Chinese invoices and banking
    apps write amounts as ¥1,234.50."""
    if amount is None:
        return ""
    digits = numberformat.format(
        amount,
        get_format("DECIMAL_SEPARATOR"),
        decimal_pos=2,
        grouping=3,
        thousand_sep=",",
        force_grouping=True,
    )
    if (get_language() or "").startswith("zh") and currency in _SYMBOLS:
        return f"{_SYMBOLS[currency]}{digits}"
    return f"{currency} {digits}".strip()


@register.simple_tag(takes_context=True)
def query(context, **changes) -> str:
    """The current query string with some parameters replaced (None or "" removes them)."""
    params = context["request"].GET.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value not in (None, ""):
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def pii(context, record, field_name: str) -> str:
    """A personal-data field as this user may see it: decrypted with `view_pii`, else masked."""
    value = getattr(record, field_name)
    if context.get("can_view_pii"):
        return value or ""
    return pii_masked(field_name, value) or ""


@register.filter
def display(value) -> str:
    """A custom field value for reading: lists joined, booleans as words, empty as a dash."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)
