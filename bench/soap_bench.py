"""SOAP throughput beside its REST equivalent, on one server in the same run.

    .venv/bin/python bench/soap_bench.py [--db sqlite|postgres] [--seed-rows 20000] [--seconds 5]

Builds a fresh seeded database and a gunicorn server with ``bench/harness.py`` (2 workers,
DEBUG off, a real API key), then alternates short closed-loop runs of each pair so both see the
same machine load:

- ``GET /api/v1/contacts/{id}/``            vs SOAP ``GetContact(id)``
- ``GET /api/v1/contacts/?page_size=50``   vs SOAP ``SearchContacts(limit=50)`` (with its total)

Prints req/s, p50/p99 and the gunicorn workers' CPU per request for each, and the SOAP/REST
ratios; on a shared machine the CPU ratio is the steadier one (other jobs lower every wall-clock
figure). The client sends prebuilt requests
(the SOAP envelope carries its WS-Security UsernameToken), so only the server's cost differs.
"""

import argparse
import http.client
import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import BenchDatabase, OtherCpu, Server, log  # noqa: E402
from bench.load import LoadStats, closed_loop  # noqa: E402

API_USER = "bench-api"  # the user bench/seed.py creates the key for
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None


def soap_request(raw_key: str, operation: str, arguments: str) -> Request:
    envelope = (
        f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_ENV}" '
        f'xmlns:crm="urn:crm:soap:v1"><s:Header><wsse:Security xmlns:wsse="{WSSE}">'
        f"<wsse:UsernameToken><wsse:Username>{API_USER}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_TEXT}">{raw_key}</wsse:Password>'
        f"</wsse:UsernameToken></wsse:Security></s:Header><s:Body>"
        f"<crm:{operation}>{arguments}</crm:{operation}></s:Body></s:Envelope>"
    ).encode()
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{operation}"',
        "Host": "127.0.0.1",
    }
    return Request("POST", "/soap/", headers, envelope)


def rest_request(raw_key: str, path: str) -> Request:
    headers = {"Authorization": f"Bearer {raw_key}", "Accept": "application/json"}
    return Request("GET", path, {**headers, "Host": "127.0.0.1"})


def send(port: int, request: Request) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(request.method, request.path, request.body, request.headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def load(port: int, request: Request, seconds: float, connections: int) -> LoadStats:
    """Closed loop: each thread sends its next request when the last one ends."""
    return closed_loop(
        port,
        request.method,
        request.path,
        request.headers,
        request.body,
        seconds,
        connections,
        timeout=30,
    )


def check(port: int, request: Request, expect: bytes) -> None:
    status, body = send(port, request)
    if status != 200 or expect not in body:
        raise RuntimeError(f"{request.method} {request.path} -> {status}: {body[:800]!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed-rows", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5, help="per run; 2 rounds per pair")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--conn-max-age", type=int, default=60)
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args(argv)

    with BenchDatabase(args.db, args) as bench_db, Server(bench_db, args) as server:
        key = bench_db.raw_key
        status, body = server.get("/api/v1/contacts/?page_size=1")
        contact_id = json.loads(body)["results"][0]["id"]
        pairs = [
            (
                "get one contact",
                rest_request(key, f"/api/v1/contacts/{contact_id}/"),
                soap_request(key, "GetContact", f"<crm:id>{contact_id}</crm:id>"),
            ),
            (
                "search 50 contacts",
                rest_request(key, "/api/v1/contacts/?page_size=50"),
                soap_request(key, "SearchContacts", "<crm:limit>50</crm:limit>"),
            ),
        ]
        for _name, rest, soap in pairs:
            check(server.port, rest, b'"id"')
            check(server.port, soap, b"Response>")
            load(server.port, rest, 1, args.connections)  # warm both up
            load(server.port, soap, 1, args.connections)

        rows = []
        for name, rest, soap in pairs:
            totals = {"REST": LoadStats(), "SOAP": LoadStats()}
            cpu = {"REST": 0.0, "SOAP": 0.0}
            with OtherCpu(server) as others:
                for _round in range(args.rounds):
                    for door, request in (("REST", rest), ("SOAP", soap)):
                        log(f"{name}: {door}")
                        started = server.cpu_seconds()
                        run = load(server.port, request, args.seconds, args.connections)
                        cpu[door] += server.cpu_seconds() - started
                        totals[door] = totals[door].merge(run)
            rows.append((name, totals, cpu, others.percent))

    print(
        f"\nSOAP vs REST on {args.db}, {args.seed_rows:,} contacts, gunicorn {args.workers} "
        f"workers, {args.connections} connections, {args.rounds}x{args.seconds:g}s each"
    )
    print(
        f"{'operation':<20}{'door':<6}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'worker CPU ms/req':>19}{'errors':>8}"
    )
    for name, totals, cpu, others in rows:
        per_request = {}
        for door, stats in totals.items():
            per_request[door] = 1000 * cpu[door] / stats.requests if stats.requests else 0.0
            print(
                f"{name:<20}{door:<6}{stats.rps:>9.1f}{stats.percentile(50):>9.1f}"
                f"{stats.percentile(99):>9.1f}{per_request[door]:>19.1f}{stats.errors:>8}"
            )
        ratio = totals["SOAP"].rps / totals["REST"].rps if totals["REST"].rps else 0
        cost = per_request["SOAP"] / per_request["REST"] if per_request["REST"] else 0
        print(
            f"{'':<20}SOAP/REST: throughput {ratio:.2f}x, worker CPU per request {cost:.2f}x "
            f"(others used {others:.0f}% CPU)"
        )


if __name__ == "__main__":
    main()
