"""A real HTTP server on a loopback address for the outbound tests: it answers each path with
a canned response (a redirect, a body) and records every request it received (method, path,
headers, body), so a test can say which server a request reached and what it carried."""

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class RecordingServer:
    host: str
    port: int
    # path -> (status, headers, body); any other path answers 200 "ok"
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": location}, b"")

    def serve(self, path: str, body: bytes, content_type: str = "text/plain") -> None:
        self.routes[path] = (200, {"Content-Type": content_type}, body)

    def paths(self) -> list[str]:
        return [request.path for request in self.received]


@contextmanager
def recording_server(
    host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
) -> Iterator[RecordingServer]:
    """Serve on `host`:`port` (0: any free port) in a thread until the block ends; over TLS
    with `tls` (a server context holding the certificate)."""
    state = RecordingServer(host, 0, scheme="https" if tls else "http")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.received.append(Received(self.command, self.path, dict(self.headers), body))
            status, headers, payload = state.routes.get(
                self.path.split("?")[0], (200, {"Content-Type": "text/plain"}, b"ok")
            )
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_HEAD = _answer  # noqa: N815 (http.server's naming)

        def log_message(self, format, *args) -> None:  # quiet
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    state.port = server.server_address[1]
    # shutdown() waits for the loop's next poll: 0.5 s by default, at every test's end.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
