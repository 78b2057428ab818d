import pytest
from django.contrib.auth.models import Permission

from customers import roles
from tests.factories import SalesUserFactory, UserFactory


@pytest.fixture
def sales_user(db):
    return SalesUserFactory(username="li.na", first_name="Na", last_name="Li")


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


@pytest.fixture
def no_pii_user(db):
    """A salesperson with every permission of the role except `view_pii`."""
    user = UserFactory(username="intern")
    codenames = [name for name in roles.ROLE_PERMISSIONS[roles.SALES] if name != "view_pii"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def no_pii_client(client, no_pii_user):
    client.force_login(no_pii_user)
    return client
