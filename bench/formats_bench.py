"""Throughput and peak memory of `integrations.formats`, each beside a naive baseline.

    .venv/bin/python bench/formats_bench.py [--rows N] [--formats csv,json,xml]

For each format: write N contact-like records (15 CSV columns; nested company, tag list, None,
Decimal and Chinese text) to a file with `open_writer`, then read them back with `open_reader`;
the baselines do the same with the whole file in memory (csv.DictReader into a list, json.load,
ElementTree.parse). Rows/s is wall time on this machine, single-threaded; peak memory is the
growth of the process's resident set (VmHWM, reset before each step through
/proc/self/clear_refs) over what it was before the step. Everything goes in a temp dir that is
removed at the end.
"""

import argparse
import contextlib
import csv
import itertools
import json
import os
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import deque
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

import django  # noqa: E402

django.setup()

from integrations.formats import open_reader, open_writer  # noqa: E402

COLUMNS = [
    "id",
    "external_id",
    "first_name",
    "last_name",
    "title",
    "company.id",
    "company.name",
    "email",
    "phone",
    "lifecycle_stage",
    "source",
    "tags",
    "notes",
    "amount",
    "created_at",
]
FIRST_NAMES = ["Ana", "Zoë", "伟", "José", "Ben", "娜"]
LAST_NAMES = ["Müller", "张", "O'Brien", "Smith", "李", "García"]


def sample_rows(count: int = 1000) -> list[dict]:
    rows = []
    for n in range(count):
        rows.append(
            {
                "id": n,
                "external_id": f"ERP-{n:08d}",
                "first_name": FIRST_NAMES[n % len(FIRST_NAMES)],
                "last_name": LAST_NAMES[n % len(LAST_NAMES)],
                "title": "Head of Purchasing" if n % 3 else None,
                "company": {"id": n % 50, "name": f"北京科技 {n % 50} GmbH"} if n % 4 else None,
                "email": f"user{n}@example.com",
                "phone": f"+49 30 {n:07d}",
                "lifecycle_stage": "customer",
                "source": "import",
                "tags": ["vip", "2026"] if n % 2 else [],
                "notes": "Called twice,\nleft a message" if n % 5 == 0 else "",
                "amount": Decimal(f"{n}.50"),
                "created_at": "2026-11-25T10:00:00Z",
            }
        )
    return rows


def peak_memory():
    """(reset, peak) callables for the resident-set high-water mark, in bytes."""
    status = Path("/proc/self/status")

    def field(name: str) -> int:
        for line in status.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1]) * 1024
        return 0

    def reset() -> int:
        with contextlib.suppress(OSError):  # not Linux: the peak is then since the start
            Path("/proc/self/clear_refs").write_text("5")
        return field("VmRSS:")

    return reset, lambda: field("VmHWM:")


def measure(step, rows: int) -> tuple[float, float]:
    """(rows per second, peak resident growth in MiB) of `step()`."""
    reset, peak = peak_memory()
    before = reset()
    started = time.perf_counter()
    step()
    elapsed = time.perf_counter() - started
    return rows / elapsed, max(peak() - before, 0) / 2**20


def ours_write(path: Path, fmt: str, rows: int):
    def step():
        source = itertools.islice(itertools.cycle(sample_rows()), rows)
        columns = COLUMNS if fmt == "csv" else None
        with open(path, "wb") as handle, open_writer(handle, fmt, columns=columns) as writer:
            for row in source:
                writer.write(row)

    return step


def ours_read(path: Path, rows: int):
    def step():
        with open_reader(path) as reader:
            last = deque(reader, maxlen=1)
        assert last and last[0].number in (rows, rows + 1), last

    return step


def naive_write(path: Path, fmt: str, rows: int):
    def step():
        data = list(itertools.islice(itertools.cycle(sample_rows()), rows))
        if fmt == "csv":
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(COLUMNS)
                for row in data:
                    flat = {**row, "company.id": (row["company"] or {}).get("id")}
                    flat["company.name"] = (row["company"] or {}).get("name")
                    writer.writerow(
                        [
                            "|".join(v) if isinstance(v, list) else v
                            for v in (flat.get(column) for column in COLUMNS)
                        ]
                    )
        elif fmt == "json":
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, default=str)
        else:
            root = ElementTree.Element("root")
            for row in data:
                item = ElementTree.SubElement(root, "list-item")
                for key, value in row.items():
                    ElementTree.SubElement(item, key).text = "" if value is None else str(value)
            ElementTree.ElementTree(root).write(path, encoding="utf-8")

    return step


def naive_read(path: Path, fmt: str, rows: int):
    def step():
        if fmt == "csv":
            with open(path, newline="", encoding="utf-8") as handle:
                data = list(csv.DictReader(handle))
        elif fmt == "json":
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        else:
            data = [
                {child.tag: child.text for child in item}
                for item in ElementTree.parse(path).getroot()
            ]
        assert len(data) == rows

    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,json,xml")
    options = parser.parse_args(argv)
    formats = [fmt.strip() for fmt in options.formats.split(",") if fmt.strip()]
    rows = options.rows

    print(f"{rows:,} records, {len(COLUMNS)} CSV columns; Python {sys.version.split()[0]}")
    header = f"{'':6} {'write rows/s':>13} {'read rows/s':>12} {'read peak':>10}"
    print(f"{header}   naive: {'write':>9} {'read':>9} {'read peak':>10}  file")
    with tempfile.TemporaryDirectory(prefix="formats-bench-") as folder:
        for fmt in formats:
            ours_path = Path(folder) / f"ours.{fmt}"
            naive_path = Path(folder) / f"naive.{fmt}"
            write_rate, _ = measure(ours_write(ours_path, fmt, rows), rows)
            read_rate, read_peak = measure(ours_read(ours_path, rows), rows)
            naive_write_rate, _ = measure(naive_write(naive_path, fmt, rows), rows)
            naive_read_rate, naive_peak = measure(naive_read(naive_path, fmt, rows), rows)
            size = ours_path.stat().st_size / 2**20
            print(
                f"{fmt:6} {write_rate:13,.0f} {read_rate:12,.0f} {read_peak:8.1f}MB"
                f"   naive: {naive_write_rate:9,.0f} {naive_read_rate:9,.0f} {naive_peak:8.1f}MB"
                f"  {size:.1f} MiB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
