"""Every request has an id: the proxy's X-Request-ID when it is a sane token, else one made up;
echoed on the response, on every log line the request causes, and on the log lines of the
Celery tasks it queues (a real publish on the configured broker, run by a real worker)."""

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.http import StreamingHttpResponse
from django.test import RequestFactory

from crm_project.celery import REQUEST_ID_HEADER, carry_request_id
from crm_project.request_id import (
    HEADER,
    RequestIdFilter,
    RequestIdMiddleware,
    bound,
    current_request_id,
)
from integrations.tasks import purge_idempotency_records
from tests.workers import celery_worker, wait_for

LOGIN = "/accounts/login/"
MADE_UP = re.compile(r"[0-9a-f]{32}")


class Collected(logging.Handler):
    """The records a logger passes to its handlers, after our filter, as a handler sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def collected(logger_name: str) -> Iterator[list[logging.LogRecord]]:
    handler = Collected()
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize(
    "sent", ["4bf92f3577b34da6a3ce929d0e0e4736", "proxy-1.2_3", "a" * 128, "7"]
)
def test_a_sane_request_id_from_the_proxy_is_echoed(client, sent):
    response = client.get(LOGIN, headers={HEADER: sent})

    assert response[HEADER] == sent


@pytest.mark.parametrize(
    "sent",
    [
        "a" * 129,  # too long to be an id
        "two words",
        "line\rbreak",
        "quote\"'",
        "中文",
        "",
        "x;rm -rf",
    ],
)
def test_an_unusable_request_id_is_replaced_by_a_made_up_one(client, sent):
    response = client.get(LOGIN, headers={HEADER: sent})

    assert MADE_UP.fullmatch(response[HEADER])


def test_without_a_request_id_each_request_gets_its_own(client):
    first, second = client.get(LOGIN)[HEADER], client.get(LOGIN)[HEADER]

    assert MADE_UP.fullmatch(first) and MADE_UP.fullmatch(second)
    assert first != second


def test_djangos_log_line_for_a_4xx_names_the_request(client):
    """Django logs a 4xx after the middleware chain has returned: the id must still hold."""
    with collected("django.request") as records:
        response = client.get("/no-such-page/", headers={HEADER: "req-404"})

    assert response.status_code == 404
    assert [(record.getMessage(), record.request_id) for record in records] == [
        ("Not Found: /no-such-page/", "req-404")
    ]


def test_the_id_is_forgotten_when_the_response_is_closed(client):
    client.get(LOGIN, headers={HEADER: "req-done"})

    assert current_request_id() is None


def test_a_streamed_response_is_drained_under_its_request_id():
    seen = []

    def chunks():
        seen.append(current_request_id())
        yield b"row\n"

    middleware = RequestIdMiddleware(lambda request: StreamingHttpResponse(chunks()))
    response = middleware(RequestFactory().get("/export", headers={HEADER: "req-stream"}))
    body = b"".join(response.streaming_content)  # as the server does, after we returned
    response.close()

    assert (body, seen) == (b"row\n", ["req-stream"])
    assert current_request_id() is None


def test_a_record_logged_outside_any_request_has_no_request_id():
    record = logging.makeLogRecord({"msg": "beat tick"})

    RequestIdFilter().filter(record)

    assert record.request_id is None


def test_a_task_published_inside_a_request_carries_its_id_in_the_message_headers():
    inside, outside = {}, {}

    with bound("req-publish"):
        carry_request_id(headers=inside)
    carry_request_id(headers=outside)

    assert inside == {REQUEST_ID_HEADER: "req-publish"}
    assert outside == {}


def task_lines(log_text: str) -> dict[str, dict]:
    """The worker's JSON lines that report a task's success, by the task id they name (the
    start-up banner is printed, not logged: `celery --quiet` leaves it out)."""
    found = {}
    for line in log_text.splitlines():
        record = json.loads(line) if line.startswith("{") else None
        if record and " succeeded in " in record["message"]:
            task_id = re.search(r"\[([0-9a-f-]{36})\]", record["message"])[1]
            found[task_id] = record
    return found


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_a_task_under_the_id_of_the_request_that_queued_it(tmp_path):
    log = tmp_path / "worker.log"

    with celery_worker(log, extra_env={"LOG_FORMAT": "json"}) as queue:
        with bound("req-queued-it"):
            queued = purge_idempotency_records.apply_async(queue=queue)
        unrelated = purge_idempotency_records.apply_async(queue=queue)  # e.g. from beat
        lines = wait_for(
            lambda: (
                {queued.id, unrelated.id} <= set(found := task_lines(log.read_text())) and found
            ),
            timeout=60,
        )

    assert lines[queued.id]["request_id"] == "req-queued-it"
    assert lines[unrelated.id]["request_id"] is None  # nothing left over from the task before
    assert lines[queued.id]["logger"] == "celery.app.trace"
    assert lines[queued.id]["task_id"] == queued.id
    assert lines[queued.id]["task_name"] == "integrations.purge_idempotency_records"
