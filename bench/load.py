"""Closed-loop HTTP load for a fixed time: wrk when installed, else a small threaded client.

Each run returns its latencies as weighted samples, so several short runs (the list benchmark
alternates the naive and the real endpoint) merge into one distribution per endpoint.
"""

import http.client
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


@dataclass
class LoadStats:
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (latency ms, weight)

    def merge(self, other: "LoadStats") -> "LoadStats":
        return LoadStats(
            requests=self.requests + other.requests,
            seconds=self.seconds + other.seconds,
            errors=self.errors + other.errors,
            samples=self.samples + other.samples,
        )

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, percent: float) -> float | None:
        ordered = sorted(self.samples)
        total = sum(weight for _, weight in ordered)
        running = 0.0
        for latency, weight in ordered:
            running += weight
            if running >= total * percent / 100:
                return latency
        return ordered[-1][0] if ordered else None


def wrk(server, path: str, seconds: float, connections: int) -> LoadStats:
    command = [
        "wrk",
        "-t1",  # one thread drives 8 connections easily and leaves the cores to the server
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        "-H",
        f"Authorization: Bearer {server.bench_db.raw_key}",
        server.url(path),
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    lines = {line.split(" ", 1)[0]: line.split()[1:] for line in output.splitlines() if line}
    requests, duration_us, status_errors, socket_errors = map(int, lines["SUMMARY"])
    weight = requests / 200
    samples = [(int(value) / 1000, weight) for value in lines["QUANTILES"]]
    return LoadStats(
        requests=requests,
        seconds=duration_us / 1e6,
        errors=status_errors + socket_errors,
        samples=samples,
    )


def python_client(server, path: str, seconds: float, connections: int) -> LoadStats:
    """Each thread sends its next request when the last one ends, until the time is up."""
    return closed_loop(server.port, "GET", path, server.headers(), None, seconds, connections)


def closed_loop(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    seconds: float,
    connections: int,
    *,
    timeout: float = 10,
) -> LoadStats:
    """`connections` threads on 127.0.0.1:`port`, each sending the same request again as soon
    as the last one is answered, until the time is up."""
    stats = LoadStats()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        latencies, errors = [], 0
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request(method, path, body, headers)
                response = connection.getresponse()
                response.read()
                errors += response.status != 200
                if response.will_close:
                    connection.close()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                continue
            latencies.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            stats.samples.extend((latency, 1.0) for latency in latencies)
            stats.errors += errors

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.seconds = time.perf_counter() - started
    stats.requests = len(stats.samples)
    return stats
