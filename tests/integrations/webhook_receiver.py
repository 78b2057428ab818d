"""A webhook receiver, run in its own process by the webhook tests.

    python tests/integrations/webhook_receiver.py LOG_FILE SECRET_FILE [FAILURES]

Prints its port (127.0.0.1) and serves until killed. Each POST is verified the way a real
receiver would (the documented rule, re-implemented here rather than imported) with the secret
in SECRET_FILE (written once the test has subscribed), and appended to LOG_FILE as one JSON
line: ``{"delivery", "event", "timestamp", "signature_ok", "body", "status"}``. The first
FAILURES requests of each delivery id are answered 500 (default 0); the rest 204.
"""

import hashlib
import hmac
import json
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver(BaseHTTPRequestHandler):
    log_file: str
    secret_file: str
    failures: int
    seen: Counter = Counter()
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        delivery = self.headers.get("X-CRM-Delivery", "")
        timestamp = self.headers.get("X-CRM-Timestamp", "")
        with open(self.secret_file, encoding="utf-8") as secret_file:
            secret = secret_file.read().strip()
        expected = (
            "sha256="
            + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        )
        signature_ok = hmac.compare_digest(expected, self.headers.get("X-CRM-Signature", ""))
        with self.lock:
            self.seen[delivery] += 1
            status = 500 if self.seen[delivery] <= self.failures else 204
            entry = {
                "delivery": delivery,
                "event": self.headers.get("X-CRM-Event"),
                "timestamp": timestamp,
                "signature_ok": signature_ok,
                "body": json.loads(body or b"null"),
                "status": status,
            }
            with open(self.log_file, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:
        pass


def main() -> None:
    Receiver.log_file, Receiver.secret_file = sys.argv[1], sys.argv[2]
    Receiver.failures = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
