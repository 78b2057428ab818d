"""The prose of the OpenAPI document: the guide at the top of the docs and the resource tags."""

API_GUIDE = """
## Authentication

Send a partner API key as a bearer token: `Authorization: Bearer crm_…`. Each key carries
scopes: `<resource>:read` for GET and `<resource>:write` for POST, PUT, PATCH and DELETE (a write
scope does not imply read), plus `pii:read` to see email, phone and address unmasked. A key acts
as its user and never exceeds the user's own permissions. Every operation names the scope it
needs. A logged-in browser session also works (for these docs).

## Formats

Every endpoint speaks JSON, XML and CSV, both ways. Choose the response format with `Accept`
(`application/json`, `application/xml`, `text/csv`) or `?format=json|xml|csv`, which wins. Send
bodies as `application/json`, `application/xml` (or `text/xml`), `text/csv` (or
`application/csv`), `application/x-www-form-urlencoded` or `multipart/form-data`. What you GET
you can PUT back unchanged, in any format.

* **XML**: a `<root>` document; a list is `<list-item>` children; null is `xsi:nil="true"`; an
  empty list is `type="list"`.
* **CSV**: a header row, then a row per record. Nested objects flatten to dotted columns
  (`company.id`), lists join with `|`, null is an empty cell, and a cell starting with
  `= + - @` gets a leading `'` (spreadsheet formula injection). A single-record write takes
  exactly one data row; batches take many. Errors in CSV are `field,message` rows. A
  downloaded CSV (an export, an import's error report, an export job's file) starts with a
  UTF-8 byte-order mark only when it is for a person: `?bom=true|false` decides; without it a
  request with an API key gets none and a browser session gets one (Excel needs it for
  Chinese). Bodies you send may start with one.

## Errors

Every failure has one shape, the `Error` component:
`{"code": "invalid", "message": "Some fields are invalid.", "errors": {"email": ["…"]}}`.
`errors` maps field names to messages (`non_field_errors` for the record as a whole) and is
empty for errors that are not about fields. Status codes: 400 invalid input or unparseable body,
401 no or bad key, 403 missing scope or permission, 404 not found (also an unknown `format` or
cursor), 406 unsupported `Accept`, 409 `Idempotency-Key` in use, 412 `If-Match` failed, 413 body
too large, 415 unsupported `Content-Type`, 422 `Idempotency-Key` reused for another request,
429 rate limit (with `Retry-After`).

## Concurrency: ETag, If-Match, If-None-Match

Single-record responses carry an `ETag`. Send it back in `If-Match` on PUT, PATCH or DELETE:
if someone changed the record in between, nothing is written and the answer is 412. Send it in
`If-None-Match` on GET to get a bodiless 304 while the record is unchanged.

## Safe retries: Idempotency-Key

POST endpoints (create and batch) accept an `Idempotency-Key` header. The first response is
stored with the writes, in one transaction; a retry with the same key and request gets it back
(`Idempotent-Replayed: true`) without writing again. The same key with a different request is a
422; a retry while the first request still runs is a 409.

## Sync with your system: external ids

Every record can carry your system's id in `external_id`.
`PUT /api/v1/<resource>/by-external-id/<external_id>/` creates the record (201) or updates it
(200): an upsert that is safe to repeat. `?external_id=` filters lists, and `?updated_since=`
fetches what changed since your last sync.

## Batches

`POST /api/v1/<resource>/batch/` writes up to 1,000 records: a list, or
`{"records": [...], "mode": "create|update|upsert", "atomic": false}` (`?mode=` and `?atomic=`
win). The outcome has one result per record, in input order. With `atomic=true` any failure
rolls everything back (400, `committed: false`).

## Lists, filters, sparse fieldsets and exports

Lists page with a stable cursor (`next`, `previous`; `page_size` up to 1,000). Filters combine
with AND; `search` looks for words; `ordering` sorts. `?fields=id,email` returns only those
fields. `GET /api/v1/contacts/export/` streams every matching contact in one download.

## Bulk imports and exports

`POST /api/v1/imports/` takes a CSV, JSON or XML file (`multipart/form-data`) and answers 202
with a job that a worker runs in chunks; `GET` the job (its `Location`) for live progress, and
`/errors/` for the per-row report (`?format=csv` downloads it). `/imports/preview/` shows how a
file would be read first. `POST /api/v1/exports/` with the list's filters writes every matching
contact, company or deal to one file in the background; `/exports/{id}/download/` fetches it.
An export imports back unchanged. Scopes: `imports:read|write`, `exports:read|write`.
""".strip()

TAGS = [
    (
        "Contacts",
        "The people: PII (email, phone, address) is encrypted at rest and masked "
        "without `pii:read`; email and phone filter by exact match, with `pii:read` only "
        "(else a 400 naming the parameter, whether or not anyone has that value).",
    ),
    ("Companies", "The organisations contacts and deals belong to."),
    ("Deals", "Opportunities moving through a pipeline's stages."),
    ("Activities", "Calls, emails, meetings, notes and tasks about contacts, companies and deals."),
    ("Pipelines", "Deal pipelines with their ordered stages."),
    ("Tags", "Labels; records are tagged by name through their own endpoints."),
    ("Users", "The CRM's users (record owners), read-only."),
    (
        "Imports",
        "Bulk imports of CSV, JSON or XML files, run in the background: preview, progress, "
        "cancel and a per-row error report.",
    ),
    ("Exports", "Bulk exports to a CSV, JSON or XML file, run in the background, then download."),
]
