"""Companies (full CRUD) and deals (get and search) over SOAP."""

from datetime import UTC, date, datetime
from decimal import Decimal

from zeep import xsd

from customers.models import Company, Deal
from tests.factories import CompanyFactory, ContactFactory, DealFactory
from tests.soap.support import raises_fault, rest_get


def test_company_crud(soap, make_soap_client, manager, sales_user, live_server):
    created = soap.service.CreateCompany(
        {
            "name": "阿里巴巴",
            "country": "cn",
            "phone": "+86 571 8502 2088",
            "tags": {"string": ["A"]},
        }
    )
    assert (created.name, created.country) == ("阿里巴巴", "CN")  # the service normalises
    rest = rest_get(live_server.url, sales_user, f"/companies/{created.id}/")
    assert (rest["name"], rest["country"], rest["phone"]) == ("阿里巴巴", "CN", created.phone)
    updated = soap.service.UpdateCompany({"id": created.id, "industry": "电商", "phone": xsd.Nil})
    assert (updated.industry, updated.phone, updated.name) == ("电商", None, "阿里巴巴")
    assert soap.service.GetCompany(created.id).industry == "电商"
    make_soap_client(manager).service.DeleteCompany(created.id)
    assert not Company.objects.filter(pk=created.id).exists()
    with raises_fault("Client.NotFound"):
        soap.service.GetCompany(created.id)


def test_company_upsert_and_lookup_by_external_id(soap):
    assert soap.service.UpsertCompany("erp-1", {"name": "Acme"}).created is True
    assert soap.service.UpsertCompany("erp-1", {"domain": "acme.cn"}).created is False
    got = soap.service.GetCompanyByExternalId("erp-1")
    assert (got.name, got.domain) == ("Acme", "acme.cn")
    assert Company.objects.filter(external_id="erp-1").count() == 1


def test_company_validation_names_the_field(soap):
    with raises_fault("Client.ValidationError") as fault:
        soap.service.CreateCompany({"name": "X", "country": "China"})
    assert "country" in fault.value.message
    assert not Company.objects.exists()


def test_company_search_by_query_and_phone(soap):
    wanted = CompanyFactory(name="腾讯", phone="+86 755 8601 3388")
    CompanyFactory(name="Other")
    assert [c.id for c in soap.service.SearchCompanies(query="腾讯").items] == [wanted.pk]
    assert soap.service.SearchCompanies(phone="+867558601 3388").items[0].id == wanted.pk


def test_get_deal(soap, default_pipeline):
    company = CompanyFactory(name="Acme")
    contact = ContactFactory()
    deal = DealFactory(
        name="大单",
        amount="12345.60",
        company=company,
        primary_contact=contact,
        expected_close_date="2026-12-31",
    )
    got = soap.service.GetDeal(deal.pk)
    assert (got.name, got.amount, got.currency) == ("大单", Decimal("12345.60"), "CNY")
    assert (got.company_id, got.company_name, got.primary_contact_id) == (
        company.pk,
        "Acme",
        contact.pk,
    )
    assert (got.pipeline_id, got.stage_id, got.status) == (
        default_pipeline.pk,
        deal.stage_id,
        "open",
    )
    assert got.expected_close_date == date(2026, 12, 31)
    with raises_fault("Client.NotFound"):
        soap.service.GetDeal(deal.pk + 1000)


def test_search_deals_by_status_company_and_time(soap, default_pipeline):
    company = CompanyFactory()
    mine = DealFactory(name="Mine", company=company)
    DealFactory(name="Other")
    old = DealFactory(name="Old", company=company)
    Deal.objects.filter(pk=old.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    page = soap.service.SearchDeals(
        company_id=company.pk, status="open", updated_since=datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert (page.total, [d.id for d in page.items]) == (1, [mine.pk])
    assert soap.service.SearchDeals(query="oth").items[0].name == "Other"


def test_deals_need_the_deals_scope(make_soap_client, sales_user, default_pipeline):
    deal = DealFactory()
    with raises_fault("Client.PermissionDenied"):
        make_soap_client(sales_user, ["contacts:read"]).service.GetDeal(deal.pk)
