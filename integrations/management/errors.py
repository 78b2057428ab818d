"""What the commands print for a service's ValidationError."""

from django.core.exceptions import ValidationError


def as_sentence(error: ValidationError) -> str:
    """``field: message; other: message`` on one line."""
    if hasattr(error, "error_dict"):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in error.message_dict.items())
    return " ".join(error.messages)
