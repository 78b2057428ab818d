"""A company named by its name, compared like for like.

A file's "Company" column names a company (README, "Files from other CRMs"): REST's plain
``company`` key is an id, so the case ``contacts-company-wrong-type`` of cases.py stays a
documented difference. REST names a company by name in its batch endpoint
(``{"company": {"name": …}}``): there, a name no company has is refused under ``company`` as a
file's is, by the same rule, with the hint of how that door creates it."""

import json

import pytest
from django.utils import translation
from django.utils.translation import gettext as _

from tests.parity.conftest import Doors

pytestmark = pytest.mark.django_db


def batch_outcome(doors: Doors, record: dict) -> tuple[bool, dict]:
    response = doors.api.post(
        "/api/v1/contacts/batch/",
        json.dumps([record]),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=doors.language,
    )
    (result,) = response.json()["results"]
    return result["status"] != "error", result.get("errors") or {}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_company_name_no_company_has_is_refused_by_the_batch_and_a_file_alike(
    user, language, tmp_path
):
    doors = Doors(user, language, tmp_path)
    with translation.override(language):
        same_rule = _("No company is named %(name)s.") % {"name": repr("Initech")}

    rest = batch_outcome(doors, {"first_name": "Wei", "company": {"name": "Initech"}})
    by_file = doors.file_import("contacts", {"first_name": "Wei", "company": "Initech"})
    by_sync = doors.connector_sync("contacts", {"first_name": "Wei", "company": "Initech"})

    assert by_file == by_sync == (False, {"company": [same_rule]})
    accepted, errors = rest
    assert not accepted and list(errors) == ["company"]
    # the batch adds how its door creates the company (create_related=true)
    assert errors["company"][0].startswith(same_rule.rstrip(".。"))
