"""A service's ValidationError in the one field-keyed shape every door reports."""

from django.core.exceptions import ValidationError
from rest_framework.settings import api_settings

from customers.errors import NON_FIELD, django_errors_as_dict


def test_field_errors_keep_their_field_and_all_becomes_the_non_field_key():
    error = ValidationError({"email": ["Enter a valid email address."], "__all__": ["Name one."]})

    assert django_errors_as_dict(error) == {
        "email": ["Enter a valid email address."],
        NON_FIELD: ["Name one."],
    }


def test_an_error_without_a_field_goes_under_the_non_field_key():
    assert django_errors_as_dict(ValidationError("Not now.")) == {NON_FIELD: ["Not now."]}


def test_the_non_field_key_is_the_one_the_rest_api_uses():
    assert api_settings.NON_FIELD_ERRORS_KEY == NON_FIELD
