"""Stored JSON reads back as the json module reads it."""

import json

import pytest

from customers import stored_json


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"score": 9, "ratio": 0.1, "tier": "金", "ok": True, "gone": None, "tags": ["a", "b"]},
        {"limit": 2**53 - 1, "floor": -(2**53) + 1},
        {"token": "gAAAAABp" + "x" * 120, "nested": {"deep": [1, [2, [3]]]}},
    ],
)
def test_what_we_store_reads_back_unchanged(value):
    text = json.dumps(value)

    assert stored_json.loads(text) == value == json.loads(text)


@pytest.mark.parametrize("text", ['{"x": NaN}', '{"x": Infinity}', '{"x": "\\ud800"}'])
def test_what_only_the_json_module_reads_is_read_by_it(text):
    assert repr(stored_json.loads(text)) == repr(json.loads(text))


def test_text_that_is_not_json_is_an_error_as_before():
    with pytest.raises(json.JSONDecodeError):
        stored_json.loads("{not json")
