import pytest

from customers.pii import can_view_pii, mask_address, mask_email, mask_phone
from tests.factories import ManagerFactory, SalesUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_sales_staff_work_contacts_but_cannot_delete_them():
    user = SalesUserFactory()

    assert user.has_perms(["customers.add_contact", "customers.change_deal", "customers.view_pii"])
    assert not user.has_perm("customers.delete_contact")
    assert not user.has_perm("customers.change_pipeline")


def test_managers_also_delete_and_shape_pipelines():
    user = ManagerFactory()

    assert user.has_perms(["customers.delete_contact", "customers.change_pipeline"])


def test_pii_is_for_those_with_view_pii_only():
    assert can_view_pii(SalesUserFactory())
    assert not can_view_pii(UserFactory())


def test_masks_keep_enough_to_recognise_but_not_to_use(settings):
    settings.PHONE_DEFAULT_COUNTRY_CODE = "86"

    assert mask_email("zhang.wei@example.com") == "z***@example.com"
    assert mask_phone("+86 138 0013 1234") == "+86 *** **** 1234"
    assert mask_phone("+44 20 7946 0958") == "+44 *** **** 0958"
    assert mask_address("1 Main St") == "***"
    assert mask_email(None) is None
