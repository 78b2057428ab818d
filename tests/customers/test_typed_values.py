"""The one reader per built-in value type, which REST's serializer fields and the file import
both call: what each accepts, and the words it refuses the rest with."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from customers.services.typed_values import read_boolean, read_date, read_decimal


@pytest.mark.parametrize(
    ("sent", "read"),
    [(True, True), ("yes", True), ("是", True), ("1", True), ("false", False), ("", False)],
)
def test_a_boolean_is_read_from_the_words_files_and_forms_use(sent, read):
    assert read_boolean(sent) is read


def test_a_word_that_is_no_boolean_is_refused_naming_it():
    with pytest.raises(ValidationError) as refused:
        read_boolean("maybe")
    assert refused.value.messages == ["Expected true or false, got 'maybe'."]


@pytest.mark.parametrize(
    ("sent", "read"),
    [("10.50", Decimal("10.50")), (3, Decimal(3)), ("1,200.50", Decimal("1200.50"))],
)
def test_a_number_is_read_with_or_without_thousands_separators(sent, read):
    assert read_decimal(sent) == read


@pytest.mark.parametrize("sent", ["lots", "1,5", "12,34,567", True, "NaN"])
def test_what_is_no_plain_number_is_refused_never_guessed(sent):
    with pytest.raises(ValidationError):
        read_decimal(sent)


def test_a_date_and_its_refusal_in_the_language_active():
    assert read_date("2027-01-31") == date(2027, 1, 31)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        read_date("soon")
    assert refused.value.messages[0] != "Expected a date as YYYY-MM-DD, got 'soon'."
    assert "'soon'" in refused.value.messages[0]
