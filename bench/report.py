"""The results table and the verdicts against the targets (the issue's and FIELD-NOTES')."""

import argparse
import os
from dataclasses import dataclass, field

TARGETS = {
    "list_vs_naive": 2.0,
    "list_rps": 500.0,
    "list_p99_ms": 30.0,
    "list_custom_fields_ratio": 0.8,  # with 20 custom fields (5 PII) vs without
    "export_rows_per_s": 40_000.0,
    "export_rows_per_s_field_notes": 60_000.0,
    "export_peak_mb": 150.0,
}


@dataclass
class Result:
    db: str
    test: str
    endpoint: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    rows_per_s: float | None = None
    peak_rss_mb: float | None = None
    idle_rss_mb: float | None = None
    rows: int | None = None
    seconds: float | None = None
    worker_cpu: str = ""  # CPU the gunicorn workers spent per request or per row
    detail: str = ""
    extra: dict = field(default_factory=dict)


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    threads = f"gthread x{args.threads}" if args.threads > 1 else "sync"
    max_age = "app default" if args.conn_max_age is None else args.conn_max_age
    print(
        f"\ncontacts: {args.seed_rows:,}  gunicorn: {args.workers} workers ({threads}), "
        f"DEBUG=false, CONN_MAX_AGE={max_age}  load: {args.load_generator}, "
        f"{args.connections} connections, {args.duration:.0f}s per endpoint in "
        f"{args.slice:.0f}s turns after {args.warmup:.0f}s warm-up"
    )
    print(
        "peak MB: the largest gunicorn worker's VmHWM, reset before each measurement. "
        "worker CPU: what the workers spent per request or row (the database server's CPU "
        "is not included). others: CPU taken meanwhile by jobs this run did not start\n"
    )
    header = (
        f"{'db':<9}{'test':<12}{'endpoint':<44}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'rows/s':>9}{'peak MB':>8}{'worker CPU':>14}  detail"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.db:<9}{r.test:<12}{r.endpoint[:43]:<44}{_fmt(r.rps, '.0f'):>7}"
            f"{_fmt(r.p50_ms, '.1f'):>8}{_fmt(r.p99_ms, '.1f'):>8}"
            f"{_fmt(r.rows_per_s, ',.0f'):>9}{_fmt(r.peak_rss_mb, '.0f'):>8}"
            f"{r.worker_cpu:>14}  {r.detail}"
        )
    seeds = {r.db: r.extra.get("seed_seconds") for r in results}
    print("seeding: " + ", ".join(f"{db} {seconds}s" for db, seconds in seeds.items()))


def print_verdicts(results: list[Result], args: argparse.Namespace) -> None:
    def mark(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    print("\nagainst the targets:")
    by_key = {(r.db, r.test, r.endpoint.split()[0]): r for r in results}
    for db in dict.fromkeys(r.db for r in results):
        ours, naive = by_key.get((db, "list 50", "ours")), by_key.get((db, "list 50", "naive"))
        if ours and naive and ours.rps and naive.rps:
            ratio = ours.rps / naive.rps
            cpu_ms = max(ours.extra["cpu_ms_per_request"], 0.01)
            cpu_ratio = naive.extra["cpu_ms_per_request"] / cpu_ms
            print(
                f"  {db:<9}list  {ours.rps:7.0f} req/s = {ratio:.1f}x naive "
                f"[>= {TARGETS['list_vs_naive']:.0f}x {mark(ratio >= TARGETS['list_vs_naive'])}]"
                f"  [>= {TARGETS['list_rps']:.0f} req/s {mark(ours.rps >= TARGETS['list_rps'])}]"
                f"  p99 {ours.p99_ms:.1f} ms "
                f"[< {TARGETS['list_p99_ms']:.0f} ms {mark(ours.p99_ms < TARGETS['list_p99_ms'])}]"
            )
            cores = min(args.workers * args.threads, os.cpu_count() or 1)
            print(
                f"  {'':<9}      worker CPU {cpu_ms:.1f} ms/req ({cpu_ratio:.1f}x less than "
                f"naive): on {cores} idle cores the workers alone cap it near "
                f"{1000 * cores / cpu_ms:,.0f} req/s"
            )
        custom = by_key.get((db, "list 50", "ours+cf"))
        if ours and custom and ours.rps and custom.rps:
            ratio = custom.rps / ours.rps
            cpu_ratio = ours.extra["cpu_ms_per_request"] / max(
                custom.extra["cpu_ms_per_request"], 0.01
            )
            target = TARGETS["list_custom_fields_ratio"]
            print(
                f"  {db:<9}list with custom fields {custom.rps:7.0f} req/s = {ratio:.0%} of the "
                f"list without [>= {target:.0%} {mark(ratio >= target)}]  by worker CPU "
                f"{cpu_ratio:.0%}  p99 {custom.p99_ms:.1f} ms"
            )
        for fmt in args.formats:
            ours = by_key.get((db, f"export {fmt}", "ours"))
            naive = by_key.get((db, f"export {fmt}", "naive"))
            if not ours:
                continue
            versus = f" = {ours.rows_per_s / naive.rows_per_s:.0f}x naive" if naive else ""
            memory_note = "" if ours.rows >= 1_000_000 else f" (at {ours.rows:,} rows)"
            cpu_us = max(ours.extra["cpu_us_per_row"], 0.1)  # a tiny export can read 0 ticks
            print(
                f"  {db:<9}{fmt:<6}{ours.rows_per_s:7,.0f} rows/s{versus} "
                f"[>= 40k {mark(ours.rows_per_s >= TARGETS['export_rows_per_s'])}, "
                f">= 60k {mark(ours.rows_per_s >= TARGETS['export_rows_per_s_field_notes'])}]"
                f"  peak {ours.peak_rss_mb:.0f} MB{memory_note} "
                f"[< 150 MB {mark(ours.peak_rss_mb < TARGETS['export_peak_mb'])}]"
                f"  worker {cpu_us:.0f} us/row: <= {1e6 / cpu_us:,.0f} rows/s on one core"
            )
