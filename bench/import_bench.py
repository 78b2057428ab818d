"""Bulk import benchmark: our chunked import job beside the naive path, same run, same machine.

    .venv/bin/python bench/import_bench.py [--db sqlite|postgres|both] [--rows 100000]
                                           [--naive-rows 5000] [--match email|external_id]
                                           [--custom-fields 10] [--tags 0] [--import-only]

Each database is fresh (a SQLite file in a temp dir, or a new PostgreSQL database dropped
afterwards). The file is CSV with 3 encrypted PII columns (email, phone, address) and two blind
indexes to compute (``--tags 2`` adds two tags to every contact, each a link row to write); the
import upserts by the match key, file to committed rows. The naive baseline is what a first
implementation does: a DRF serializer's ``is_valid()`` and a service ``create`` per row.
Further rows: the same import with 10 custom fields (in a process and database of its own, so
it starts from an empty table as the first does), the same people with a new address (all
updated), and that file again (all unchanged, nothing written). ``--import-only`` runs one
import in a process of its own and prints its peak RSS (the 1,000,000-row memory check).
Settings are production's: DEBUG off and fresh keys.
"""

import argparse
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def csv_lines(
    rows: int, offset: int = 0, *, street: str = "Nanjing Road", custom: int = 0, tags: int = 0
):
    yield (
        "external_id,first_name,last_name,email,phone,address"
        + (",tags" if tags else "")
        + ("".join(f",cf{i}" for i in range(custom)))
    )
    for n in range(offset, offset + rows):
        cells = f"x-{n},Name{n},姓{n % 97},p{n}@example.com,+86 138 {n:08d},{n} {street}"
        if tags:
            cells += "," + "|".join(["vip", f"n{n % 5}", *(f"t{k}" for k in range(2, tags))][:tags])
        yield cells + "".join(f",{_custom_cell(i, n)}" for i in range(custom))


def csv_bytes(rows: int, offset: int = 0, **options) -> bytes:
    return ("\n".join(csv_lines(rows, offset, **options)) + "\n").encode()


def write_csv(path: Path, rows: int, offset: int = 0, **options) -> Path:
    """Streamed to disk: a million rows never sit in this process's memory."""
    with path.open("w", encoding="utf-8") as out:
        for line in csv_lines(rows, offset, **options):
            out.write(line + "\n")
    return path


CUSTOM_TYPES = [
    "text",
    "integer",
    "decimal",
    "date",
    "boolean",
    "choice",
    "text",
    "integer",
    "url",
    "multi_choice",
]


def _custom_cell(i: int, n: int) -> str:
    kind = CUSTOM_TYPES[i % len(CUSTOM_TYPES)]
    return {
        "text": f"t{n % 1000}",
        "integer": str(n % 10000),
        "decimal": f"{n % 1000}.5",
        "date": f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
        "boolean": "yes" if n % 2 else "no",
        "choice": "gold" if n % 3 else "silver",
        "url": f"https://example.com/{n}",
        "multi_choice": "gold|silver" if n % 2 else "gold",
    }[kind]


def define_custom_fields(count: int) -> None:
    from customers.actors import SYSTEM
    from customers.services.custom_fields import custom_field_create

    for i in range(count):
        kind = CUSTOM_TYPES[i % len(CUSTOM_TYPES)]
        options = {"choices": ["gold", "silver"]} if "choice" in kind else {}
        custom_field_create(
            actor=SYSTEM, entity="contact", name=f"cf{i}", label=f"CF {i}", type=kind, **options
        )


class Clock:
    """Wall time and the CPU time of this process and its finished children (the encryption
    helper): on a shared machine the CPU per row is the steadier figure (PostgreSQL's own CPU
    is not in it)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), _cpu()

    def stop(self, rows: int) -> tuple[float, float]:
        """(rows per second, CPU microseconds per row)."""
        wall, cpu = time.perf_counter() - self.wall, _cpu() - self.cpu
        return rows / wall, cpu * 1e6 / rows


def _cpu() -> float:
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_for(database_url: str, args: argparse.Namespace) -> list[tuple]:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from customers.actors import SYSTEM
    from customers.api.serializers import ContactInputSerializer
    from customers.models import Contact
    from customers.services import contacts
    from integrations.imports import services as imports

    folder = Path(os.environ["CRM_VAR_DIR"])

    def timed_import(path: Path) -> tuple[object, Clock]:
        clock = Clock()
        with path.open("rb") as handle:
            job = imports.import_create(
                user=None,
                file=handle,
                filename=path.name,
                resource="contacts",
                match_key=args.match,
                enqueue=False,
            )
        job = imports.import_run(job_id=job.pk)
        return job, clock

    results = []
    tags = args.tags
    base = write_csv(folder / "base.csv", args.rows, tags=tags)
    job, clock = timed_import(base)
    assert job.rows_created == args.rows, (job.status, job.rows_created, job.error_message)
    results.append(("import job (upsert, new rows)", args.rows, *clock.stop(args.rows)))
    base_rate = results[-1][2]

    # The same people again with a new address: every row matches and is updated.
    moved = write_csv(folder / "moved.csv", args.rows, street="Huaihai Road", tags=tags)
    job, clock = timed_import(moved)
    assert job.rows_updated == args.rows, (job.rows_updated, job.rows_unchanged)
    results.append(("import job (upsert, all updated)", args.rows, *clock.stop(args.rows)))
    # And once more: nothing differs, nothing is written.
    job, clock = timed_import(folder / "moved.csv")
    assert job.rows_unchanged == args.rows, (job.rows_updated, job.rows_unchanged)
    results.append(("import job (upsert, all unchanged)", args.rows, *clock.stop(args.rows)))

    import csv

    naive_file = csv_bytes(args.naive_rows, offset=10**8, tags=tags).decode()
    rows = list(csv.DictReader(io.StringIO(naive_file)))
    clock = Clock()
    for row in rows:
        if tags:
            row["tags"] = row["tags"].split("|")
        serializer = ContactInputSerializer(data=row)
        serializer.is_valid(raise_exception=True)
        contacts.contact_create(actor=SYSTEM, **serializer.validated_data)
    results.append(("naive: serializer + service per row", len(rows), *clock.stop(len(rows))))
    naive_rate = results[-1][2]
    expected = args.rows + args.naive_rows
    assert Contact.objects.count() == expected
    naive_cpu = results[-1][3]
    summary = [
        f"import job vs naive: {base_rate / naive_rate:.1f}x rows/s, "
        f"{naive_cpu / results[0][3]:.1f}x less CPU per row"
    ]
    summary.append(f"peak RSS of this process: {peak_rss_mb():.0f} MB")
    return results, summary


def custom_fields_case(args: argparse.Namespace) -> tuple[float, float]:
    """The first import again, with custom fields, in a process and database of its own: the
    same start as the base case (an empty table), not after it. (rows/s, CPU µs a row)"""
    command = [sys.executable, __file__, "--db", args.db, *_rest(args), "--with-custom-fields"]
    if "--import-only" not in command:
        command.append("--import-only")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    rate, cpu = next(
        line.split()[1:] for line in done.stdout.splitlines() if line.startswith("RESULT ")
    )
    return float(rate), float(cpu)


def import_only(database_url: str, args: argparse.Namespace) -> int:
    """One big import and nothing else, so this process's peak RSS is the import's."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from integrations.imports import services as imports

    custom = args.custom_fields if args.with_custom_fields else 0
    if custom:
        define_custom_fields(custom)
    path = write_csv(
        Path(os.environ["CRM_VAR_DIR"]) / "big.csv", args.rows, tags=args.tags, custom=custom
    )
    rss_before = peak_rss_mb()
    clock = Clock()
    with path.open("rb") as handle:
        job = imports.import_create(
            user=None,
            file=handle,
            filename=path.name,
            resource="contacts",
            match_key=args.match,
            enqueue=False,
        )
    job = imports.import_run(job_id=job.pk)
    rate, cpu = clock.stop(args.rows)
    assert job.rows_created == args.rows, (job.status, job.error_message)
    print(f"\n{args.db}: one import of {args.rows} contacts with {custom} custom fields ", end="")
    print(f"(upsert by {args.match})")
    print(
        f"{rate:,.0f} rows/s, {cpu:.0f} CPU µs/row; peak RSS {peak_rss_mb():.0f} MB "
        f"({rss_before:.0f} MB before the import); load average {_load()}"
    )
    print(f"RESULT {rate} {cpu}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--match", choices=["email", "external_id"], default="email")
    parser.add_argument("--custom-fields", type=int, default=10, help="0 to leave the case out")
    parser.add_argument(
        "--tags",
        type=int,
        default=0,
        help="tags per contact in the files (the issue's case has none; each tag is a link row)",
    )
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="One import of --rows and nothing else: its rate and this process's peak RSS.",
    )
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--with-custom-fields", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.db == "both":
        for db in ("sqlite", "postgres"):
            code = os.spawnv(
                os.P_WAIT, sys.executable, [sys.executable, __file__, "--db", db, *_rest(args)]
            )
            if code:
                return code
        return 0
    os.environ["CRM_VAR_DIR"] = tempfile.mkdtemp(prefix="crm-import-bench-")
    _production_settings()
    if args.db == "sqlite":
        url = f"sqlite:///{os.environ['CRM_VAR_DIR']}/bench.sqlite3"
        drop = None
    else:
        import psycopg

        name = f"crm_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = args.postgres.rsplit("/", 1)[0] + f"/{name}"

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(args.postgres, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        if args.import_only:
            return import_only(url, args)
        results, summary = run_for(url, args)
    finally:
        if drop:
            drop()
        shutil.rmtree(os.environ["CRM_VAR_DIR"], ignore_errors=True)
    print(f"\n{args.db}: {args.rows} contacts, 3 encrypted fields + 2 blind indexes, ", end="")
    print(f"{args.tags} tags each, match by {args.match}")
    if args.custom_fields:
        rate, cpu = custom_fields_case(args)
        label = f"import job + {args.custom_fields} custom fields"
        results.insert(1, (label, args.rows, rate, cpu))
        summary.append(f"{args.custom_fields} custom fields vs base: {rate / results[0][2]:.0%}")
    print(f"{'path':<40} {'rows':>9} {'rows/s':>10} {'CPU µs/row':>11}")
    for label, rows, rate, cpu in results:
        print(f"{label:<40} {rows:>9} {rate:>10,.0f} {cpu:>11,.0f}")
    print(f"load average while it ran (others' work lowers every rows/s): {_load()}")
    print("\n".join(summary))
    return 0


def _production_settings() -> None:
    """As production runs: DEBUG off (Django's debug cursor then records no SQL), fresh keys."""
    from harness import production_keys  # bench/ is this script's folder

    os.environ.update(
        **production_keys(),
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )


def _load() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def _rest(args: argparse.Namespace) -> list[str]:
    return [
        "--rows",
        str(args.rows),
        "--naive-rows",
        str(args.naive_rows),
        "--match",
        args.match,
        "--custom-fields",
        str(args.custom_fields),
        "--tags",
        str(args.tags),
        *(["--import-only"] if args.import_only else []),
        "--postgres",
        args.postgres,
    ]


if __name__ == "__main__":
    sys.exit(main())
