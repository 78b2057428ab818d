"""A stand-in for an external system, run in its own process by the connector tests.

    python tests/integrations/source_server.py DATA_DIR

Prints the port it listens on (127.0.0.1, chosen by the OS) and serves until killed:

* ``GET /api/contacts/?updated_since=&page=`` — the records of ``DATA_DIR/contacts.json`` whose
  ``updated_at`` is greater than ``updated_since``, ordered by it, ``PAGE_SIZE`` a page, as
  ``{"data": {"items": [...]}, "links": {"next": "<url or null>"}}``. Requires
  ``Authorization: Bearer secret-token`` (401 otherwise). The first request for page 2 is
  answered 429 with ``Retry-After: 1``, once per server.
* ``GET /files/<name>`` — a file of ``DATA_DIR/files/`` with an ETag; 304 for a matching
  If-None-Match.
* ``GET /log`` — the request lines served so far, as a JSON list.
"""

import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

PAGE_SIZE = 3
TOKEN = "secret-token"


class Handler(BaseHTTPRequestHandler):
    data_dir: Path
    throttled_once = False
    log: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        Handler.log.append(self.path)
        if url.path == "/log":
            return self._json(200, Handler.log)
        if url.path == "/api/contacts/":
            return self._contacts(query)
        if url.path.startswith("/files/"):
            return self._file(url.path.removeprefix("/files/"))
        return self._json(404, {"error": "not found"})

    def _contacts(self, query: dict[str, str]) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._json(401, {"error": "unauthorised"})
        page = int(query.get("page", "1"))
        if page == 2 and not Handler.throttled_once:
            Handler.throttled_once = True
            return self._json(429, {"error": "slow down"}, {"Retry-After": "1"})
        records = json.loads((self.data_dir / "contacts.json").read_text(encoding="utf-8"))
        since = query.get("updated_since")
        changed = sorted(
            (r for r in records if since is None or r["updated_at"] > since),
            key=lambda record: record["updated_at"],
        )
        items = changed[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        more = page * PAGE_SIZE < len(changed)
        next_url = None
        if more:
            params = {**query, "page": str(page + 1)}
            next_url = f"http://{self.headers['Host']}/api/contacts/?{urlencode(params)}"
        self._json(200, {"data": {"items": items}, "links": {"next": next_url}})

    def _file(self, name: str) -> None:
        path = self.data_dir / "files" / name
        if not path.is_file():
            return self._json(404, {"error": "no such file"})
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", {"ETag": etag})
        self._send(200, body, {"ETag": etag, "Content-Type": "application/octet-stream"})

    def _json(self, status: int, body, headers: dict | None = None) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        self._send(status, payload, {"Content-Type": "application/json", **(headers or {})})

    def _send(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:  # quiet
        pass


def main() -> None:
    Handler.data_dir = Path(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
