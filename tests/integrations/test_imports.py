"""Bulk imports through the service, run in-process (the worker path has its own tests)."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError

from customers import selectors
from customers.actors import SYSTEM
from customers.crypto import FieldDecryptionError
from customers.custom_fields.values import decrypt
from customers.models import Company, Contact, Deal
from customers.services.custom_fields import custom_field_create
from integrations.imports import services as imports
from integrations.models import ImportJob, ImportRowError, JobStatus
from tests.factories import CompanyFactory, ContactFactory, SalesUserFactory
from tests.integrations.support import run_import as run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]


def errors(job):
    return list(ImportRowError.objects.filter(job=job).values_list("row_number", "field"))


def messages(job):
    return list(
        ImportRowError.objects.filter(job=job).values_list("row_number", "field", "message")
    )


def test_a_csv_with_common_headers_imports_contacts_with_pii_indexed():
    job = run(
        "First Name,Last Name,E-mail,Phone,Tags\n"
        "Wei,Zhang,zhang.wei@example.cn,+86 138 0013 8000,vip|partner\n"
        "Ann,Lee,ann@example.com,,\n"
    )

    assert (job.status, job.rows_total, job.rows_created, job.rows_failed) == (
        JobStatus.SUCCEEDED,
        2,
        2,
        0,
    )
    wei = selectors.find_contact_by_email("ZHANG.WEI@example.cn")
    assert wei.first_name == "Wei" and wei.phone == "+86 138 0013 8000"
    assert sorted(tag.name for tag in wei.tags.all()) == ["partner", "vip"]


def test_chinese_headers_and_a_gbk_file_from_excel():
    text = "名,姓,电子邮件,公司\n伟,张,wei@example.cn,\n"
    job = run(text.encode("gb18030"), match_key="email")

    assert job.rows_created == 1 and job.encoding.lower() in ("gb18030", "gbk", "gb2312")
    assert Contact.objects.get().last_name == "张"


def test_bad_rows_are_reported_and_good_rows_still_import():
    job = run(
        "first_name,email,lifecycle_stage\n"
        "A,a@example.com,lead\n"
        "B,not-an-email,lead\n"
        "C,c@example.com,zombie\n"
    )

    assert job.status == JobStatus.PARTIALLY_SUCCEEDED
    assert (job.rows_created, job.rows_failed) == (1, 2)
    assert errors(job) == [(3, "email"), (4, "lifecycle_stage")]
    report = ImportRowError.objects.get(job=job, row_number=3)
    assert report.values["email"] == "not-an-email"
    assert Contact.objects.count() == 1


def test_upsert_by_email_updates_and_reports_an_email_repeated_inside_the_file():
    existing = ContactFactory(email="Old@Example.com", title="Buyer")

    job = run(
        "email,title\nold@example.com,CEO\nnew@example.com,CTO\nNEW@example.com,CFO\n",
        match_key="email",
    )

    assert (job.rows_created, job.rows_updated, job.rows_skipped) == (1, 1, 1)
    assert Contact.objects.get(pk=existing.pk).title == "CEO"
    assert selectors.find_contact_by_email("new@example.com").title == "CTO"  # the first row
    assert messages(job) == [(4, "email", "Same email as row 3.")]


@pytest.mark.parametrize(
    ("match_key", "last_row"),
    [
        ("email", " P7@Example.COM,crm-x,Again"),  # the same email as the blind index sees it
        ("external_id", "px@example.com,crm-7,Again"),
    ],
)
def test_every_row_is_counted_when_the_match_key_repeats_inside_the_file(match_key, last_row):
    rows = [f"p{n}@example.com,crm-{n},Person {n}" for n in range(199)] + [last_row]

    job = run("email,external_id,first_name\n" + "\n".join(rows) + "\n", match_key=match_key)

    counted = job.rows_created + job.rows_updated + job.rows_unchanged + job.rows_skipped
    assert (job.rows_total, counted + job.rows_failed) == (200, 200)
    assert (job.rows_created, job.rows_skipped) == (199, 1)
    assert messages(job) == [(201, match_key, f"Same {match_key} as row 9.")]
    assert Contact.objects.count() == 199


@pytest.mark.parametrize(
    ("mode", "created", "updated", "skipped"),
    [("insert", 1, 0, 1), ("update", 0, 1, 1), ("upsert", 1, 1, 0)],
)
def test_the_mode_decides_what_happens_to_matches(mode, created, updated, skipped):
    ContactFactory(external_id="crm-1", first_name="Old")

    job = run("external_id,first_name\ncrm-1,New\ncrm-2,Fresh\n", mode=mode)

    assert (job.rows_created, job.rows_updated, job.rows_skipped) == (created, updated, skipped)


def test_a_dry_run_reports_what_would_happen_and_writes_nothing():
    ContactFactory(external_id="crm-1")

    job = run("external_id,first_name,email\ncrm-1,X,\ncrm-2,Y,bad\ncrm-3,Z,\n", dry_run=True)

    assert (job.rows_created, job.rows_updated, job.rows_failed) == (1, 1, 1)
    assert Contact.objects.count() == 1
    assert errors(job) == [(3, "email")]


def test_all_or_nothing_imports_nothing_when_a_row_fails():
    job = run("first_name,email\nA,a@example.com\nB,bad\n", all_or_nothing=True)

    assert job.status == JobStatus.FAILED and "nothing was imported" in job.error_message
    assert Contact.objects.count() == 0


def test_rerunning_a_job_creates_no_duplicates():
    job = run("external_id,first_name\ne1,A\ne2,B\n")
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, checkpoint=0)

    imports.import_run(job_id=job.pk)

    assert Contact.objects.count() == 2


def test_relations_resolve_by_id_external_id_or_name_in_one_query_each():
    acme = CompanyFactory(name="Acme", external_id="acc-1")
    owner = SalesUserFactory(username="li")

    job = run(
        "first_name,company.external_id,owner\nA,acc-1,li\nfirst_name,company name,owner\n".replace(
            "first_name,company name,owner\n", ""
        )
        + "B,acc-404,nobody\n"
    )

    assert job.rows_created == 1
    assert Contact.objects.get(first_name="A").company == acme
    assert Contact.objects.get(first_name="A").owner == owner
    assert set(errors(job)) == {(3, "company"), (3, "owner")}


def test_custom_fields_map_by_label_in_either_language():
    custom_field_create(
        actor=SYSTEM, entity="contact", name="tier", label="Tier", label_zh="等级", type="text"
    )
    custom_field_create(actor=SYSTEM, entity="contact", name="score", label="Score", type="integer")

    job = run("first_name,等级,Score\nA,gold,7\nB,silver,lots\n")

    assert Contact.objects.get(first_name="A").custom_fields == {"tier": "gold", "score": 7}
    assert errors(job) == [(3, "custom_fields.score")]


def test_json_and_xml_files_import_too():
    json_file = json.dumps([{"first_name": "J", "email": "j@example.com", "tags": ["a"]}])
    xml_file = (
        "<root><list-item><first_name>X</first_name><email>x@example.com</email>"
        "<tags><list-item>b</list-item></tags></list-item></root>"
    )

    assert run(json_file, filename="c.json").rows_created == 1
    assert run(xml_file, filename="c.xml").rows_created == 1
    assert Contact.objects.get(first_name="X").tags.get().name == "b"


def test_companies_and_deals_import():
    run("name,external_id,country\nAcme,acc-1,cn\n", resource="companies", filename="c.csv")
    job = run(
        "name,amount,company.external_id,stage,external_id\nPilot,1234.50,acc-1,Proposal,d-1\n",
        resource="deals",
    )

    assert job.rows_created == 1, list(ImportRowError.objects.values_list("message", flat=True))
    deal = Deal.objects.get()
    assert (str(deal.amount), deal.stage.name, deal.company.name) == ("1234.50", "Proposal", "Acme")
    assert Company.objects.get().country == "CN"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"\x00\x01\x02\x03binary" * 50, "file"),
        ("<!DOCTYPE x [<!ENTITY e 'boom'>]><root>&e;</root>", "file"),
    ],
)
def test_unreadable_files_are_refused_up_front(content, field):
    with pytest.raises(ValidationError) as excinfo:
        run(content, filename="x.csv")

    assert field in excinfo.value.message_dict
    assert ImportJob.objects.count() == 0


def test_files_over_the_size_limit_are_refused(settings):
    settings.IMPORT_MAX_BYTES = 10

    with pytest.raises(ValidationError, match="at most 10"):
        run("first_name\nA\nB\nC\n")


def test_unknown_mapping_targets_are_refused():
    with pytest.raises(ValidationError) as excinfo:
        run("Col\nA\n", mapping={"Col": "favourite_colour"})

    assert "mapping" in excinfo.value.message_dict


def test_explicit_mapping_wins_over_header_names():
    job = run("Name,Mail\nWei,w@example.com\n", mapping={"Name": "first_name", "Mail": "email"})

    assert job.rows_created == 1
    assert Contact.objects.get().first_name == "Wei"


def test_cancelling_a_queued_job():
    job = imports.import_create(
        user=None,
        file=io.BytesIO(b"first_name\nA\n"),
        filename="a.csv",
        resource="contacts",
        enqueue=False,
    )

    imports.import_cancel(job=job)
    imports.import_run(job_id=job.pk)

    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert Contact.objects.count() == 0


def test_records_with_different_keys_keep_every_column():
    content = json.dumps([{"first_name": "A"}, {"first_name": "B", "email": "b@example.com"}])

    run(content, filename="c.json")

    assert Contact.objects.get(first_name="B").email == "b@example.com"


def test_the_match_key_wins_over_another_systems_id_column():
    other = CompanyFactory(name="Z", external_id="z")

    run(f"id,external_id,name\n{other.pk},a,A\n", resource="companies")

    assert Company.objects.get(pk=other.pk).external_id == "z"
    assert Company.objects.get(external_id="a").name == "A"


PEOPLE = (
    "external_id,first_name,email,phone,address,tags,Badge\n"
    "e1,Wei,wei@example.cn,+86 138 0013 8000,1 Nanjing Road,vip|北京,B-1\n"
    "e2,Ann,ann@example.com,,2 Huaihai Road,,B-2\n"
)


@pytest.fixture
def badge():
    return custom_field_create(
        actor=SYSTEM, entity="contact", name="badge", label="Badge", type="text", pii=True
    )


def test_a_row_equal_to_the_stored_record_is_unchanged_and_not_written(badge):
    run(PEOPLE)
    stamps = dict(Contact.objects.values_list("external_id", "updated_at"))

    job = run(PEOPLE)

    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 0, 2)
    assert job.status == JobStatus.SUCCEEDED and errors(job) == []
    assert dict(Contact.objects.values_list("external_id", "updated_at")) == stamps


def test_records_stored_under_an_older_key_are_compared_by_their_plaintext(
    badge, settings, encryption_keys
):
    run(PEOPLE)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), encryption_keys[0]]

    job = run(PEOPLE.replace("2 Huaihai Road", "3 Huaihai Road"))

    assert (job.rows_updated, job.rows_unchanged) == (1, 1)
    assert Contact.objects.get(external_id="e2").address == "3 Huaihai Road"


def test_a_record_no_listed_key_opens_fails_the_import_and_changes_nothing(
    badge, settings, encryption_keys
):
    run(PEOPLE)
    stamps = dict(Contact.objects.values_list("external_id", "updated_at"))
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(FieldDecryptionError, match="contact's PII"):
        run(PEOPLE.replace("2 Huaihai Road", "3 Huaihai Road"))

    settings.FIELD_ENCRYPTION_KEYS = encryption_keys
    assert dict(Contact.objects.values_list("external_id", "updated_at")) == stamps
    assert ImportJob.objects.latest("pk").status == JobStatus.FAILED


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("1 Nanjing Road", "9 Nanjing Road"),  # encrypted, no blind index
        ("wei@example.cn", "WEI@example.cn"),  # same blind index, different plaintext
        ("vip|北京", "vip"),  # tags
        ("B-1", "B-9"),  # an encrypted custom field
    ],
)
def test_a_change_in_any_one_value_is_an_update(badge, old, new):
    run(PEOPLE)
    stamps = dict(Contact.objects.values_list("external_id", "updated_at"))

    job = run(PEOPLE.replace(old, new))

    assert (job.rows_updated, job.rows_unchanged) == (1, 1)
    wei = Contact.objects.get(external_id="e1")
    assert wei.updated_at > stamps["e1"]
    assert Contact.objects.get(external_id="e2").updated_at == stamps["e2"]
    stored = {
        wei.address,
        wei.email,
        "|".join(sorted(tag.name for tag in wei.tags.all())),
        decrypt(wei.custom_fields["badge"], name="badge"),
    }
    assert new in stored and old not in stored


def test_a_rejected_row_reports_its_custom_field_problems_too():
    custom_field_create(actor=SYSTEM, entity="contact", name="score", label="Score", type="integer")

    job = run("first_name,email,Score\nA,bad,lots\nB,b@example.com,many\nC,c@example.com,3\n")

    assert sorted(errors(job)) == [
        (2, "custom_fields.score"),
        (2, "email"),
        (3, "custom_fields.score"),
    ]
    assert (job.rows_created, job.rows_failed) == (1, 2)
