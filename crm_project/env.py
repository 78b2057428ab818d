"""Typed readers for configuration taken from environment variables."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated variable as a list, blanks dropped."""
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_groups(name: str, default: str, allowed: set[str]) -> list[str | list[str]]:
    """Comma-separated entries, each a word from `allowed` or several joined by `+`:
    "username,ip_address" is two entries, "username+ip_address" one of two words."""
    value = os.environ.get(name)
    text = default if value is None or not value.strip() else value
    groups: list[str | list[str]] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        words = [word.strip() for word in entry.split("+")]
        unknown = sorted(set(words) - allowed)
        if unknown:
            raise ImproperlyConfigured(
                f"{name}: unknown {', '.join(unknown)}; use {', '.join(sorted(allowed))}, "
                "joined by + or separated by commas."
            )
        groups.append(words[0] if len(words) == 1 else words)
    return groups
