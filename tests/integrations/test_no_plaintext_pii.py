"""No personal data in the clear at rest: a marker email, phone and address go in through every
door of a real instance, then every byte it keeps (the SQLite file and its write-ahead log, the
broker's folders, the media folder, the logs: all of its `var/`) is searched for them.

The instance is a fresh `var/` of its own: gunicorn with `DEBUG=false` and its access log, a
Celery worker on the filesystem broker, a webhook receiver outside it. The doors: REST in JSON,
XML and CSV with an `Idempotency-Key` (each replayed once), a batch, rejected writes that echo
their input, SOAP `CreateContact`, the web form, an import with one good row, one rejected for a
non-PII reason and one whose error quotes a PII custom field's value, its error report (REST in
three formats and web), an export to a file, and webhook deliveries.

Two files hold the markers on purpose: the uploaded import file and the export file asked for
with PII. They are found (which proves the search works), are owner-only, and are gone after
the retention purge; after it nothing anywhere holds a marker.
"""

import json
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet

from tests.workers import BASE_DIR, wait_for

pytestmark = pytest.mark.slow

RECEIVER = Path(__file__).with_name("webhook_receiver.py")
PYTHON = sys.executable
TIMEOUT = 30


class Markers:
    """One run's marker values, unique so no other data can match them."""

    def __init__(self) -> None:
        token = uuid.uuid4().hex
        self.email_stem = f"marker.pii.{token}"
        self.phone_digits = f"17{secrets.randbelow(10**9):09d}"  # a mobile: 11 digits
        self.phone = f"+86 {self.phone_digits[:3]} {self.phone_digits[3:7]} {self.phone_digits[7:]}"
        self.address_token = f"Marker{token[:12]}"
        self.address = f"88 {self.address_token} Road, 西安 碑林区"

    def email(self, door: str) -> str:
        return f"{self.email_stem}.{door}@example.org"

    def person(self, door: str) -> dict[str, str]:
        return {
            "first_name": f"Door {door}",
            "email": self.email(door),
            "phone": self.phone,
            "address": self.address,
        }

    def needles(self) -> dict[str, list[bytes]]:
        """Each marker in the forms it could be stored in: UTF-8, JSON-escaped, UTF-16, and
        the phone as written and as its bare digits (how it is normalised)."""
        texts = {
            "email": [self.email_stem],
            "phone": [self.phone, f"86{self.phone_digits}", self.phone_digits],
            "address": [self.address_token, self.address],
        }
        forms: dict[str, list[bytes]] = {}
        for name, values in texts.items():
            found = set()
            for value in values:
                found.add(value.encode())
                found.add(json.dumps(value)[1:-1].encode())
                found.add(json.dumps(value, ensure_ascii=False)[1:-1].encode())
                found.add(value.encode("utf-16-le"))
            forms[name] = sorted(found)
        return forms


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [PYTHON, *command], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path, *, ready):
    with open(log, "ab") as output:
        child = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=output, stderr=output)
    try:
        wait_for(lambda: child.poll() is not None or ready(), timeout=90)
        assert child.poll() is None, log.read_text()
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def instance_env(var: Path) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "CELERY_", "MEDIA_", "CACHE_", "CRM_"))
    }
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(50),
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "CRM_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        "WEBHOOK_RETRY_SCHEDULE": "1,1,1",
        "EXPORT_PROCESSES": "0",
        "LOG_LEVEL": "INFO",
    }


class Instance:
    """The running CRM: its URL, a partner key with every scope, a signed-in browser."""

    def __init__(self, base: str, key: str, admin: tuple[str, str]) -> None:
        self.base = base
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {key}"
        self.key = key
        self.admin = admin
        self.browser = requests.Session()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def sign_in(self) -> None:
        page = self.browser.get(self.url("/accounts/login/"), timeout=TIMEOUT)
        username, password = self.admin
        response = self.browser.post(
            self.url("/accounts/login/"),
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": csrf_token(page.text),
            },
            headers={"Referer": page.url},
            timeout=TIMEOUT,
        )
        assert response.ok and "/accounts/login/" not in response.url, response.text[:500]


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.fixture
def instance(tmp_path, collected_static):
    """A fresh instance under `tmp_path/var`; yields (Instance, var folder, receiver log)."""
    var = tmp_path / "var"
    var.mkdir()
    # collectstatic's output (DEBUG off needs it) lies outside var/, which is searched
    env = {**instance_env(var), "STATIC_ROOT": str(collected_static)}
    run(["manage.py", "migrate", "--noinput", "-v", "0"], env)
    run(["manage.py", "ensure_admin"], env)
    credentials = dict(
        line.split(": ", 1)
        for line in (var / "admin-credentials.txt").read_text().splitlines()
        if ": " in line
    )
    scopes = "contacts:read,contacts:write,pii:read,imports:read,imports:write,"
    scopes += "exports:read,exports:write,integrations:read,integrations:write,"
    scopes += "settings:read,settings:write"
    key = run(
        [
            "manage.py",
            "create_api_token",
            credentials["username"],
            "--scopes",
            scopes,
            "--name",
            "t",
        ],
        env,
    ).strip()
    port = free_port()
    received, secret_file = tmp_path / "received.jsonl", tmp_path / "secret"
    secret_file.write_text("not yet")
    with ExitStack() as running:
        receiver = subprocess.Popen(
            [PYTHON, str(RECEIVER), str(received), str(secret_file)],
            stdout=subprocess.PIPE,
            text=True,
        )
        running.callback(lambda: (receiver.kill(), receiver.wait(timeout=10)))
        receiver_url = f"http://127.0.0.1:{int(receiver.stdout.readline())}/hooks/crm"
        worker_log = var / "worker.log"
        running.enter_context(
            process(
                [PYTHON, "-m", "celery", "-A", "crm_project", "worker", "--pool", "solo"]
                + ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info"],
                env,
                worker_log,
                ready=lambda: " ready." in worker_log.read_text(errors="replace"),
            )
        )
        server_log = var / "server.log"
        running.enter_context(
            process(
                [PYTHON, "-m", "gunicorn", "crm_project.wsgi", "-b", f"127.0.0.1:{port}"]
                + ["-w", "2", "--access-logfile", str(var / "access.log")],
                env,
                server_log,
                ready=lambda: "Booting worker" in server_log.read_text(errors="replace"),
            )
        )
        crm = Instance(
            f"http://127.0.0.1:{port}", key, (credentials["username"], credentials["password"])
        )
        wait_for(lambda: _answers(crm), timeout=60)
        subscribed = crm.api.post(
            crm.url("/api/v1/webhooks/"),
            json={"url": receiver_url, "events": ["contact.created", "contact.updated"]},
            timeout=TIMEOUT,
        )
        assert subscribed.status_code == 201, subscribed.text
        secret_file.write_text(subscribed.json()["secret"])
        yield crm, var, received, env


def _answers(crm: Instance) -> bool:
    try:
        return crm.api.get(crm.url("/api/v1/contacts/"), timeout=5).status_code == 200
    except requests.RequestException:
        return False


def write_through_every_door(crm: Instance, markers: Markers) -> dict[str, int]:
    """Each door once, as a client would use it; returns the ids the checks need."""
    contacts = crm.url("/api/v1/contacts/")
    # REST: JSON, XML and CSV bodies, each with an Idempotency-Key and retried once.
    bodies = {
        "rest-json": ("application/json", json.dumps(markers.person("rest-json"))),
        "rest-xml": (
            "application/xml",
            "<root>"
            + "".join(f"<{k}>{v}</{k}>" for k, v in markers.person("rest-xml").items())
            + "</root>",
        ),
        "rest-csv": (
            "text/csv",
            "first_name,email,phone,address\n"
            + ",".join(f'"{v}"' for v in markers.person("rest-csv").values())
            + "\n",
        ),
    }
    for door, (content_type, body) in bodies.items():
        for _attempt in range(2):
            response = crm.api.post(
                contacts,
                data=body.encode(),
                headers={"Content-Type": content_type, "Idempotency-Key": f"{door}-key"},
                timeout=TIMEOUT,
            )
            assert response.status_code == 201, response.text
            assert markers.email(door) in response.text  # the replay too: PII went both ways
    batch = {"records": [markers.person("rest-batch")], "mode": "create"}
    response = crm.api.post(
        f"{contacts}batch/", json=batch, headers={"Idempotency-Key": "batch-key"}, timeout=TIMEOUT
    )
    assert response.status_code in (200, 201, 207), response.text
    # Rejected writes that carry the markers, with and without a key.
    rejected = {**markers.person("rest-rejected"), "lifecycle_stage": "zombie"}
    for headers in ({}, {"Idempotency-Key": "rejected-key"}):
        response = crm.api.post(contacts, json=rejected, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 400, response.text
    duplicate = crm.api.post(contacts, json=markers.person("rest-json"), timeout=TIMEOUT)
    assert duplicate.status_code == 400, duplicate.text
    # A PII custom field whose type error quotes the value it was given.
    field = crm.api.post(
        crm.url("/api/v1/custom-fields/"),
        json={"entity": "contact", "name": "badge", "label": "Badge", "type": "date"}
        | {"pii": True},
        timeout=TIMEOUT,
    )
    assert field.status_code == 201, field.text
    quoting = {**markers.person("rest-quoted"), "custom_fields": {"badge": markers.address}}
    response = crm.api.post(
        contacts, json=quoting, headers={"Idempotency-Key": "quoted-key"}, timeout=TIMEOUT
    )
    assert response.status_code == 400 and markers.address_token in response.text

    soap_create(crm, markers)
    crm.sign_in()
    web_create(crm, markers)
    job_id = import_with_a_rejected_row(crm, markers)
    export_id = export_to_a_file(crm)
    return {"import": job_id, "export": export_id}


def soap_create(crm: Instance, markers: Markers) -> None:
    from zeep import Client
    from zeep.transports import Transport
    from zeep.wsse.username import UsernameToken

    client = Client(
        crm.url("/soap/?wsdl"),
        wsse=UsernameToken(crm.admin[0], crm.key),
        transport=Transport(timeout=TIMEOUT),
    )
    created = client.service.CreateContact(markers.person("soap"))
    assert created.id and created.email == markers.email("soap")


def web_create(crm: Instance, markers: Markers) -> None:
    page = crm.browser.get(crm.url("/contacts/new/"), timeout=TIMEOUT)
    form = {
        **markers.person("web"),
        "lifecycle_stage": "lead",
        "csrfmiddlewaretoken": csrf_token(page.text),
    }
    response = crm.browser.post(
        crm.url("/contacts/new/"), data=form, headers={"Referer": page.url}, timeout=TIMEOUT
    )
    assert response.ok and re.search(r"/contacts/\d+/$", response.url), response.text[:1000]


def import_with_a_rejected_row(crm: Instance, markers: Markers) -> int:
    """One good row, one rejected for its lifecycle stage (not its PII, which is kept), one
    for a PII custom field whose message quotes the bad value."""
    content = (
        "First Name,E-mail,Mobile,Address,Lifecycle,Badge\n"
        f'Good,{markers.email("import-good")},{markers.phone},"{markers.address}",lead,2000-01-01\n'
        f'Bad,{markers.email("import-rejected")},{markers.phone},"{markers.address}",zombie,2000-01-01\n'
        f'Quoted,{markers.email("import-quoted")},{markers.phone},,lead,"{markers.address}"\n'
    )
    response = crm.api.post(
        crm.url("/api/v1/imports/"),
        files={"file": ("people.csv", content.encode(), "text/csv")},
        data={"resource": "contacts"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    job = wait_for(lambda: _finished(crm, f"/api/v1/imports/{job_id}/"), timeout=120)
    assert (job["rows_created"], job["rows_failed"]) == (1, 2), job
    # The error report, read through every format and the web, shows the PII to this reader.
    for fmt in ("json", "xml", "csv"):
        report = crm.api.get(
            crm.url(f"/api/v1/imports/{job_id}/errors/"), params={"format": fmt}, timeout=TIMEOUT
        )
        assert report.status_code == 200 and markers.email("import-rejected") in report.text
    web_report = crm.browser.get(crm.url(f"/imports/{job_id}/errors.csv"), timeout=TIMEOUT)
    assert web_report.status_code == 200 and markers.email("import-rejected") in web_report.text
    return job_id


def export_to_a_file(crm: Instance) -> int:
    response = crm.api.post(
        crm.url("/api/v1/exports/"),
        json={"resource": "contacts", "format": "csv", "include_pii": True},
        timeout=TIMEOUT,
    )
    assert response.status_code == 202, response.text
    export_id = response.json()["id"]
    wait_for(lambda: _finished(crm, f"/api/v1/exports/{export_id}/"), timeout=120)
    download = crm.api.get(crm.url(f"/api/v1/exports/{export_id}/download/"), timeout=TIMEOUT)
    assert download.status_code == 200 and "marker.pii." in download.text
    return export_id


def _finished(crm: Instance, path: str) -> dict | None:
    job = crm.api.get(crm.url(path), timeout=TIMEOUT).json()
    return job if job["status"] not in ("queued", "running") else None


def files_holding(var: Path, markers: Markers) -> dict[str, set[str]]:
    """Every file under `var` that holds a marker in any form: {relative path: {marker names}}."""
    needles = markers.needles()
    found: dict[str, set[str]] = {}
    for path in sorted(var.rglob("*")):
        if not path.is_file():
            continue
        content = path.read_bytes()
        names = {name for name, forms in needles.items() if any(f in content for f in forms)}
        if names:
            found[str(path.relative_to(var))] = names
    return found


def test_no_marker_pii_lies_in_the_clear_anywhere_in_var_after_every_door(instance):
    crm, var, received, env = instance
    markers = Markers()

    ids = write_through_every_door(crm, markers)
    delivered = wait_for(
        lambda: (
            text
            if received.exists()
            and (text := received.read_text(encoding="utf-8")).count(markers.email_stem) >= 7
            else None
        ),
        timeout=120,
    )
    assert markers.email("soap") in delivered and markers.email("web") in delivered
    found = files_holding(var, markers)  # the servers still running: the WAL as they left it

    media = var / "media"
    upload, export = (
        sorted(str(p.relative_to(var)) for p in media.glob(f"{kind}/*/*/*") if p.is_file())
        for kind in ("imports", "exports")
    )
    assert len(upload) == len(export) == 1
    assert found == {
        upload[0]: {"email", "phone", "address"},
        export[0]: {"email", "phone", "address"},
    }
    for path in [media, *media.rglob("*")]:  # every file and folder of media: owner-only
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path

    run(["manage.py", "purge_exchange_files", "--days", "0"], env)

    assert files_holding(var, markers) == {}
    purged = crm.api.get(crm.url(f"/api/v1/exports/{ids['export']}/download/"), timeout=TIMEOUT)
    assert purged.status_code == 404 and "no longer stored" in purged.text
