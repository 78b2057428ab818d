"""Bulk import benchmark: our chunked import job beside the naive path, same run, same machine.

    .venv/bin/python bench/import_bench.py [--db sqlite|postgres|both] [--rows 100000]
                                           [--naive-rows 5000] [--match email|external_id]

Each database is fresh (a SQLite file in a temp dir, or a new PostgreSQL database dropped
afterwards). The file is CSV with 3 encrypted PII columns (email, phone, address) and two blind
indexes to compute; the import upserts by the match key, file to committed rows. The naive
baseline is what a first implementation does: a DRF serializer's ``is_valid()`` and a service
``create`` per row. Peak memory is the process's peak RSS growth during the import.
"""

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def csv_bytes(rows: int, offset: int = 0) -> bytes:
    lines = ["external_id,first_name,last_name,email,phone,address,tags"]
    lines += [
        f"x-{n},Name{n},姓{n % 97},p{n}@example.com,+86 138 {n:08d},{n} Nanjing Road,vip|n{n % 5}"
        for n in range(offset, offset + rows)
    ]
    return ("\n".join(lines) + "\n").encode()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_for(database_url: str, args: argparse.Namespace) -> list[tuple]:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from customers.api.serializers import ContactInputSerializer
    from customers.models import Contact
    from customers.services import contacts
    from integrations.services import imports

    results = []
    data = csv_bytes(args.rows)
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    job = imports.import_create(
        user=None,
        file=io.BytesIO(data),
        filename="bench.csv",
        resource="contacts",
        match_key=args.match,
        enqueue=False,
    )
    job = imports.import_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    assert job.rows_created == args.rows, (job.status, job.rows_created, job.error_message)
    results.append(
        ("import job (upsert)", args.rows, args.rows / elapsed, peak_rss_mb() - rss_before)
    )

    # Upsert the same file again: every row matches and is updated.
    started = time.perf_counter()
    job = imports.import_create(
        user=None,
        file=io.BytesIO(data),
        filename="again.csv",
        resource="contacts",
        match_key=args.match,
        enqueue=False,
    )
    job = imports.import_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    assert job.rows_updated == args.rows
    results.append(("import job (all updates)", args.rows, args.rows / elapsed, None))

    import csv

    rows = list(csv.DictReader(io.StringIO(csv_bytes(args.naive_rows, offset=10**8).decode())))
    started = time.perf_counter()
    for row in rows:
        row["tags"] = row["tags"].split("|")
        serializer = ContactInputSerializer(data=row)
        serializer.is_valid(raise_exception=True)
        contacts.contact_create(**serializer.validated_data)
    elapsed = time.perf_counter() - started
    results.append(("naive: serializer + service per row", len(rows), len(rows) / elapsed, None))
    assert Contact.objects.count() == args.rows + args.naive_rows
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--naive-rows", type=int, default=5_000)
    parser.add_argument("--match", choices=["email", "external_id"], default="email")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
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
        results = run_for(url, args)
    finally:
        if drop:
            drop()
    print(f"\n{args.db}: {args.rows} contacts, 3 encrypted fields + 2 blind indexes, ", end="")
    print(f"match by {args.match}")
    print(f"{'path':<40} {'rows':>9} {'rows/s':>10} {'peak MB':>9}")
    for label, rows, rate, memory in results:
        mem = f"{memory:9.0f}" if memory is not None else f"{'':>9}"
        print(f"{label:<40} {rows:>9} {rate:>10,.0f} {mem}")
    ratio = results[0][2] / results[-1][2]
    print(f"import job vs naive: {ratio:.1f}x")
    return 0


def _rest(args: argparse.Namespace) -> list[str]:
    return [
        "--rows",
        str(args.rows),
        "--naive-rows",
        str(args.naive_rows),
        "--match",
        args.match,
        "--postgres",
        args.postgres,
    ]


if __name__ == "__main__":
    sys.exit(main())
