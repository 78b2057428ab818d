"""Files from other CRMs name a contact's or a deal's company (and a deal's contact) instead of
giving our ids: with `create_related` the import creates what no record matches, counts and
lists it on the job, and a re-run creates nothing more."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers import selectors
from customers.models import ChangeEvent, Company, Contact, Deal
from integrations.connectors import Connector
from integrations.formats import Record
from integrations.imports import services as imports
from integrations.models import ImportCreatedRecord, ImportJob, ImportRowError, JobStatus
from integrations.services import sync
from tests.factories import CompanyFactory, ContactFactory, UserFactory
from tests.integrations.test_imports import run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

SALESFORCE = (
    "Contact ID,First Name,Last Name,Account Name,Email\n"
    "003A,Wei,Zhang,Company 0,wei@example.cn\n"
    "003B,Ann,Lee,company 0,ann@example.com\n"
    "003C,Bo,Li,Company 1,bo@example.com\n"
)


def row_messages(job):
    return list(
        ImportRowError.objects.filter(job=job).values_list("row_number", "field", "message")
    )


def test_without_the_option_a_company_named_by_no_record_fails_the_row_and_creates_nothing():
    job = run(SALESFORCE)

    assert (job.status, job.rows_failed, job.companies_created) == (JobStatus.FAILED, 3, 0)
    assert row_messages(job)[0] == (2, "company", "No company is named 'Company 0'.")
    assert Company.objects.count() == 0


def test_a_salesforce_export_creates_each_named_company_once_and_links_its_contacts():
    job = run(SALESFORCE, create_related=True)

    assert (job.status, job.rows_created, job.companies_created) == (JobStatus.SUCCEEDED, 3, 2)
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Company 0", "Company 1"]
    zero = Company.objects.get(name="Company 0")  # the first spelling in the file
    assert set(Contact.objects.filter(company=zero).values_list("external_id", flat=True)) == {
        "003A",
        "003B",
    }
    listed = ImportCreatedRecord.objects.filter(job=job)
    assert sorted(listed.values_list("entity", "record_id", "row_number")) == sorted(
        [("company", zero.pk, 2), ("company", Company.objects.get(name="Company 1").pk, 4)]
    )
    created = ChangeEvent.objects.filter(type="company.created")
    assert sorted(created.values_list("record_id", flat=True)) == sorted(
        Company.objects.values_list("pk", flat=True)
    )


def test_a_rerun_of_the_same_file_creates_no_company():
    run(SALESFORCE, create_related=True)

    again = run(SALESFORCE, create_related=True)

    assert (again.companies_created, again.rows_failed) == (0, 0)
    assert again.rows_unchanged == 3
    assert Company.objects.count() == 2
    assert not ImportCreatedRecord.objects.filter(job=again).exists()


def test_a_company_matches_by_exact_name_whatever_the_case_and_by_domain():
    acme = CompanyFactory(name="ACME Trading", domain="acme.example")
    other = CompanyFactory(name="Globex", domain="")

    job = run(
        "First Name,Company Name,Company Domain Name\n"
        "A,acme trading,\n"
        "B,Acme Trading Ltd.,https://www.ACME.example/about\n"
        "C,GLOBEX,\n"
        "D,Globex Europe,\n",
        create_related=True,
    )

    assert (job.rows_created, job.companies_created) == (4, 1)
    company_of = dict(Contact.objects.values_list("first_name", "company__name"))
    assert company_of == {
        "A": acme.name,
        "B": acme.name,
        "C": other.name,
        "D": "Globex Europe",
    }


def test_hubspot_and_chinese_headers_name_the_company():
    job = run("First Name,Company,Email\nA,Initech,a@example.com\n", create_related=True)
    chinese = run("名,公司\n伟,腾达科技\n", create_related=True)

    assert (job.companies_created, chinese.companies_created) == (1, 1)
    assert Contact.objects.get(first_name="A").company.name == "Initech"
    assert Contact.objects.get(first_name="伟").company.name == "腾达科技"


def test_a_company_that_cannot_be_created_fails_its_rows_with_the_reason():
    job = run(f"first_name,account name\nA,{'x' * 300}\nB,Fine Ltd\n", create_related=True)

    assert (job.rows_created, job.rows_failed, job.companies_created) == (1, 1, 1)
    ((number, field, message),) = row_messages(job)
    assert (number, field) == (2, "company") and message.startswith("Could not create the company")


def test_deals_create_their_company_and_their_contact_by_email():
    known = ContactFactory(email="known@example.com")

    job = run(
        "Deal Name,Amount,Account Name,Contact Email\n"
        "Expansion,100,Initech,new.buyer@example.com\n"
        "Renewal,50,initech,known@example.com\n",
        resource="deals",
        filename="deals.csv",
        create_related=True,
    )

    assert (job.rows_created, job.companies_created, job.contacts_created) == (2, 1, 1)
    buyer = selectors.find_contact_by_email("new.buyer@example.com")
    deals = {deal.name: deal for deal in Deal.objects.select_related("company")}
    assert deals["Expansion"].primary_contact_id == buyer.pk
    assert deals["Renewal"].primary_contact_id == known.pk
    assert deals["Expansion"].company == deals["Renewal"].company
    assert sorted(ImportCreatedRecord.objects.values_list("entity", flat=True)) == [
        "company",
        "contact",
    ]


def test_a_dry_run_counts_the_companies_it_would_create_and_creates_none():
    job = run(SALESFORCE, create_related=True, dry_run=True)

    assert (job.rows_created, job.companies_created) == (3, 2)
    assert Company.objects.count() == 0
    assert not ImportCreatedRecord.objects.exists()


def test_the_option_costs_no_query_when_the_file_names_no_company(django_assert_num_queries):
    def contacts(prefix):
        rows = "".join(f"{prefix}{n},{prefix}{n}@example.com\n" for n in range(20))
        return "first_name,email\n" + rows

    with CaptureQueriesContext(connection) as plain:
        run(contacts("a"))
    with django_assert_num_queries(len(plain)):
        run(contacts("b"), create_related=True)

    assert Contact.objects.count() == 40


class CrmContactsConnector(Connector):
    """Another CRM's contacts, naming their company by name."""

    name = "crm_contacts"

    def records(self, cursor):
        yield Record(1, {"external_id": "003A", "first_name": "Wei", "account_name": "Initech"})
        yield Record(2, {"external_id": "003B", "first_name": "Ann", "account_name": "INITECH"})
        return None


@pytest.mark.parametrize("create_related", [False, True])
def test_a_connection_passes_create_related_to_its_runs(settings, create_related):
    settings.CRM_CONNECTORS = {"crm_contacts": f"{__name__}.CrmContactsConnector"}
    connection = sync.connection_create(
        name="Old CRM",
        connector="crm_contacts",
        config={},
        resource="contacts",
        create_related=create_related,
    )

    run = sync.sync_run(connection.pk)
    job = ImportJob.objects.get(pk=run.import_job_id)

    assert (job.create_related, job.companies_created) == (create_related, int(create_related))
    assert (run.created, run.failed) == ((2, 0) if create_related else (0, 2))


def test_the_import_command_creates_related_records_when_asked(tmp_path):
    path = tmp_path / "salesforce.csv"
    path.write_text(SALESFORCE, encoding="utf-8")

    stderr = io.StringIO()
    call_command("import_data", str(path), "--resource=contacts", "--create-related", stderr=stderr)

    assert Company.objects.count() == 2
    assert "2 companies and 0 contacts created because no record matched." in stderr.getvalue()


def test_naming_deals_contacts_by_email_needs_the_right_to_look_people_up():
    deals = b"Deal Name,Contact Email\nExpansion,known@example.com\n"
    user = UserFactory()  # may add the records, not read personal data
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_company", "add_contact"])
    )

    with pytest.raises(ValidationError) as refused:
        imports.import_create(
            user=user,
            file=io.BytesIO(deals),
            filename="deals.csv",
            resource="deals",
            create_related=True,
            enqueue=False,
        )

    assert set(refused.value.message_dict) == {"mapping"}
    assert not ImportJob.objects.exists()


def test_a_rerun_finds_companies_whose_names_have_capital_letters_beyond_ascii():
    file = "First Name,Account Name\nA,ÖKO Handel GmbH\nB,ÉCOLE Française\n"
    run(file, create_related=True)

    again = run(file, create_related=True)

    assert (again.companies_created, again.rows_failed) == (0, 0)
    assert Company.objects.count() == 2


def test_a_row_the_mode_skips_creates_no_company():
    ContactFactory(external_id="003A", first_name="Wei")

    inserted = run(
        "Contact ID,First Name,Account Name\n003A,Wei,Kept Out Ltd\n003Z,Zed,New Ltd\n",
        mode="insert",
        create_related=True,
    )
    updated = run(
        "Contact ID,First Name,Account Name\n003A,Wei,Moved Ltd\n003Q,Q,Ghost Ltd\n",
        mode="update",
        create_related=True,
    )

    assert (inserted.rows_skipped, inserted.companies_created) == (1, 1)
    assert (updated.rows_skipped, updated.companies_created) == (1, 1)
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Moved Ltd", "New Ltd"]
    assert Contact.objects.get(external_id="003A").company.name == "Moved Ltd"


def test_a_row_repeating_an_earlier_rows_key_creates_no_company():
    job = run(
        "Contact ID,First Name,Account Name\n003A,Wei,First Ltd\n003A,Wei,Second Ltd\n",
        create_related=True,
    )

    assert (job.rows_created, job.rows_skipped, job.companies_created) == (1, 1, 1)
    assert list(Company.objects.values_list("name", flat=True)) == ["First Ltd"]


def test_a_row_rejected_for_its_owner_creates_no_company():
    job = run("first_name,owner,account name\nA,nobody,Orphan Ltd\n", create_related=True)

    assert (job.rows_failed, job.companies_created) == (1, 0)
    assert (2, "owner", "Unknown user 'nobody'.") in row_messages(job)
    assert not Company.objects.exists()
