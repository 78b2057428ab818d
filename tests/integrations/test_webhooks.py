"""Webhooks end to end against a real receiver in its own process: events relayed from the
outbox to deliveries, signed POSTs the receiver verifies, retries with a stable delivery id,
giving up (and flagging the subscription) after the schedule, replays, pauses, and payloads
whose personal data follows the subscriber's rights."""

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from customers.actors import SYSTEM
from customers.services import contacts
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from integrations.webhooks import delivery as sending
from integrations.webhooks import services, signing
from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import ContactFactory, ManagerFactory, SalesUserFactory
from tests.integrations.recording_server import recording_server

RECEIVER = Path(__file__).with_name("webhook_receiver.py")
Status = WebhookDelivery.Status

# Committed writes: the relay reads the change feed, which on PostgreSQL serves only
# transactions that have ended.
pytestmark = pytest.mark.django_db(transaction=True)


class Receiver:
    def __init__(self, folder: Path, failures: int) -> None:
        self.log = folder / "received.jsonl"
        self.secret_file = folder / "secret"
        self.secret_file.write_text("not yet")
        self.process = subprocess.Popen(
            [sys.executable, str(RECEIVER), str(self.log), str(self.secret_file), str(failures)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}/hooks/crm"

    def subscribe(self, **kwargs) -> WebhookSubscription:
        kwargs.setdefault("owner", ManagerFactory())
        kwargs.setdefault("events", ["*"])
        subscription, secret = services.subscription_create(url=self.url, **kwargs)
        self.secret_file.write_text(secret)
        return subscription

    def received(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def receiver(tmp_path, allow_loopback):
    running = Receiver(tmp_path, failures=0)
    yield running
    running.stop()


@pytest.fixture
def flaky_receiver(tmp_path, allow_loopback):
    """Answers 500 to the first attempt of every delivery."""
    running = Receiver(tmp_path, failures=1)
    yield running
    running.stop()


@pytest.fixture
def failing_receiver(tmp_path, allow_loopback):
    running = Receiver(tmp_path, failures=1000)
    yield running
    running.stop()


def deliver_all() -> list[WebhookDelivery]:
    services.relay_events()
    return [sending.deliver(delivery_id) for delivery_id in sending.due_delivery_ids()]


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)


def test_an_event_reaches_the_receiver_signed_with_its_type_and_delivery_id(receiver):
    subscription = receiver.subscribe()
    person = contacts.contact_create(
        actor=SYSTEM, first_name="伟", last_name="张", external_id="E-1"
    )

    (delivery,) = deliver_all()

    (got,) = receiver.received()
    assert got["signature_ok"] is True
    assert (got["event"], got["delivery"]) == ("contact.created", str(delivery.pk))
    body = got["body"]
    assert (body["type"], body["record_id"], body["external_id"]) == (
        "contact.created",
        person.pk,
        "E-1",
    )
    assert body["record"]["full_name"] == "张伟"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.SUCCEEDED,
        1,
        204,
    )
    assert delivery.subscription == subscription


def test_a_failed_attempt_is_retried_later_with_the_same_delivery_id(flaky_receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [30, 60]
    flaky_receiver.subscribe()
    ContactFactory()

    (first,) = deliver_all()
    first.refresh_from_db()
    assert first.status == Status.PENDING
    assert (
        25 <= (first.next_attempt_at - first.attempt_log.get().attempted_at).total_seconds() <= 35
    )
    assert sending.due_delivery_ids() == []  # not before its time

    make_due(first)
    sending.deliver(first.pk)

    first.refresh_from_db()
    assert first.status == Status.SUCCEEDED
    statuses = [(got["delivery"], got["status"]) for got in flaky_receiver.received()]
    assert statuses == [(str(first.pk), 500), (str(first.pk), 204)]
    assert [attempt.status_code for attempt in first.attempt_log.all()] == [500, 204]


def test_after_the_last_retry_the_delivery_fails_and_the_subscription_is_flagged(
    failing_receiver, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = [1, 1]
    subscription = failing_receiver.subscribe()
    ContactFactory()

    (delivery,) = deliver_all()
    for _ in range(2):
        make_due(delivery)
        sending.deliver(delivery.pk)

    delivery.refresh_from_db()
    subscription.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)
    assert subscription.disabled_at is not None
    assert "HTTP 500" in subscription.disabled_reason
    ContactFactory()
    assert services.relay_events() == 1  # still recorded for later...
    assert sending.due_delivery_ids() == []  # ...but not sent while flagged


def test_any_delivery_can_be_replayed(receiver):
    receiver.subscribe()
    ContactFactory()
    (delivery,) = deliver_all()

    services.replay(delivery=delivery)
    sending.deliver(delivery.pk)

    deliveries = [got["delivery"] for got in receiver.received()]
    assert deliveries == [str(delivery.pk), str(delivery.pk)]


def test_a_paused_subscription_gets_nothing_until_it_resumes(receiver):
    subscription = receiver.subscribe()
    services.subscription_pause(subscription=subscription)
    ContactFactory()

    assert deliver_all() == []
    services.subscription_resume(subscription=subscription)
    ContactFactory()
    deliver_all()

    assert [got["event"] for got in receiver.received()] == ["contact.created"]


def test_a_subscription_receives_only_the_event_types_it_asked_for(receiver):
    receiver.subscribe(events=["contact.updated"])
    person = ContactFactory()
    contacts.contact_update(actor=SYSTEM, contact=person, data={"title": "CTO"})

    deliver_all()

    (got,) = receiver.received()
    assert (got["event"], got["body"]["changed_fields"]) == ("contact.updated", ["title"])


def test_a_new_subscription_does_not_receive_events_from_before_it_existed(receiver):
    ContactFactory()
    services.relay_events()
    ContactFactory()  # recorded but not yet relayed when the subscription appears
    time.sleep(0.01)
    receiver.subscribe()
    later = ContactFactory()

    deliver_all()

    assert [got["body"]["record_id"] for got in receiver.received()] == [later.pk]


def test_personal_data_in_payloads_follows_the_subscribing_key_scope(receiver):
    owner = SalesUserFactory()
    _, _key = api_key_create(user=owner, name="no pii", scopes=["contacts:read"])
    key_without_pii = owner.api_keys.get()
    receiver.subscribe(owner=owner, api_key=key_without_pii, events=["contact.created"])
    ContactFactory(email="zhang.wei@example.com")

    deliver_all()

    assert receiver.received()[0]["body"]["record"]["email"] == "z***@example.com"


def test_a_subscriber_with_pii_read_gets_personal_data_decrypted(receiver):
    owner = SalesUserFactory()
    api_key_create(user=owner, name="all", scopes=list(ALL_SCOPES))
    receiver.subscribe(owner=owner, api_key=owner.api_keys.get())
    ContactFactory(email="zhang.wei@example.com")

    deliver_all()

    assert receiver.received()[0]["body"]["record"]["email"] == "zhang.wei@example.com"


def test_a_deleted_record_is_delivered_without_its_representation(receiver):
    receiver.subscribe(events=["contact.deleted"])
    person = ContactFactory(external_id="E-7")
    contacts.contact_delete(actor=SYSTEM, contact=person)

    deliver_all()

    body = receiver.received()[0]["body"]
    assert (body["type"], body["external_id"], body["record"]) == ("contact.deleted", "E-7", None)


@pytest.mark.parametrize(
    ("url", "field"),
    [("http://10.0.0.5/hook", "url"), ("ftp://example.com/hook", "url"), ("not a url", "url")],
)
def test_subscriptions_to_private_or_odd_urls_are_refused(url, field, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ""

    with pytest.raises(ValidationError) as error:
        services.subscription_create(owner=ManagerFactory(), url=url, events=["*"])

    assert field in error.value.message_dict


def test_unknown_event_types_are_refused(allow_loopback):
    with pytest.raises(ValidationError) as error:
        services.subscription_create(
            owner=ManagerFactory(), url="http://127.0.0.1:9/x", events=["contact.exploded"]
        )

    assert "events" in error.value.message_dict


def test_a_receiver_can_check_the_signature_and_refuse_stale_or_forged_requests():
    body = b'{"id": 1}'
    header = signing.signature("whsec_x", 1_700_000_000, body)

    assert signing.verify(
        "whsec_x", timestamp="1700000000", body=body, signature_header=header, now=1_700_000_010
    )
    assert not signing.verify(
        "whsec_x", timestamp="1700000000", body=body + b" ", signature_header=header, now=1.7e9
    )
    assert not signing.verify(
        "whsec_x", timestamp="1700000000", body=body, signature_header=header, now=1.7e9 + 3600
    )


# Redirects: the signed body stays with the receiver it was meant for


@pytest.fixture
def redirecting_receiver(allow_loopback):
    with recording_server("127.0.0.1") as receiver, recording_server("127.0.0.2") as other:
        yield receiver, other


def subscribe_to(url: str) -> WebhookSubscription:
    subscription, _secret = services.subscription_create(
        url=url, owner=ManagerFactory(), events=["*"]
    )
    return subscription


def test_a_307_to_another_origin_is_not_followed_with_the_signed_body(redirecting_receiver):
    receiver, other = redirecting_receiver
    receiver.redirect("/hooks", f"{other.url}/hooks", status=307)
    subscribe_to(f"{receiver.url}/hooks")
    ContactFactory(first_name="伟")

    (delivery,) = deliver_all()

    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and "another origin" in delivery.last_error
    assert other.received == []
    assert "X-CRM-Signature" in receiver.received[0].headers


def test_a_302_to_another_origin_carries_neither_the_body_nor_the_signature(
    redirecting_receiver,
):
    receiver, other = redirecting_receiver
    receiver.redirect("/hooks", f"{other.url}/landing")
    subscribe_to(f"{receiver.url}/hooks")
    ContactFactory(first_name="伟")

    deliver_all()

    [landed] = other.received
    assert (landed.method, landed.body) == ("GET", b"")
    assert "X-CRM-Signature" not in landed.headers


class EndlessAnswer(BaseHTTPRequestHandler):
    """Answers every POST 400 with a body of `SIZE` bytes, counting what it managed to send
    before the client hung up."""

    SIZE = 512 * 1024 * 1024
    CHUNK = b"x" * (1024 * 1024)
    sent = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(400)
        self.send_header("Content-Length", str(self.SIZE))
        self.end_headers()
        try:
            for _ in range(self.SIZE // len(self.CHUNK)):
                self.wfile.write(self.CHUNK)
                type(self).sent += len(self.CHUNK)
        except OSError:
            pass  # the client hung up: what it wanted is read

    def log_message(self, format, *args) -> None:
        pass


def test_a_receiver_s_huge_answer_is_not_downloaded(allow_loopback):
    server = ThreadingHTTPServer(("127.0.0.1", 0), EndlessAnswer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        subscribe_to(f"http://127.0.0.1:{server.server_address[1]}/hooks")
        ContactFactory(first_name="伟")

        (delivery,) = deliver_all()
    finally:
        server.shutdown()
        server.server_close()

    delivery.refresh_from_db()
    assert delivery.last_status_code == 400 and delivery.last_error == "x" * 500
    assert EndlessAnswer.sent < 64 * 1024 * 1024  # a start for the error, not half a GB


class EchoingRefusal(BaseHTTPRequestHandler):
    """A receiver that refuses every delivery by echoing the record back."""

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(422)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


def test_a_receiver_echoing_the_record_leaves_no_email_or_phone_in_the_stored_error(
    allow_loopback,
):
    owner = SalesUserFactory()  # may read personal data: the payload carries it decrypted
    api_key_create(user=owner, name="all", scopes=list(ALL_SCOPES))
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingRefusal)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        services.subscription_create(
            url=f"http://127.0.0.1:{server.server_address[1]}/hooks",
            owner=owner,
            api_key=owner.api_keys.get(),
            events=["contact.created"],
        )
        ContactFactory(first_name="伟", email="echo.me@example.cn", phone="+86 138 0013 8000")

        (delivery,) = deliver_all()
    finally:
        server.shutdown()
        server.server_close()

    delivery.refresh_from_db()
    assert delivery.last_status_code == 422 and delivery.last_error
    assert "echo.me" not in delivery.last_error
    assert "0013" not in delivery.last_error and "8000" not in delivery.last_error
