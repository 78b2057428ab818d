"""The mixed load the cluster test drives through nginx: REST writes with Idempotency-Key,
SOAP upserts through zeep, list reads. Each client is one thread with its own API key, paced
below the rate limit, and retries a write the way a partner should (the same Idempotency-Key;
SOAP's UpsertContact is safe to retry). Every answer is recorded with the node that gave it."""

import threading
import time
import uuid
from dataclasses import dataclass, field

import requests
from zeep import Client
from zeep.exceptions import Fault, TransportError
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

REQUESTS_PER_SECOND = 3  # per client: below API_KEY_RATE_LIMIT (300/min = 5/s)
WRITE_ATTEMPTS = 6
RETRY_PAUSE_SECONDS = 0.5
TIMEOUT_SECONDS = 30
RETRIED_STATUSES = {502, 503, 504}


@dataclass
class Answer:
    """One HTTP answer (or a connection failure: status 0)."""

    client: str
    method: str
    path: str
    status: int
    upstream: str
    started: float
    ended: float


@dataclass
class Write:
    """One logical write: its external id and the status its last attempt got."""

    entity: str
    external_id: str
    status: int = 0
    attempts: int = 0


@dataclass
class Recorder:
    answers: list[Answer] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def write(self, write: Write) -> None:
        with self.lock:
            self.writes.append(write)


class LoadClient:
    """Shared pacing, recording and retrying."""

    def __init__(
        self, name: str, base_url: str, key: str, recorder: Recorder, *, certificate: str
    ) -> None:
        self.name, self.base_url, self.key, self.recorder = name, base_url, key, recorder
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy, no CA bundle from the environment
        self.session.verify = certificate
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.count = 0

    def request(self, method: str, path: str, **kwargs) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = self.session.request(
                method, self.base_url + path, timeout=TIMEOUT_SECONDS, **kwargs
            )
        except requests.RequestException:
            self.recorder.answer(Answer(self.name, method, path, 0, "", started, time.monotonic()))
            return None
        self.recorder.answer(
            Answer(
                self.name,
                method,
                path,
                response.status_code,
                response.headers.get("X-Upstream", ""),
                started,
                time.monotonic(),
            )
        )
        return response

    def write(self, entity: str, external_id: str, path: str, body: dict) -> dict | None:
        """POST with one Idempotency-Key however many attempts it takes."""
        write = Write(entity, external_id)
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        response = None
        for _ in range(WRITE_ATTEMPTS):
            write.attempts += 1
            response = self.request("POST", path, json=body, headers=headers)
            if response is not None and response.status_code not in RETRIED_STATUSES:
                break
            time.sleep(RETRY_PAUSE_SECONDS)
        write.status = response.status_code if response is not None else 0
        self.recorder.write(write)
        return response.json() if response is not None and response.ok else None

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            began = time.monotonic()
            requests_made = self.step()
            self.count += 1
            pause = requests_made / REQUESTS_PER_SECOND - (time.monotonic() - began)
            if pause > 0:
                stop.wait(pause)

    def step(self) -> int:
        raise NotImplementedError


class RestContacts(LoadClient):
    """Create a contact, change it with PUT (nginx may retry a PUT on the other node), list."""

    def step(self) -> int:
        external_id = f"rest-{self.count}"
        body = {
            "first_name": "Load",
            "last_name": f"Rest {self.count}",
            "email": f"rest{self.count}@example.com",
            "external_id": external_id,
        }
        created = self.write("contact", external_id, "/api/v1/contacts/", body)
        if created is None:
            return 1
        self.request(
            "PUT", f"/api/v1/contacts/{created['id']}/", json={**body, "last_name": "Changed"}
        )
        self.request("GET", "/api/v1/contacts/?page_size=20")
        return 3


class RestCompanies(LoadClient):
    """Create a company (the webhook's events) and read a list of them."""

    def step(self) -> int:
        external_id = f"company-{self.count}"
        body = {"name": f"Company {self.count}", "external_id": external_id}
        self.write("company", external_id, "/api/v1/companies/", body)
        self.request("GET", "/api/v1/companies/?page_size=20")
        return 2


class SoapContacts(LoadClient):
    """UpsertContact through zeep, retried on a transport error (safe: it is an upsert)."""

    def __init__(
        self,
        name: str,
        base_url: str,
        key: str,
        recorder: Recorder,
        *,
        certificate: str,
        username: str,
    ) -> None:
        super().__init__(name, base_url, key, recorder, certificate=certificate)
        self.session.headers.pop("Authorization")
        self.last = threading.local()
        self.session.hooks["response"].append(self._remember)
        self.client = Client(
            f"{base_url}/soap/?wsdl",
            transport=Transport(session=self.session, timeout=TIMEOUT_SECONDS),
            wsse=UsernameToken(username, key),
        )
        # The WSDL names the address the request came in on, without nginx's port.
        self.client.service._binding_options["address"] = f"{base_url}/soap/"

    def _remember(self, response: requests.Response, *args, **kwargs) -> None:
        self.last.response = response

    def step(self) -> int:
        external_id = f"soap-{self.count}"
        contact = {
            "first_name": "Load",
            "last_name": f"Soap {self.count}",
            "email": f"soap{self.count}@example.com",
        }
        write = Write("contact", external_id)
        for _ in range(WRITE_ATTEMPTS):
            write.attempts += 1
            self.last.response = None
            started = time.monotonic()
            try:
                self.client.service.UpsertContact(external_id=external_id, contact=contact)
                status = 200
            except Fault:
                status = 500  # a SOAP fault travels as HTTP 500
            except (TransportError, requests.RequestException):
                status = 0
            response = self.last.response
            if response is not None:
                status = response.status_code
            upstream = response.headers.get("X-Upstream", "") if response is not None else ""
            self.recorder.answer(
                Answer(
                    self.name, "SOAP", "UpsertContact", status, upstream, started, time.monotonic()
                )
            )
            write.status = status
            if status not in RETRIED_STATUSES and status != 0:
                break
            time.sleep(RETRY_PAUSE_SECONDS)
        self.recorder.write(write)
        return 1


def start_load(clients: list[LoadClient], stop: threading.Event) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=client.run, args=(stop,), name=client.name, daemon=True)
        for client in clients
    ]
    for thread in threads:
        thread.start()
    return threads
