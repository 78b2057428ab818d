"""An unknown custom field named on purpose is refused by every door, before anything is
written; a column a file merely carries is not named on purpose.

REST's body names custom fields explicitly (``{"custom_fields": {"planet": …}}``). A file's
columns are the file's own: the mapping step takes those it recognises and lists the rest as
ignored, which the preview shows before the import starts (a file exported from another CRM
has many such columns: refusing every row for them would make it unimportable). What a file
import or a connector has that is explicit is its mapping: a column mapped to a custom field
that does not exist refuses the job, naming the column and the field. So the cases
``*-custom-unknown`` of cases.py (a bare column) stay a documented difference, and this is the
like-for-like comparison."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from customers.actors import SYSTEM
from customers.models import Contact
from customers.services.custom_fields import custom_field_create
from integrations.imports import services as imports
from integrations.models import ImportJob
from integrations.services import sync
from tests.parity.conftest import in_a_worker

pytestmark = pytest.mark.django_db
RECORD = {"first_name": "Wei", "custom_fields": {"planet": "Mars"}}


@pytest.fixture(autouse=True)
def a_known_custom_field(db):
    custom_field_create(actor=SYSTEM, entity="contact", name="score", label="Score", type="integer")


def mapping_refusal(language: str) -> str:
    with translation.override(language):
        return _("Column %(column)s maps to unknown field %(field)s.") % {
            "column": repr("planet"),
            "field": repr("custom_fields.planet"),
        }


def test_rest_refuses_a_custom_field_that_does_not_exist(doors, language):
    accepted, errors = doors.rest("contacts", RECORD)

    assert not accepted
    with translation.override(language):
        assert errors == {"custom_fields.planet": [_("Unknown custom field.")]}


def test_a_file_column_mapped_to_an_unknown_custom_field_refuses_the_import(doors, language):
    with translation.override(language), pytest.raises(ValidationError) as refused:
        imports.import_create(
            user=doors.user,
            file=io.BytesIO(b"first_name,planet\nWei,Mars\n"),
            filename="contacts.csv",
            resource="contacts",
            mapping={"planet": "custom_fields.planet"},
            enqueue=False,
        )

    assert refused.value.message_dict == {"mapping": [mapping_refusal(language)]}
    assert not ImportJob.objects.exists() and not Contact.objects.exists()


def test_a_connector_mapping_to_an_unknown_custom_field_fails_its_run_writing_nothing(
    doors, language, tmp_path
):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "records.json").write_text(json.dumps([{"first_name": "Wei", "planet": "Mars"}]))
    connection = sync.connection_create(
        name="Drop",
        connector="file",
        config={"folder": str(drop)},
        resource="contacts",
        mapping={"planet": "custom_fields.planet"},
        user=doors.user,
    )

    with in_a_worker():
        run = sync.sync_run(connection.pk)

    assert run.status == "failed" and run.import_job_id is None
    assert mapping_refusal(language) in run.error_message  # in its creator's language
    assert not Contact.objects.exists()


def test_an_unmapped_column_is_listed_as_ignored_and_its_value_not_written(doors):
    text = b"first_name,custom_fields.planet\nWei,Mars\n"

    preview = imports.import_preview(file=io.BytesIO(text), resource="contacts")
    accepted, errors = doors.file_import("contacts", RECORD)

    assert preview.mapping.ignored == ["custom_fields.planet"]
    assert (accepted, errors) == (True, {})
