"""The world outside the cluster, served from the test process on one port: a webhook
receiver that checks each delivery's signature and records it, and the JSON source a
`rest_json` connection pulls from."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SIGNATURE_TOLERANCE_SECONDS = 300


def signature_valid(secret: str, headers, body: bytes) -> bool:
    """The README's receiver check, as a partner would write it."""
    timestamp = headers.get("X-CRM-Timestamp", "0")
    expected = (
        "sha256="
        + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    fresh = abs(time.time() - int(timestamp)) <= SIGNATURE_TOLERANCE_SECONDS
    return fresh and hmac.compare_digest(expected, headers.get("X-CRM-Signature", ""))


class Outside:
    def __init__(self, port: int, source_records: list[dict]) -> None:
        self.port = port
        self.source_records = source_records
        self.webhook_secret = ""
        self.lock = threading.Lock()
        self.event_ids: dict[int, int] = {}  # event id -> deliveries received
        self.bad_signatures = 0
        self.source_reads = 0
        outside = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet: the test reports what matters
                pass

            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/source/contacts":
                    self.send_error(404)
                    return
                with outside.lock:
                    outside.source_reads += 1
                body = json.dumps({"data": {"items": outside.source_records}}).encode()
                self._answer(200, body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/hooks":
                    self.send_error(404)
                    return
                with outside.lock:
                    if not signature_valid(outside.webhook_secret, self.headers, body):
                        outside.bad_signatures += 1
                        self._answer(401, b"{}")
                        return
                    event_id = json.loads(body)["id"]
                    outside.event_ids[event_id] = outside.event_ids.get(event_id, 0) + 1
                self._answer(200, b"{}")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Outside":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self) -> set[int]:
        with self.lock:
            return set(self.event_ids)
