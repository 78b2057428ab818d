import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import SalesUserFactory


def pytest_sessionstart(session) -> None:
    """The UI's Chinese strings come from .mo files compiled from the committed .po."""
    sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
    from compile_messages import compile_all

    compile_all([Path(path) for path in settings.LOCALE_PATHS])


@pytest.fixture
def sales_user(db):
    return SalesUserFactory(username="li.na", first_name="Na", last_name="Li")


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client
