"""Contact screens: list, search, filters, detail, edit, inline activities, bulk actions."""

import csv
import io

import pytest
from django.urls import reverse

from customers.actors import SYSTEM
from customers.models import Activity, Contact, CustomField, format_full_name
from customers.services import custom_fields
from customers.web import common, listing
from tests.factories import CompanyFactory, ContactFactory, SalesUserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["web:contact-list", "web:contact-create"])
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_a_user_without_the_role_gets_403(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(reverse("web:contact-list")).status_code == 403


def test_list_shows_decrypted_pii_to_a_user_with_view_pii(sales_client):
    ContactFactory(first_name="Wei", last_name="Zhang", email="zhang.wei@example.cn")
    body = sales_client.get(reverse("web:contact-list")).content.decode()
    assert "zhang.wei@example.cn" in body


def test_list_and_detail_mask_pii_without_view_pii(no_pii_client):
    contact = ContactFactory(email="zhang.wei@example.cn", phone="+86 138 0013 1234")
    for url in (reverse("web:contact-list"), reverse("web:contact-detail", args=[contact.pk])):
        body = no_pii_client.get(url).content.decode()
        assert "zhang.wei@example.cn" not in body
        assert "z***@example.cn" in body
        assert "0013 1234" not in body and "1234" in body


def test_search_finds_a_chinese_full_name_written_together(sales_client):
    ContactFactory(first_name="伟", last_name="张")
    ContactFactory(first_name="芳", last_name="王")
    body = sales_client.get(reverse("web:contact-list"), {"q": "张伟"}).content.decode()
    assert "张伟" in body and "王芳" not in body


def test_search_by_exact_email_and_phone_goes_through_the_blind_index(sales_client):
    wanted = ContactFactory(first_name="Ada", email="ada@example.com", phone="+86 138 0000 0001")
    ContactFactory(first_name="Bob", email="bob@example.com", phone="+86 138 0000 0002")
    for term in ("ADA@example.com", "13800000001"):
        response = sales_client.get(reverse("web:contact-list"), {"q": term})
        rows = response.context["page"].rows
        assert [row.pk for row in rows] == [wanted.pk]


def test_filters_by_owner_lifecycle_and_tag(sales_client, sales_user):
    mine = ContactFactory(owner=sales_user, lifecycle_stage="customer", tags=["vip"])
    ContactFactory(owner=sales_user, lifecycle_stage="lead", tags=["vip"])
    ContactFactory(lifecycle_stage="customer", tags=["VIP"])
    response = sales_client.get(
        reverse("web:contact-list"), {"owner": "me", "lifecycle_stage": "customer", "tag": "VIP"}
    )
    assert [row.pk for row in response.context["page"].rows] == [mine.pk]


def test_filters_by_a_custom_choice_field(sales_client):
    custom_fields.custom_field_create(
        actor=SYSTEM,
        entity="contact",
        name="tier",
        label="Tier",
        type="choice",
        choices=["gold", "silver"],
    )
    gold = ContactFactory(custom_fields={"tier": "gold"})
    ContactFactory(custom_fields={"tier": "silver"})
    response = sales_client.get(reverse("web:contact-list"), {"cf_tier": "gold"})
    assert [row.pk for row in response.context["page"].rows] == [gold.pk]
    assert "Tier" in response.content.decode()  # shown as a column and a filter


def test_pages_walk_every_contact_once_in_name_order_both_ways(sales_client, monkeypatch):
    monkeypatch.setattr(listing, "PAGE_SIZE", 3)
    made = [ContactFactory() for _ in range(7)]
    expected = [c.pk for c in sorted(made, key=lambda c: (c.last_name, c.first_name, c.pk))]
    pages, params = [], {"sort": "name"}
    while True:
        page = sales_client.get(reverse("web:contact-list"), params).context["page"]
        pages.append([row.pk for row in page.rows])
        if not page.next_cursor:
            break
        params = {"sort": "name", "after": page.next_cursor}
    assert [pk for rows in pages for pk in rows] == expected
    assert page.count == 7 and not page.count_capped

    # And back from the last page to the first.
    back = sales_client.get(
        reverse("web:contact-list"), {"sort": "name", "before": page.previous_cursor}
    ).context["page"]
    assert [row.pk for row in back.rows] == pages[-2]


def test_the_count_is_capped_instead_of_counting_every_row(sales_client, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_CAP", 4)
    for _ in range(6):
        ContactFactory()
    page = sales_client.get(reverse("web:contact-list")).context["page"]
    assert page.count_capped and page.count == 4
    assert "More than 4 matches" in sales_client.get(reverse("web:contact-list")).content.decode()


def test_a_tampered_page_link_shows_a_message_not_a_500(sales_client):
    ContactFactory()
    response = sales_client.get(reverse("web:contact-list"), {"after": "not-a-cursor"})
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()


def test_create_contact_through_the_form(sales_client, sales_user):
    company = CompanyFactory(name="Acme")
    response = sales_client.post(
        reverse("web:contact-create"),
        {
            "first_name": "伟",
            "last_name": "张",
            "email": "wei@example.cn",
            "company": company.pk,
            "lifecycle_stage": "lead",
            "owner": sales_user.pk,
            "tags": "vip, beijing",
        },
    )
    contact = Contact.objects.get(last_name="张")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:contact-detail", args=[contact.pk])
    assert contact.email == "wei@example.cn" and contact.company == company
    assert sorted(tag.name for tag in contact.tags.all()) == ["beijing", "vip"]


def test_service_errors_show_next_to_their_field_and_nothing_is_saved(sales_client):
    ContactFactory(email="taken@example.com")
    before = Contact.objects.count()
    response = sales_client.post(
        reverse("web:contact-create"),
        {"first_name": "X", "email": "TAKEN@example.com", "lifecycle_stage": "lead"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["email"]
    body = response.content.decode()
    # The input points at its error message, which screen readers announce.
    assert 'aria-invalid="true" aria-describedby="id_email_error"' in body
    assert '<ul class="errors" id="id_email_error" role="alert">' in body
    assert Contact.objects.count() == before


def test_a_contact_needs_a_name_email_or_phone(sales_client):
    response = sales_client.post(reverse("web:contact-create"), {"lifecycle_stage": "lead"})
    assert response.status_code == 422
    assert response.context["form"].non_field_errors()
    assert Contact.objects.count() == 0


def test_custom_fields_render_by_type_and_are_validated_by_the_service(sales_client):
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="birthday", label="Birthday", type="date"
    )
    custom_fields.custom_field_create(
        actor=SYSTEM,
        entity="contact",
        name="tier",
        label="Tier",
        type="choice",
        choices=["gold"],
        required=True,
    )
    form_page = sales_client.get(reverse("web:contact-create")).content.decode()
    assert 'type="date" name="cf_birthday"' in form_page
    assert '<select name="cf_tier"' in form_page

    response = sales_client.post(
        reverse("web:contact-create"),
        {"first_name": "Ada", "lifecycle_stage": "lead", "cf_birthday": "1990-02-30"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors.keys() >= {"cf_birthday", "cf_tier"}

    sales_client.post(
        reverse("web:contact-create"),
        {
            "first_name": "Ada",
            "lifecycle_stage": "lead",
            "cf_birthday": "1990-02-03",
            "cf_tier": "gold",
        },
    )
    contact = Contact.objects.get(first_name="Ada")
    assert contact.custom_fields == {"birthday": "1990-02-03", "tier": "gold"}
    detail = sales_client.get(reverse("web:contact-detail", args=[contact.pk])).content.decode()
    assert "Birthday" in detail and "1990-02-03" in detail


def test_editing_without_view_pii_never_shows_or_erases_personal_data(no_pii_client):
    contact = ContactFactory(first_name="Ada", email="ada@example.com")
    page = no_pii_client.get(reverse("web:contact-edit", args=[contact.pk])).content.decode()
    assert "ada@example.com" not in page and 'name="email"' not in page
    response = no_pii_client.post(
        reverse("web:contact-edit", args=[contact.pk]),
        {"first_name": "Adele", "last_name": contact.last_name, "lifecycle_stage": "prospect"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.first_name, contact.email) == ("Adele", "ada@example.com")


def test_log_an_activity_inline_with_htmx(sales_client, sales_user):
    contact = ContactFactory()
    response = sales_client.post(
        reverse("web:contact-log-activity", args=[contact.pk]),
        {"kind": "call", "subject": "Intro call", "body": "Went well"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Intro call" in response.content.decode()
    assert "<html" not in response.content.decode()  # only the panel is swapped
    activity = Activity.objects.get()
    assert (activity.contact, activity.author, activity.kind) == (contact, sales_user, "call")


def test_log_an_activity_without_javascript_redirects_and_errors_rerender(sales_client):
    contact = ContactFactory()
    url = reverse("web:contact-log-activity", args=[contact.pk])
    assert sales_client.post(url, {"kind": "note", "subject": "Note"}).status_code == 302
    bad = sales_client.post(url, {"kind": "note", "subject": ""})
    assert bad.status_code == 422
    assert bad.context["activity_form"].errors["subject"]
    assert Activity.objects.count() == 1


def test_bulk_assign_owner_and_add_tag(sales_client):
    new_owner = SalesUserFactory(username="zhou")
    first, second, untouched = ContactFactory(tags=["old"]), ContactFactory(), ContactFactory()
    url = reverse("web:contact-bulk")
    sales_client.post(
        url, {"action": "assign_owner", "owner": new_owner.pk, "ids": [first.pk, second.pk]}
    )
    sales_client.post(url, {"action": "add_tag", "tag": "Expo 2026", "ids": [first.pk, second.pk]})
    for contact in (first, second):
        contact.refresh_from_db()
        assert contact.owner == new_owner
    assert sorted(t.name for t in first.tags.all()) == ["Expo 2026", "old"]
    untouched.refresh_from_db()
    assert untouched.owner is None and not untouched.tags.exists()


def test_bulk_action_is_all_or_nothing(sales_client):
    # A field made required later applies from each record's next write on: this one will fail.
    invalid = ContactFactory()
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text"
    )
    valid = ContactFactory(custom_fields={"tier": "gold"})
    CustomField.objects.filter(name="tier").update(required=True)
    response = sales_client.post(
        reverse("web:contact-bulk"),
        {"action": "add_tag", "tag": "expo", "ids": [valid.pk, invalid.pk]},
        follow=True,
    )
    assert "Nothing was changed" in response.content.decode()
    assert not valid.tags.exists() and not invalid.tags.exists()


def test_bulk_action_asks_for_what_it_needs(sales_client):
    contact = ContactFactory()
    response = sales_client.post(
        reverse("web:contact-bulk"), {"action": "assign_owner", "ids": [contact.pk]}, follow=True
    )
    assert "Choose the new owner" in response.content.decode()


def test_export_selected_is_a_csv_of_just_those_rows_with_pii_masked(no_pii_client):
    chosen = ContactFactory(first_name="Ada", email="ada@example.com")
    ContactFactory(first_name="Bob")
    response = no_pii_client.post(
        reverse("web:contact-bulk"), {"action": "export", "ids": [chosen.pk]}
    )
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["first_name"] for row in rows] == ["Ada"]
    assert rows[0]["email"] == "a***@example.com"


def test_chinese_names_sort_by_family_name_and_keep_their_order_across_pages(
    sales_client, monkeypatch
):
    """On PostgreSQL with ICU the order is pinyin (李 li, 王 wang, 张 zhang); elsewhere code
    point order. Either way every page continues exactly where the previous one ended."""
    monkeypatch.setattr(listing, "PAGE_SIZE", 2)
    names = [("伟", "张"), ("娜", "李"), ("芳", "王"), ("Ada", "Lovelace"), ("秀英", "王")]
    for first, last in names:
        ContactFactory(first_name=first, last_name=last)
    seen, params = [], {"sort": "name"}
    while True:
        page = sales_client.get(reverse("web:contact-list"), params).context["page"]
        seen.extend(row.full_name for row in page.rows)
        if not page.next_cursor:
            break
        params = {"sort": "name", "after": page.next_cursor}
    assert sorted(seen) == sorted(format_full_name(f, last) for f, last in names)
    chinese = [name for name in seen if name[0] in "张李王"]
    if listing._has_name_collation("default"):
        assert chinese == ["李娜", "王芳", "王秀英", "张伟"]
    else:
        assert chinese == sorted(chinese, key=lambda name: (name[0], name[1:]))


def test_a_search_with_too_many_matches_lists_the_first_ones_and_asks_to_narrow(
    sales_client, monkeypatch
):
    monkeypatch.setattr(common, "SEARCH_MATCH_CAP", 3)
    for _ in range(5):
        ContactFactory(last_name="王")
    ContactFactory(last_name="李")
    response = sales_client.get(reverse("web:contact-list"), {"q": "王"})
    rows = response.context["page"].rows
    assert len(rows) == 3 and all(row.last_name == "王" for row in rows)
    assert "add words to narrow the search" in response.content.decode()
