"""REST list and export benchmark, each beside a naive DRF baseline measured in the same run.

    .venv/bin/python bench/api_bench.py [--db sqlite|postgres|both] [--rows N] [--export-rows N]

For each database a fresh one (a SQLite file in a temp dir, or a new PostgreSQL database that is
dropped afterwards) is migrated and seeded (``bench/seed.py``); gunicorn then serves
``bench.settings`` (the real settings and URLs plus the naive API of ``bench/naive_api.py``) on
127.0.0.1 with DEBUG off, and we measure:

* list: GET 50 contacts as JSON with a real API key (``Authorization: Bearer``, every scope
  including ``pii:read``) at 8 connections, with wrk (or a small threaded client when wrk is
  missing). The naive and the real endpoint take turns of a few seconds each, so a neighbour's
  burst of CPU hits both alike; req/s, p50/p99 latency, rows/s. A second database of --rows
  contacts with 20 custom fields (5 of them PII, a value in each) is served beside the first and
  its list takes the same turns, for the with/without custom fields ratio;
* export: ``GET /api/v1/contacts/export/?format=csv|json|xml`` streamed over HTTP, its records
  counted against the seeded number; baseline: the naive list paged with ``?page_size=1000``.

Peak memory is the server's: VmHWM of each gunicorn worker (/proc/<pid>/status), reset through
/proc/<pid>/clear_refs just before each measurement; the table shows the largest. Worker CPU per
request or row (/proc/<pid>/stat) is steadier than wall-clock figures when other jobs share the
machine, which the "others" figure reports; on PostgreSQL a list's detail also gives what the
database's own backends spent per request (the other part of a request's cost on this machine).
Everything started here (servers, temp dirs, databases) is removed on exit, Ctrl-C included.
"""

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import load
from harness import BenchDatabase, OtherCpu, Server, log, wait_until_quiet
from profiling import PySpy, print_profile
from report import Result, print_table, print_verdicts

OUR_LIST = "/api/v1/contacts/"
OUR_EXPORT = "/api/v1/contacts/export/?format={fmt}"
NAIVE_LIST = "/bench/naive/contacts/"
NAIVE_PAGE = "/bench/naive/contacts/?format={fmt}&page_size={size}&page={page}"
# Occurs exactly once per exported record in each format (seeded text has no line breaks).
ROW_MARKERS = {"csv": b"\n", "json": b'\n{"id": ', "xml": b"<list-item><id>"}


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    # Ctrl-C cleans up too, even when started from a shell that set SIGINT to be ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    databases = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results: list[Result] = []
    try:
        for database in databases:
            with contextlib.ExitStack() as stack:
                bench_db = stack.enter_context(BenchDatabase(database, args))
                custom_db = None
                if args.custom_fields and not {"list", "customfields"} & args.skip:
                    custom_db = BenchDatabase(
                        database, args, custom_fields=args.custom_fields, pii=args.pii_custom_fields
                    )
                    custom_db.rows = args.rows  # only listed: the export rows are not needed
                    stack.enter_context(custom_db)
                run_database(bench_db, custom_db, args, results)
    finally:  # whatever was measured before a failure or Ctrl-C is still reported
        if results:
            print_table(results, args)
            print_verdicts(results, args)
            if args.json:
                args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="REST list + export benchmark beside a naive DRF baseline.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=100_000, help="contacts in the database")
    parser.add_argument(
        "--export-rows",
        type=int,
        help="contacts to export; the export streams every contact, so the database gets "
        "max(--rows, --export-rows). 1000000 checks the memory target",
    )
    parser.add_argument(
        "--baseline-export-rows",
        type=int,
        default=10_000,
        help="rows the naive baseline pages through per format (0: all). It runs at a few "
        "hundred rows/s, and its deeper OFFSET pages only get slower, so a prefix flatters it",
    )
    parser.add_argument("--formats", default="csv,json,xml")
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of measured load per endpoint"
    )
    parser.add_argument("--slice", type=float, default=2.0, help="seconds per turn")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up load")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (>1: gthread)"
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        help="DATABASE_CONN_MAX_AGE for the server (default: the app's; 0: a connection per "
        "request)",
    )
    parser.add_argument(
        "--custom-fields",
        type=int,
        default=20,
        help="custom contact fields of the second list database (0: no second database)",
    )
    parser.add_argument("--pii-custom-fields", type=int, default=5, help="how many are PII")
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=20.0,
        help="before measuring, wait until other processes use less than this %% of a core",
    )
    parser.add_argument(
        "--max-wait", type=float, default=20.0, help="longest wait for quiet, seconds"
    )
    parser.add_argument("--load-generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"),
        help="server URL without a database name; a fresh database is created and dropped",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to skip: list, customfields, export, baseline",
    )
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument(
        "--profile",
        type=Path,
        help="after measuring, sample the workers with py-spy (pip install py-spy) during one "
        "more list load and export per format; write collapsed stacks here, print the top frames",
    )
    args = parser.parse_args(argv)
    args.export_rows = args.export_rows or args.rows
    args.seed_rows = max(args.rows, args.export_rows)
    args.formats = [fmt.strip() for fmt in args.formats.split(",") if fmt.strip()]
    args.skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    if args.load_generator == "auto":
        args.load_generator = "wrk" if shutil.which("wrk") else "python"
    args.load = load.wrk if args.load_generator == "wrk" else load.python_client
    return args


def _exit_on_signal(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the cleanup in the context managers


def run_database(
    bench_db: BenchDatabase,
    custom_db: BenchDatabase | None,
    args: argparse.Namespace,
    results: list,
) -> None:
    db = bench_db.vendor

    def add(result: Result) -> None:
        result.extra["seed_seconds"] = round(bench_db.seed_seconds, 1)
        results.append(result)

    with contextlib.ExitStack() as stack:
        server = stack.enter_context(Server(bench_db, args))
        custom_server = stack.enter_context(Server(custom_db, args)) if custom_db else None
        _check_responses(server)
        if custom_server:
            _check_custom_fields(custom_server, args)
        if "list" not in args.skip:
            log(f"[{db}] list: naive and ours in turns, {args.duration:.0f}s each")
            for result in measure_lists(server, custom_server, db, args):
                add(result)
        if "export" not in args.skip:
            for fmt in args.formats:
                log(f"[{db}] export {fmt} ours: {args.seed_rows:,} rows")
                add(measure_export(server, db, fmt, args))
                if "baseline" not in args.skip:
                    log(f"[{db}] export {fmt} naive paging")
                    add(measure_naive_export(server, db, fmt, args))
        if args.profile:
            profile_database(server, custom_server, db, args)


def _check_responses(server: Server) -> None:
    """Both endpoints answer 50 contacts with company, owner and decrypted PII."""
    for path in (OUR_LIST, NAIVE_LIST):
        status, body = server.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:500]!r}")
        rows = json.loads(body)["results"]
        with_company = [row for row in rows if row.get("company")]
        if (
            len(rows) != 50
            or not with_company
            or not isinstance(with_company[0]["company"], dict)
            or not all(isinstance(row.get("owner"), dict) for row in rows)
            or not all("@" in (row.get("email") or "") for row in rows)
            or any("***" in row["email"] for row in rows)
        ):
            raise RuntimeError(f"GET {path} does not look right: {rows[:1]}")


def _check_custom_fields(server: Server, args: argparse.Namespace) -> None:
    """The second database's contacts carry every custom field, PII decrypted."""
    status, body = server.get(OUR_LIST)
    if status != 200:
        raise RuntimeError(f"GET {OUR_LIST} (custom fields) answered {status}: {body[:500]!r}")
    rows = json.loads(body)["results"]
    values = [row["custom_fields"] for row in rows]
    pii_values = [value for row in values for name, value in row.items() if name.endswith("_pii")]
    if (
        len(rows) != 50
        or any(len(row) != args.custom_fields for row in values)
        or any(value is None for row in values for value in row.values())
        or len(pii_values) != 50 * args.pii_custom_fields
        or any("***" in str(value) for value in pii_values)
    ):
        raise RuntimeError(f"GET {OUR_LIST} (custom fields) does not look right: {rows[:1]}")


def measure_lists(
    server: Server, custom_server: Server | None, db: str, args: argparse.Namespace
) -> list[Result]:
    """The naive and the real list (and the real one over the custom-field database) in
    alternating turns, so all meet the same neighbours."""
    endpoints = {"naive": (server, NAIVE_LIST), "ours": (server, OUR_LIST)}
    if custom_server:
        endpoints["ours+cf"] = (custom_server, OUR_LIST)
    wait_until_quiet(server, args)
    for target, path in endpoints.values():
        args.load(target, path, args.warmup, args.connections)
        target.wait_idle()
    idle = server.reset_peak_memory()
    stats = {name: load.LoadStats() for name in endpoints}
    cpu = dict.fromkeys(endpoints, 0.0)
    database_cpu = dict.fromkeys(endpoints, 0.0)
    others = dict.fromkeys(endpoints, 0.0)
    peak = dict.fromkeys(endpoints, 0.0)
    turns = max(1, round(args.duration / args.slice))
    for turn in range(turns):
        order = list(endpoints) if turn % 2 == 0 else list(endpoints)[::-1]
        for name in order:
            target, path = endpoints[name]
            target.reset_peak_memory()
            cpu_before, database_before = target.cpu_seconds(), target.database_cpu_seconds()
            with OtherCpu(target) as neighbours:
                part = args.load(target, path, args.slice, args.connections)
            target.wait_idle()
            cpu[name] += target.cpu_seconds() - cpu_before
            database_cpu[name] += target.database_cpu_seconds() - database_before
            others[name] += neighbours.percent * part.seconds
            peak[name] = max(peak[name], target.peak_memory())
            stats[name] = stats[name].merge(part)
    results = []
    for name, (_target, path) in endpoints.items():
        total = stats[name]
        cpu_ms = 1000 * cpu[name] / max(total.requests, 1)
        database_ms = 1000 * database_cpu[name] / max(total.requests, 1)
        others_percent = others[name] / max(total.seconds, 1e-9)
        detail = f"{total.requests:,} requests"
        if db == "postgres":
            detail += f", PostgreSQL CPU {database_ms:.1f} ms/req"
        if name == "ours+cf":
            detail += f", {args.custom_fields} custom fields ({args.pii_custom_fields} PII)"
        if total.errors:
            detail += f", {total.errors} ERRORS"
        results.append(
            Result(
                db=db,
                test="list 50",
                endpoint=f"{name} {path}",
                rps=total.rps,
                p50_ms=total.percentile(50),
                p99_ms=total.percentile(99),
                rows_per_s=total.rps * 50,
                peak_rss_mb=peak[name],
                idle_rss_mb=idle,
                worker_cpu=f"{cpu_ms:.1f} ms/req",
                detail=f"{detail}; others {others_percent:.0f}% of a core",
                extra={
                    "cpu_ms_per_request": round(cpu_ms, 2),
                    "database_cpu_ms_per_request": round(database_ms, 2),
                    "errors": total.errors,
                    "other_cpu_percent": round(others_percent),
                },
            )
        )
    return results


def _count_rows(response: http.client.HTTPResponse, marker: bytes) -> tuple[int, int, float]:
    """(marker count, bytes, time of the first byte) of a streamed body, read 256 KiB at a time."""
    count = size = 0
    tail = b""
    first_byte_at = None
    while chunk := response.read(256 * 1024):
        if first_byte_at is None:
            first_byte_at = time.perf_counter()
        size += len(chunk)
        window = tail + chunk
        count += window.count(marker)
        tail = window[-(len(marker) - 1) :] if len(marker) > 1 else b""
    return count, size, first_byte_at or time.perf_counter()


def _stream_export(server: Server, fmt: str) -> tuple[int, int, float, float]:
    """(row markers, bytes, seconds to the first byte, seconds) of one streamed export."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=900)
    started = time.perf_counter()
    try:
        connection.request("GET", OUR_EXPORT.format(fmt=fmt), headers=server.headers())
        response = connection.getresponse()
        if response.status != 200:
            body = response.read(500)
            raise RuntimeError(f"export {fmt} answered {response.status}: {body!r}")
        count, size, first_byte_at = _count_rows(response, ROW_MARKERS[fmt])
    finally:
        connection.close()
    return count, size, first_byte_at - started, time.perf_counter() - started


def measure_export(server: Server, db: str, fmt: str, args: argparse.Namespace) -> Result:
    wait_until_quiet(server, args)
    idle = server.reset_peak_memory()
    cpu_before = server.cpu_seconds()
    with OtherCpu(server) as others:
        count, size, first_byte_s, seconds = _stream_export(server, fmt)
    cpu_us = 1e6 * (server.cpu_seconds() - cpu_before) / max(args.seed_rows, 1)
    rows = count - 1 if fmt == "csv" else count  # the CSV header line
    if rows != args.seed_rows:
        raise RuntimeError(f"export {fmt}: counted {rows:,} rows, expected {args.seed_rows:,}")
    return Result(
        db=db,
        test=f"export {fmt}",
        endpoint=f"ours {OUR_EXPORT.format(fmt=fmt)}",
        rows_per_s=rows / seconds,
        peak_rss_mb=server.peak_memory(),
        idle_rss_mb=idle,
        rows=rows,
        seconds=seconds,
        worker_cpu=f"{cpu_us:.0f} us/row",
        detail=f"{rows:,} rows, {size / 1e6:.0f} MB in {seconds:.1f}s, first byte "
        f"{1000 * first_byte_s:.0f} ms; others {others.percent:.0f}% of a core",
        extra={"cpu_us_per_row": round(cpu_us, 1), "other_cpu_percent": round(others.percent)},
    )


def measure_naive_export(server: Server, db: str, fmt: str, args: argparse.Namespace) -> Result:
    limit = min(args.baseline_export_rows or args.seed_rows, args.seed_rows)
    page_size = 1000
    wait_until_quiet(server, args)
    idle = server.reset_peak_memory()
    cpu_before = server.cpu_seconds()
    with OtherCpu(server) as others:
        started = time.perf_counter()
        rows, size, pages = _page_through_naive(server, fmt, page_size, limit)
        seconds = time.perf_counter() - started
    cpu_us = 1e6 * (server.cpu_seconds() - cpu_before) / max(rows, 1)
    return Result(
        db=db,
        test=f"export {fmt}",
        endpoint=f"naive ?format={fmt}&page_size={page_size}",
        rows_per_s=rows / seconds,
        peak_rss_mb=server.peak_memory(),
        idle_rss_mb=idle,
        rows=rows,
        seconds=seconds,
        worker_cpu=f"{cpu_us:.0f} us/row",
        detail=f"{rows:,} rows ({pages} pages), {size / 1e6:.0f} MB in {seconds:.1f}s; "
        f"others {others.percent:.0f}% of a core",
        extra={"cpu_us_per_row": round(cpu_us, 1), "other_cpu_percent": round(others.percent)},
    )


def _page_through_naive(server: Server, fmt: str, page_size: int, limit: int) -> tuple:
    """(rows, bytes, pages) read from the naive list, a page of `page_size` at a time."""
    rows = size = page = 0
    while rows < limit:
        page += 1
        status, body = server.get(NAIVE_PAGE.format(fmt=fmt, size=page_size, page=page))
        if status != 200:
            raise RuntimeError(f"naive page {page} ({fmt}) answered {status}: {body[:300]!r}")
        size += len(body)
        if fmt == "json":
            got = len(json.loads(body)["results"])
        elif fmt == "csv":
            got = body.count(b"\n") - 1
        else:
            got = body.count(ROW_MARKERS["xml"])
        rows += got
        if got < page_size:
            break
    return rows, size, page


def profile_database(
    server: Server, custom_server: Server | None, db: str, args: argparse.Namespace
) -> None:
    """One more list load (each database) and one export per format under py-spy (not in the
    figures above: sampling slows the workers a little)."""
    args.profile.mkdir(parents=True, exist_ok=True)
    if "list" not in args.skip:
        lists = [("list", server), ("list-custom-fields", custom_server)]
        for name, target in lists:
            if target is None:
                continue
            out = args.profile / f"{db}-{name}.txt"
            log(f"[{db}] profiling the {name} for {args.duration:.0f}s -> {out}")
            with PySpy(target, out):
                args.load(target, OUR_LIST, args.duration, args.connections)
            print_profile(f"{db} {name} (ours)", out)
    if "export" not in args.skip:
        for fmt in args.formats:
            out = args.profile / f"{db}-export-{fmt}.txt"
            log(f"[{db}] profiling the {fmt} export -> {out}")
            with PySpy(server, out):
                _stream_export(server, fmt)
            print_profile(f"{db} export {fmt} (ours)", out)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # already cleaned up and reported by main()
        sys.exit(130)
