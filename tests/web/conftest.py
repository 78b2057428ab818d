import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils.translation import trans_real

from customers import roles
from tests.factories import SalesUserFactory, UserFactory


@pytest.fixture(autouse=True, scope="session")
def compiled_translations() -> None:
    """The UI's Chinese strings come from .mo files compiled from the committed .po (`make
    install` does it too; a bare `pytest` on a fresh checkout must not depend on that)."""
    sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
    from compile_messages import compile_all

    if compile_all([Path(path) for path in settings.LOCALE_PATHS]):
        trans_real._translations = {}  # catalogues loaded before the .mo existed are stale


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
