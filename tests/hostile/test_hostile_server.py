"""Every hostile input of the Hardening issue, through every door it reaches, against a real
production-mode server: the answer (a 4xx, a Client fault or an import row error), the time it
took, the workers' peak memory, and the row counts unchanged."""

import json

import pytest

from tests.hostile.conftest import assert_bounded
from tests.soap.support import WSSE, envelope, raw_fault

pytestmark = pytest.mark.slow_server

V1 = "/api/v1"
DEPTH = 15_000
NINE_MB = 9 * 1024 * 1024


def csv_of_columns(count: int) -> bytes:
    header = ",".join(f"c{index}" for index in range(count))
    return f"{header}\n{','.join('x' * count)}\n".encode()


def deep_json(depth: int = DEPTH) -> bytes:
    return b'{"first_name": ' + b"[" * depth + b"]" * depth + b"}"


UNTERMINATED_QUOTE = b'first_name,email\n"unterminated,a@b.co\nx,y,z,w\n'

# (method, path, body, content type, expected status)
REST_CASES = {
    "csv of 6,000 columns": ("POST", "contacts/", csv_of_columns(6_000), "text/csv", 400),
    "csv of 100,000 columns": ("POST", "contacts/", csv_of_columns(100_000), "text/csv", 400),
    "csv batch of 100,000 columns": (
        "POST",
        "contacts/batch/",
        csv_of_columns(100_000),
        "text/csv",
        400,
    ),
    "csv with an unterminated quote": ("POST", "contacts/", UNTERMINATED_QUOTE, "text/csv", 400),
    "csv of 9 MB in one cell": (
        "POST",
        "contacts/",
        b"first_name\n" + b"x" * NINE_MB + b"\n",
        "text/csv",
        400,
    ),
    "json nested 15,000 levels": ("POST", "contacts/", deep_json(), "application/json", 400),
    "json batch nested 15,000 levels": (
        "POST",
        "contacts/batch/",
        b'{"records": [' + deep_json() + b"]}",
        "application/json",
        400,
    ),
    "json upsert nested 15,000 levels": (
        "PUT",
        "contacts/by-external-id/deep/",
        deep_json(),
        "application/json",
        400,
    ),
    "json of 9 MB": (
        "POST",
        "contacts/",
        json.dumps({"first_name": "x" * NINE_MB}).encode(),
        "application/json",
        400,
    ),
    "xml nested 15,000 levels": (
        "POST",
        "contacts/",
        b"<root><first_name>" + b"<a>" * DEPTH + b"</a>" * DEPTH + b"</first_name></root>",
        "application/xml",
        400,
    ),
    "xml of 9 MB": (
        "POST",
        "contacts/",
        b"<root><first_name>" + b"x" * NINE_MB + b"</first_name></root>",
        "application/xml",
        400,
    ),
    "json of 3 million empty objects": (
        "POST",
        "contacts/batch/",
        b"[" + b"{}," * 3_000_000 + b"{}]",
        "application/json",
        400,
    ),
    "json of 3 million empty strings": (
        "POST",
        "contacts/batch/",
        b"[" + b'"",' * 3_000_000 + b'""]',
        "application/json",
        400,
    ),
    "json of just under the value limit": (
        "POST",
        "contacts/batch/",
        b"[" + b'{"first_name": "A"},' * 249_000 + b"{}]",
        "application/json",
        400,
    ),
    "xml of 2 million elements": (
        "POST",
        "contacts/",
        b"<root>" + b"<a/>" * 2_000_000 + b"</root>",
        "application/xml",
        400,
    ),
    "xml of 700,000 attributes": (
        "POST",
        "contacts/",
        b"<root " + b" ".join(b'a%d="1"' % index for index in range(700_000)) + b"/>",
        "application/xml",
        400,
    ),
    "xml of just under the element limit": (
        "POST",
        "contacts/batch/",
        b"<root>" + b"<list-item><first_name>A</first_name></list-item>" * 124_000 + b"</root>",
        "application/xml",
        400,
    ),
    "a body over the size limit": (
        "POST",
        "contacts/",
        b'{"first_name": "' + b"x" * (11 * 1024 * 1024) + b'"}',
        "application/json",
        413,
    ),
    "webhook subscription nested 15,000 levels": (
        "POST",
        "webhooks/",
        b'{"url": "https://example.com/hook", "events": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
        "application/json",
        400,
    ),
    "export job with xml nested 15,000 levels": (
        "POST",
        "exports/",
        b"<root><resource>" + b"<a>" * DEPTH + b"</a>" * DEPTH + b"</resource></root>",
        "application/xml",
        400,
    ),
    "form body of 100,000 fields": (
        "POST",
        "contacts/",
        "&".join(f"f{index}=x" for index in range(100_000)).encode(),
        "application/x-www-form-urlencoded",
        400,
    ),
    "custom field choices that are not a list": (
        "POST",
        "custom-fields/",
        json.dumps(
            {
                "entity": "contact",
                "name": "tier",
                "label": "Tier",
                "type": "choice",
                "choices": "ab",
            }
        ).encode(),
        "application/json",
        400,
    ),
}


@pytest.mark.parametrize("case", list(REST_CASES))
def test_a_hostile_rest_body_is_a_4xx_in_the_uniform_shape_in_bounded_time(live, case):
    method, path, body, content_type, status = REST_CASES[case]

    with live.unchanged():
        answer = live.send(
            method, f"{V1}/{path}", data=body, headers={"Content-Type": content_type}
        )

    assert answer.status == status, answer.response.content[:300]
    assert {"code", "message", "errors"} <= set(answer.json())
    assert_bounded(answer)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"search": " ".join(["a"] * 1200)}, "search"),  # a request line within gunicorn's 4 KB
        ({"updated_since": "9999-12-31T23:59:59-05:00"}, "updated_since"),
        ({"created_after": "0001-01-01T00:00:00+05:00"}, "created_after"),
    ],
    ids=["search of 1,200 words", "updated_since past year 9999", "created_after before year 1"],
)
def test_a_hostile_rest_query_is_a_400_naming_the_parameter(live, query, parameter):
    for resource in ("contacts", "companies", "deals"):
        answer = live.send("GET", f"{V1}/{resource}/", params=query)

        assert answer.status == 400, (resource, answer.response.content[:300])
        assert parameter in answer.json()["errors"]
        assert_bounded(answer)


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals", "activities"])
def test_options_and_head_on_by_external_id_answer(live, resource):
    path = f"{V1}/{resource}/by-external-id/nobody/"

    with live.unchanged():
        options = live.send("OPTIONS", path)
        head = live.send("HEAD", path)

    assert options.status == 200 and "PUT" in options.response.headers["Allow"]
    assert head.status == 404
    assert_bounded(options)
    assert_bounded(head)


# SOAP ---------------------------------------------------------------------------------------


def soap(live, operation: str, body: str):
    header = (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>hostile</wsse:Username>"
        f"<wsse:Password>{live.api_key}</wsse:Password></wsse:UsernameToken></wsse:Security>"
    )
    return live.send(
        "POST",
        "/soap/",
        door="soap",
        data=envelope(operation, body, header).encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )


SOAP_CASES = {
    "search query of 9 MB": (
        "SearchContacts",
        f"<crm:query>{'ab ' * (NINE_MB // 3)}</crm:query>",
        "Client.ValidationError",
    ),
    "search email of 9 MB": (
        "SearchContacts",
        f"<crm:email>{'x' * NINE_MB}</crm:email>",
        "Client.ValidationError",
    ),
    "xml nested 15,000 levels": (
        "CreateContact",
        "<crm:contact>" + "<t:first_name>" * DEPTH + "</t:first_name>" * DEPTH + "</crm:contact>",
        "Client.",
    ),
    "a time past year 9999 in UTC": (
        "SearchContacts",
        "<crm:updated_since>9999-12-31T23:59:59-05:00</crm:updated_since>",
        "Client.ValidationError",
    ),
    "an upsert whose external id is 9 MB": (
        "UpsertContact",
        f"<crm:external_id>{'x' * NINE_MB}</crm:external_id>"
        "<crm:contact><t:first_name>A</t:first_name></crm:contact>",
        "Client.ValidationError",
    ),
    "a contact whose name is 9 MB": (
        "CreateContact",
        f"<crm:contact><t:first_name>{'x' * NINE_MB}</t:first_name></crm:contact>",
        "Client.ValidationError",
    ),
    "an envelope of 1.5 million elements": (
        "CreateContact",
        "<crm:contact>" + "<t:x/>" * 1_500_000 + "</crm:contact>",
        "Client.RequestTooLarge",
    ),
    "an envelope of 700,000 attributes": (
        "CreateContact",
        "<crm:contact " + " ".join(f'a{index}="1"' for index in range(700_000)) + "/>",
        "Client.RequestTooLarge",
    ),
    "an envelope just under the node limit": (
        "CreateContact",
        "<crm:contact>" + "<t:x/>" * 99_000 + "</crm:contact>",
        "Client.SchemaValidationError",
    ),
    "an envelope over the size limit": (
        "CreateContact",
        f"<crm:contact><t:notes>{'x' * (11 * 1024 * 1024)}</t:notes></crm:contact>",
        "Client.RequestTooLarge",
    ),
}


@pytest.mark.parametrize("case", list(SOAP_CASES))
def test_a_hostile_soap_request_is_a_client_fault_in_bounded_time(live, case):
    operation, body, code = SOAP_CASES[case]

    with live.unchanged():
        answer = soap(live, operation, body)

    fault_code, message = raw_fault(answer.response)
    assert fault_code.startswith(code), (fault_code, message)
    assert_bounded(answer)


# Web UI -------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/contacts/", "/companies/", "/deals/"])
def test_a_list_filtered_to_the_last_day_of_the_calendar_reports_it(live, page):
    answer = live.send("GET", page, door="web", params={"created_to": "9999-12-31"})

    assert answer.status == 200, answer.response.content[:300]
    assert "The date is out of range." in answer.response.text
    assert_bounded(answer)


# Imports: the API, its preview and the wizard's first step ---------------------------------

# (file name, content, what the job reports: a row error or a file error)
IMPORT_FILES = {
    "json record nested 15,000 levels": ("deep.json", b"[" + deep_json() + b"]", "row"),
    "csv of 100,000 columns": ("wide.csv", csv_of_columns(100_000), "file"),
    "csv with an unterminated quote": ("quote.csv", UNTERMINATED_QUOTE, "file"),
}


def upload(live, name: str, content: bytes, path: str = "imports/"):
    return live.send(
        "POST",
        f"{V1}/{path}",
        files={"file": (name, content)},
        data={"resource": "contacts"},
    )


@pytest.mark.parametrize("case", list(IMPORT_FILES))
def test_a_hostile_import_file_is_a_row_or_file_error_in_bounded_time(live, case):
    name, content, kind = IMPORT_FILES[case]

    with live.unchanged():
        answer = upload(live, name, content)
        assert answer.status in (201, 202, 400), answer.response.content[:300]
        if answer.status != 400:
            job = live.send("GET", f"{V1}/imports/{answer.json()['id']}/").json()
            if kind == "row":
                assert job["rows_failed"] == 1 and job["rows_created"] == 0, job
            else:
                assert job["status"] == "failed" and job["error_message"], job

    assert_bounded(answer)


@pytest.mark.parametrize("case", list(IMPORT_FILES))
def test_a_hostile_import_preview_is_answered_in_bounded_time(live, case):
    """A file error is a 400; a record too deep is that row's error, so its preview answers."""
    name, content, kind = IMPORT_FILES[case]

    with live.unchanged():
        answer = upload(live, name, content, path="imports/preview/")

    assert answer.status == (400 if kind == "file" else 200), answer.response.content[:300]
    assert_bounded(answer)


@pytest.mark.parametrize("case", list(IMPORT_FILES))
def test_a_hostile_file_in_the_import_wizard_is_answered_in_bounded_time(live, case):
    name, content, kind = IMPORT_FILES[case]
    live.send("GET", "/imports/new/", door="web")  # the CSRF cookie
    token = live.http.cookies.get("csrftoken")

    with live.unchanged():
        answer = live.send(
            "POST",
            "/imports/new/",
            door="web",
            headers={"X-CSRFToken": token, "Referer": live.url("/imports/new/")},
            files={"file": (name, content)},
            data={"resource": "contacts", "format": ""},
        )

    # a file error is reported on the form (422); a row error waits for the mapping step
    assert answer.status == (422 if kind == "file" else 302), answer.response.content[:300]
    assert_bounded(answer)


# Connectors: the same files dropped into a `file` connection's folder ---------------------


@pytest.mark.parametrize("case", list(IMPORT_FILES))
def test_a_hostile_file_in_a_drop_folder_fails_its_sync_row_or_file_in_bounded_time(live, case):
    """A connection's run reads its files with the same bounded readers: the record too deep
    is that row's error, a file that cannot be read fails alone, and nothing is written."""
    name, content, kind = IMPORT_FILES[case]
    folder = live.var_dir / "drop" / f"hostile-{abs(hash(case))}"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(content)
    created = live.send(
        "POST",
        f"{V1}/connections/",
        json={
            "name": f"hostile {case}",
            "connector": "file",
            "resource": "contacts",
            "mode": "upsert",
            "match": "external_id",
            "config": {"folder": str(folder)},
            "mapping": {},
            "schedule": None,
        },
    )
    assert created.status == 201, created.response.content[:300]

    with live.unchanged():
        answer = live.send("POST", f"{V1}/connections/{created.json()['id']}/run/")
        assert answer.status == 202, answer.response.content[:300]
        run = live.send("GET", f"{V1}/sync-runs/{answer.json()['id']}/").json()

    assert run["status"] not in ("queued", "running"), run  # eager: done when the POST answers
    assert run["created"] == run["updated"] == 0, run
    if kind == "row":
        assert run["failed"] == 1, run
    else:
        assert run["failed"] == 1 or run["error_message"], run
        assert (folder / "failed" / name).exists()  # set aside, never read again
    assert_bounded(answer)
