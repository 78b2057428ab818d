"""Service errors in the one shape every door reports: field name -> list of messages.

Door-neutral, so SOAP, the REST API and the imports translate a service's ValidationError the
same way without importing each other.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError

#: Where an error that belongs to no one field goes. The REST API's
#: ``NON_FIELD_ERRORS_KEY`` is left at DRF's default, which is this (checked by a test).
NON_FIELD = "non_field_errors"


def django_errors_as_dict(error: DjangoValidationError) -> dict[str, list[str]]:
    """Field-keyed messages of a Django ValidationError; Django's ``__all__`` is `NON_FIELD`."""
    if hasattr(error, "error_dict"):
        return {
            (NON_FIELD if field == NON_FIELD_ERRORS else field): messages
            for field, messages in error.message_dict.items()
        }
    return {NON_FIELD: error.messages}
