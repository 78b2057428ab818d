"""CRM to CRM: instance B mirrors instance A's contacts through A's change feed. A runs as
its own server process with its own database and its own keys; after creates, edits, merges
and deletes on A, B converges exactly.

Runs on SQLite in `make test` and on PostgreSQL in `make test-integration`.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.db import connection as db_connection

from customers.models import Contact
from integrations.services import sync
from tests.workers import BASE_DIR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class Instance:
    """Another CRM: a database of its own, migrated, served by gunicorn on 127.0.0.1."""

    def __init__(self, tmp_path: Path) -> None:
        self.database_url, self._drop = _fresh_database(tmp_path)
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm_project.settings",
            "DATABASE_URL": self.database_url,
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "CRM_VAR_DIR": str(tmp_path / "a-var"),
            "CELERY_BROKER_URL": "memory://",
        }
        self._manage("migrate", "--noinput")
        self.port = _free_port()
        self.log = open(tmp_path / "a-server.log", "w")  # noqa: SIM115 (closed in stop)
        self.server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "crm_project.wsgi:application"]
            + ["--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        _wait_for_http(f"{self.url}/admin/login/")

    def run(self, code: str) -> str:
        """Run Python on A (Django set up), returning what it printed."""
        script = "import django\ndjango.setup()\n" + textwrap.dedent(code)
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def _manage(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=20)
        self.log.close()
        self._drop()


def _fresh_database(tmp_path: Path):
    if db_connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'a.sqlite3'}", lambda: None
    name = f"crm_mirror_a_{uuid.uuid4().hex[:10]}"
    with db_connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    settings_dict = db_connection.settings_dict
    url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or '127.0.0.1'}"
    url += f":{settings_dict['PORT'] or 5432}/{name}"

    def drop() -> None:
        with db_connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer")


FIELDS = ("first_name", "last_name", "title", "email", "phone", "lifecycle_stage")


def contacts_on_a(a: Instance) -> dict[str, dict]:
    printed = a.run(
        f"""
        import json
        from customers.models import Contact
        rows = {{
            str(c.pk): {{**{{f: getattr(c, f) for f in {FIELDS!r}}},
                        "tags": sorted(t.name for t in c.tags.all())}}
            for c in Contact.objects.prefetch_related("tags")
        }}
        print(json.dumps(rows, ensure_ascii=False))
        """
    )
    return json.loads(printed)


def contacts_on_b() -> dict[str, dict]:
    return {
        c.external_id: {
            **{f: getattr(c, f) for f in FIELDS},
            "tags": sorted(t.name for t in c.tags.all()),
        }
        for c in Contact.objects.prefetch_related("tags")
    }


@pytest.fixture
def instance_a(tmp_path):
    a = Instance(tmp_path)
    yield a
    a.stop()


def test_b_mirrors_a_through_its_change_feed_and_converges_after_every_kind_of_change(
    instance_a, settings
):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    a = instance_a
    raw_key = a.run(
        """
        from django.contrib.auth.models import Group, User
        from integrations.services.api_keys import api_key_create
        user = User.objects.create_user("mirror")
        user.groups.add(Group.objects.get(name="sales"))
        _, raw = api_key_create(user=user, name="B", scopes=["contacts:read", "pii:read"])
        print(raw)
        """
    ).strip()
    a.run(
        """
        from customers.services import contacts
        from customers.actors import SYSTEM
        people = [("伟", "张", "+86 138 0013 8000"), ("娜", "李", ""), ("芳", "王", ""),
                  ("Wei", "Zhang", ""), ("Anna", "Schmidt", "")]
        for n, (first, last, phone) in enumerate(people):
            contacts.contact_create(actor=SYSTEM, first_name=first, last_name=last,
                                    phone=phone or None, email=f"p{n}@example.com",
                                    tags=["vip"] if n < 2 else [])
        """
    )
    connection = sync.connection_create(
        name="A",
        connector="crm",
        config={"url": a.url, "api_key": raw_key},
        resource="contacts",
        mode="upsert",
        match_key="external_id",
    )

    first = sync.sync_run(connection.pk)

    assert (first.status, first.created) == ("succeeded", 5), first.error_message
    assert contacts_on_b() == contacts_on_a(a)

    a.run(
        """
        from customers.models import Contact
        from customers.services import contacts
        from customers.actors import SYSTEM
        people = list(Contact.objects.order_by("pk"))
        contacts.contact_update(actor=SYSTEM, contact=people[0],
                                data={"title": "总经理", "tags": ["vip", "新"]})
        contacts.contact_update(actor=SYSTEM, contact=people[1],
                                data={"email": "li.na@example.com"})
        contacts.contact_merge(actor=SYSTEM, primary=people[3], duplicates=[people[2]])
        contacts.contact_delete(actor=SYSTEM, contact=people[4])
        contacts.contact_create(actor=SYSTEM, first_name="New", last_name="Person",
                                email="new@example.com")
        """
    )

    second = sync.sync_run(connection.pk)

    assert second.status == "succeeded", second.error_message
    assert (second.created, second.deleted) == (1, 2)
    assert contacts_on_b() == contacts_on_a(a)
    third = sync.sync_run(connection.pk)
    assert (third.fetched, third.created, third.updated, third.deleted) == (0, 0, 0, 0)
