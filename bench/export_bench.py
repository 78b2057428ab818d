"""Contact export benchmark: our chunked export beside a naive DRF baseline, same run.

    .venv/bin/python bench/export_bench.py [--db sqlite|postgres|both] [--rows 100000]
        [--big-rows 1000000] [--baseline-rows 20000] [--custom-fields 20] [--http]

For each database a fresh one is built and seeded (``bench/harness.py``, ``bench/seed.py``: 3
encrypted PII fields per contact, real tokens). Each measurement runs in its own process, so its
peak memory (VmHWM) is its own:

* ours: ``integrations.exports.services.export_write`` (the ExportJob and ``export_data`` path)
  and the REST door's ``StreamingHttpResponse`` (``customers.export_response``), PII decrypted,
  into a sink that counts rows; worker processes' peak is reported beside the main process's;
* naive: ``ContactOutputSerializer``-free DRF: a ``ModelSerializer(many=True)`` over
  ``.iterator()`` (``select_related``/``prefetch_related`` on) and the stock renderers
  (DRF's JSON, djangorestframework-xml's XML, the API's CSV), on the first --baseline-rows rows;
* with --custom-fields N: N custom fields (N/4 of them PII) defined and filled on every contact,
  then ours again: the ratio to the run without them;
* with --http: the same export over gunicorn (``GET /api/v1/contacts/export/``), peak worker RSS.
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(BENCH.parent))

from harness import PYTHON, ROOT, BenchDatabase, Server, log  # noqa: E402

ROW_MARKERS = {"csv": b"\n", "json": b'\n{"id": ', "xml": b"<list-item><id>"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--big-rows", type=int, default=0, help="also seed this many (1000000)")
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--formats", default="csv,json,xml")
    parser.add_argument("--custom-fields", type=int, default=0)
    parser.add_argument("--http", action="store_true")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # child mode: kind:format:limit
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure.split(":"))))
        return 0
    # Ctrl-C and SIGTERM unwind through the cleanup (servers, temp dirs, databases), even when
    # started from a shell that set SIGINT to be ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    args.conn_max_age, args.workers, args.threads = 0, 2, 1
    results = []
    try:
        for vendor in ["sqlite", "postgres"] if args.db == "both" else [args.db]:
            for rows in [args.rows, *([args.big_rows] if args.big_rows else [])]:
                args.seed_rows = rows
                with BenchDatabase(vendor, args) as bench_db:
                    results += run_database(bench_db, args, rows)
    finally:
        print_results(results)
    return 0


def run_database(bench_db: BenchDatabase, args: argparse.Namespace, rows: int) -> list[dict]:
    db = f"{bench_db.vendor} {rows:,}"
    results = []

    def child(kind: str, fmt: str, limit: int = 0) -> None:
        log(f"[{db}] {kind} {fmt}")
        command = [PYTHON, str(BENCH / "export_bench.py"), "--measure", f"{kind}:{fmt}:{limit}"]
        done = subprocess.run(
            command, cwd=ROOT, env=bench_db.env, capture_output=True, text=True, timeout=3600
        )
        if done.returncode:
            raise RuntimeError(f"{kind} {fmt} failed:\n{done.stderr[-3000:]}")
        results.append({"db": db, **json.loads(done.stdout.strip().splitlines()[-1])})

    for fmt in args.formats:
        child("naive", fmt, min(args.baseline_rows, rows))
        child("ours-service", fmt)
        child("ours-rest", fmt)
    if args.http:
        with Server(bench_db, args) as server:
            for fmt in args.formats:
                log(f"[{db}] http {fmt}")
                results.append({"db": db, **over_http(server, fmt, rows)})
    if args.custom_fields:
        log(f"[{db}] adding {args.custom_fields} custom fields to every contact")
        seed = [
            PYTHON,
            str(BENCH / "export_bench.py"),
            "--measure",
            f"custom:{args.custom_fields}:0",
        ]
        subprocess.run(seed, cwd=ROOT, env=bench_db.env, check=True, capture_output=True)
        for fmt in args.formats:
            child("ours-rest+cf", fmt)
    return results


# Child side: one measurement in this process.


def measure(kind: str, fmt: str, limit: str) -> dict:
    import django

    django.setup()
    if kind == "custom":
        add_custom_fields(int(fmt))
        return {}
    sink = CountingSink(ROW_MARKERS[fmt])
    cpu_before = _cpu_seconds()  # not Django's start-up: ~5 us a row of a 100k export
    started = time.perf_counter()
    if kind == "naive":
        rows = naive_export(fmt, int(limit), sink)
    elif kind == "ours-service":
        from integrations.exports.services import export_write

        rows = export_write(
            resource="contacts", format=fmt, filters=None, include_pii=True, stream=sink
        )
    else:
        rows = rest_export(fmt, sink)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    markers = sink.markers - (1 if fmt == "csv" else 0)
    if kind != "naive" and markers != rows:
        raise RuntimeError(f"{kind} {fmt}: {markers} records in the output, {rows} counted")
    return {
        "kind": kind,
        "format": fmt,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "mb": round(sink.size / 1e6),
        "cpu_us_per_row": round(1e6 * cpu / max(rows, 1)),  # this process and its workers
        "peak_mb": round(_vm_hwm_kb() / 1024),
        "workers_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    }


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (the export's workers)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )


class CountingSink:
    """A binary stream that keeps nothing: bytes and record markers counted."""

    mode = "wb"

    def __init__(self, marker: bytes) -> None:
        self.marker, self.size, self.markers, self.tail = marker, 0, 0, b""

    def write(self, data: bytes) -> int:
        window = self.tail + data
        self.markers += window.count(self.marker)
        self.tail = window[-(len(self.marker) - 1) :] if len(self.marker) > 1 else b""
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def rest_export(fmt: str, sink: CountingSink) -> int:
    """The REST door's response, built as the viewset builds it, read to the end."""
    from customers.api.views import ContactViewSet
    from customers.custom_fields.values import definitions_for
    from customers.export_response import stream_contacts
    from customers.selectors import contact_list

    definitions = definitions_for("contact")
    columns = [
        *ContactViewSet.csv_base_columns,
        *((f"custom_fields.{d.name}", d.name) for d in definitions),
    ]
    response = stream_contacts(
        contact_list(),
        export_format=fmt,
        can_view_pii=True,
        columns=columns,
        definitions=definitions,
        bom=True,  # a browser's export: the mark costs three bytes once
    )
    for piece in response.streaming_content:
        sink.write(piece)
    return sink.markers - (1 if fmt == "csv" else 0)


def naive_export(fmt: str, limit: int, sink: CountingSink) -> int:
    """A first implementation: a ModelSerializer over an iterator, the stock renderers."""
    from rest_framework import serializers
    from rest_framework.renderers import JSONRenderer
    from rest_framework_xml.renderers import XMLRenderer

    from customers.api.renderers import CSVRenderer
    from customers.models import Contact

    class Naive(serializers.ModelSerializer):
        company = serializers.SerializerMethodField()
        owner = serializers.SerializerMethodField()
        tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

        class Meta:
            model = Contact
            exclude = ["email_index", "phone_index", "custom_index"]

        def get_company(self, contact):
            return contact.company and {"id": contact.company_id, "name": contact.company.name}

        def get_owner(self, contact):
            return contact.owner and {"id": contact.owner_id, "username": contact.owner.username}

    queryset = (
        Contact.objects.select_related("company", "owner")
        .prefetch_related("tags")
        .order_by("pk")[:limit]
    )
    data = Naive(queryset.iterator(chunk_size=2000), many=True).data
    renderer = {"json": JSONRenderer, "xml": XMLRenderer, "csv": CSVRenderer}[fmt]()
    body = renderer.render(data, renderer_context={})
    sink.write(body.encode() if isinstance(body, str) else body)
    return len(data)


def add_custom_fields(count: int) -> None:
    """`count` text custom fields, every fourth PII, filled on every contact (encrypted)."""
    from django.db import transaction

    from customers.actors import SYSTEM
    from customers.custom_fields.values import encrypt, index_value
    from customers.models import Contact
    from customers.services.custom_fields import custom_field_create

    fields = [
        custom_field_create(
            actor=SYSTEM,
            entity="contact",
            name=f"cf{i}",
            label=f"CF {i}",
            type="text",
            pii=i % 4 == 0,
        )
        for i in range(count)
    ]
    ids = list(Contact.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        with transaction.atomic():
            contacts = list(Contact.objects.filter(pk__in=ids[start : start + 2000]))
            for contact in contacts:
                values, index = {}, {}
                for field in fields:
                    text = f"{field.name} value {contact.pk}"
                    if field.pii:
                        values[field.name], index[field.name] = (
                            encrypt(text),
                            index_value(field, text),
                        )
                    else:
                        values[field.name] = text
                contact.custom_fields, contact.custom_index = values, index
            Contact.objects.bulk_update(contacts, ["custom_fields", "custom_index"])


def _vm_hwm_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# Parent side.


def over_http(server: Server, fmt: str, rows: int) -> dict:
    import http.client

    server.reset_peak_memory()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=900)
    sink = CountingSink(ROW_MARKERS[fmt])
    started = time.perf_counter()
    connection.request("GET", f"/api/v1/contacts/export/?format={fmt}", headers=server.headers())
    response = connection.getresponse()
    while chunk := response.read(256 * 1024):
        sink.write(chunk)
    seconds = time.perf_counter() - started
    connection.close()
    got = sink.markers - (1 if fmt == "csv" else 0)
    if response.status != 200 or got != rows:
        raise RuntimeError(f"http {fmt}: status {response.status}, {got} rows of {rows}")
    return {
        "kind": "ours-http",
        "format": fmt,
        "rows": got,
        "seconds": round(seconds, 2),
        "rows_per_s": round(got / seconds),
        "mb": round(sink.size / 1e6),
        "cpu_us_per_row": None,
        "peak_mb": round(server.peak_memory()),
        "workers_peak_mb": None,
    }


def print_results(results: list[dict]) -> None:
    if not results:
        return
    print(
        f"\n{'database':<18}{'path':<15}{'fmt':<5}{'rows':>10}{'rows/s':>10}"
        f"{'vs naive':>9}{'CPU us/row':>11}{'peak MB':>9}{'workers MB':>11}"
    )
    naive = {(r["db"], r["format"]): r["rows_per_s"] for r in results if r["kind"] == "naive"}
    plain = {(r["db"], r["format"]): r["rows_per_s"] for r in results if r["kind"] == "ours-rest"}
    for r in results:
        base = naive.get((r["db"], r["format"]))
        ratio = f"{r['rows_per_s'] / base:.1f}x" if base and r["kind"] != "naive" else "-"
        print(
            f"{r['db']:<18}{r['kind']:<15}{r['format']:<5}{r['rows']:>10,}{r['rows_per_s']:>10,}"
            f"{ratio:>9}{r['cpu_us_per_row'] or '-':>11}{r['peak_mb']:>9}"
            f"{r['workers_peak_mb'] or '-':>11}"
        )
    cpu = {(r["db"], r["format"]): r["cpu_us_per_row"] for r in results if r["kind"] == "ours-rest"}
    for r in results:
        if r["kind"] == "ours-rest+cf" and plain.get((r["db"], r["format"])):
            share = r["rows_per_s"] / plain[(r["db"], r["format"])]
            cpu_share = cpu[(r["db"], r["format"])] / r["cpu_us_per_row"]
            print(
                f"{r['db']} {r['format']}: with custom fields {100 * share:.0f}% of the speed "
                f"without ({100 * cpu_share:.0f}% by CPU per row; target >= 80%)"
            )


if __name__ == "__main__":
    sys.exit(main())
