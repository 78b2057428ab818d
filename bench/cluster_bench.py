"""Where the bottleneck is when the CRM scales out on this machine: the cluster of
tests/cluster (PostgreSQL behind PgBouncer, Redis, two gunicorn nodes behind nginx, Celery
workers) measured one node against two and one worker against two, in the same run.

    .venv/bin/python bench/cluster_bench.py [--seconds 10] [--rows 20000]

- REST list requests per second (wrk, 8 connections, `--seconds` each): web node 1 alone,
  then both behind nginx.
- Import rows per second: two imports of `--rows` each at once, with one worker, then with a
  second worker started beside it (both consume every queue).
Each phase prints the CPU seconds each process (with its children) used, so a ratio near 1
says which side is saturated. Needs root (PostgreSQL runs as its own user) and wrk.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_bench import csv_bytes  # noqa: E402
from tests.cluster.processes import run  # noqa: E402
from tests.cluster.topology import Cluster  # noqa: E402

ALL_QUEUES = "crm,imports,exports,syncs,webhooks"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SCALES = 1.3  # a second process that adds less than this has hit a shared limit
SATURATED = 0.9  # the machine's busy share from which the cores are the limit


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def cpu_by_group(cluster: Cluster) -> dict[str, float]:
    """CPU seconds so far of every process, summed per cluster process (its session's group)
    and, for what runs outside our groups (PostgreSQL), per program name."""
    groups = {process.pid: process.name for process in cluster.processes if process.alive()}
    totals: dict[str, float] = defaultdict(float)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1]
        values = fields.split()
        pgid, utime, stime = int(values[2]), int(values[11]), int(values[12])
        name = groups.get(pgid) or ("postgres" if command.startswith("postgres") else None)
        if name:
            totals[name] += (utime + stime) / CLOCK_TICKS
    return totals


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


class Phase:
    """CPU of the cluster's processes and of the whole machine over one measurement."""

    contended = False  # set on the class: other jobs took more CPU than ours in some phase

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.before, self.machine_before = cpu_by_group(cluster), machine_cpu()
        self.started = time.monotonic()

    def report(self) -> float:
        """Prints the CPU per process and the machine's; returns the machine's busy share."""
        seconds = time.monotonic() - self.started
        used = cpu_used(self.before, cpu_by_group(self.cluster))
        report_cpu(used, seconds)
        busy, total = (
            after - before for after, before in zip(machine_cpu(), self.machine_before, strict=True)
        )
        share = busy / total if total else 0.0
        ours = sum(used.values())
        print(
            f"    machine: {share:.0%} of {os.cpu_count()} cores busy, "
            f"{ours:.1f} s CPU ours, {max(busy - ours, 0):.1f} s other jobs'"
        )
        if busy - ours > ours:
            Phase.contended = True
        return share


def report_cpu(used: dict[str, float], seconds: float) -> None:
    for name, cpu in sorted(used.items(), key=lambda item: -item[1]):
        if cpu >= 0.05:
            print(f"    {name:40} {cpu:7.1f} s CPU  ({cpu / seconds:4.0%} of one core)")


def wrk_rps(url: str, key: str, seconds: int, *, direct: bool) -> tuple[float, int]:
    command = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-H", f"Authorization: Bearer {key}"]
    if direct:
        command += ["-H", "X-Forwarded-Proto: https"]
    output = run([*command, url], timeout=seconds + 60)
    rps = float(output.split("Requests/sec:")[1].split()[0])
    non_2xx = (
        int(output.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in output else 0
    )
    return rps, non_2xx


def measure_list(cluster: Cluster, key: str, seconds: int) -> dict[str, tuple[float, float]]:
    """Requests per second and the machine's busy share, per topology."""
    path = "/api/v1/contacts/?page_size=50"
    results = {}
    for label, url, direct in (
        ("one web node", cluster.node_url(0) + path, True),
        ("two web nodes behind nginx", cluster.url + path, False),
    ):
        phase = Phase(cluster)
        rps, errors = wrk_rps(url, key, seconds, direct=direct)
        print(f"  REST list, {label}: {rps:,.0f} req/s ({errors} non-2xx)")
        results[label] = (rps, phase.report())
    return results


def measure_imports(cluster: Cluster, session, rows: int, offset: int) -> tuple[float, float]:
    """Two imports of `rows` at once: rows per second over both, and the machine's busy
    share."""
    phase, started = Phase(cluster), time.monotonic()
    jobs = []
    for n in range(2):
        content = csv_bytes(rows, offset + n * rows)
        response = session.post(
            cluster.node_url(0) + "/api/v1/imports/",
            files={"file": ("contacts.csv", content, "text/csv")},
            data={"resource": "contacts", "mode": "upsert", "match_key": "external_id"},
            timeout=120,
        )
        response.raise_for_status()
        jobs.append(response.json()["id"])
    for job_id in jobs:
        while True:
            job = session.get(f"{cluster.node_url(0)}/api/v1/imports/{job_id}/", timeout=60)
            if job.json()["status"] not in ("queued", "running"):
                break
            time.sleep(0.5)
    rate = 2 * rows / (time.monotonic() - started)
    print(f"    {rate:,.0f} rows/s")
    return rate, phase.report()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run (at most 30)")
    parser.add_argument("--rows", type=int, default=20_000, help="per import (at most 200000)")
    args = parser.parse_args()
    seconds, rows = min(args.seconds, 30), min(args.rows, 200_000)
    if not shutil.which("wrk"):
        log("wrk is missing: apt-get install wrk")
        return 1
    import requests

    tmp = Path(tempfile.mkdtemp(prefix="crm-cluster-bench-"))
    cluster = Cluster(
        tmp,
        overrides={"API_KEY_RATE_LIMIT": "1000000/s", "LOG_LEVEL": "WARNING"},
        worker_queues=(ALL_QUEUES,),
    )
    try:
        log(f"starting the cluster in {tmp}")
        cluster.start()
        environment = {
            **cluster.crm_environment(),
            "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        }
        python = str(ROOT / ".venv" / "bin" / "python")
        key = json.loads(run([python, "-m", "tests.cluster.seed", "bench"], env=environment))[
            "bench"
        ]
        session = requests.Session()
        session.trust_env = False
        session.headers.update({"Authorization": f"Bearer {key}", "X-Forwarded-Proto": "https"})
        print(f"cluster bench on {os.cpu_count()} cores")
        print("  seeding the list's 5,000 contacts: two imports of 2,500 rows at once (warm-up)")
        measure_imports(cluster, session, 2_500, offset=10_000_000)
        lists = measure_list(cluster, key, seconds)
        print(f"  one worker, two imports of {rows:,} rows at once:")
        one = measure_imports(cluster, session, rows, offset=0)
        cluster.start_worker(ALL_QUEUES)
        print(f"  two workers, two imports of {rows:,} rows at once:")
        two = measure_imports(cluster, session, rows, offset=2 * rows)
        web_one, web_two = lists["one web node"], lists["two web nodes behind nginx"]
        for name, (one_rate, _), (two_rate, busy) in (
            ("web nodes", web_one, web_two),
            ("workers", one, two),
        ):
            ratio = two_rate / one_rate
            if ratio >= SCALES:
                verdict = "scales: one process was the limit"
            elif busy >= SATURATED:
                verdict = "does not scale: the cores are saturated (see who uses them above)"
            else:
                verdict = (
                    "does not scale, and the cores are not saturated: waiting (database, locks)"
                )
            print(f"two {name} / one: {ratio:.2f}; {verdict}")
        if Phase.contended:
            print(
                "Other jobs took most of the machine's CPU: a second process mostly wins a "
                "larger share of the contended cores. Run again on an idle machine to compare."
            )
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
