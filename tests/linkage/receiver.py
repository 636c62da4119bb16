"""A real HTTP receiver on loopback (http.server in a thread) that verifies Standard Webhooks signatures itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    statuses: list[int] = field(default_factory=list)  # answers in order; 200 once used up
    received: list[Received] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # time.time() of each receipt (benchmarks)

    def verify(self, secret: str, item: Received) -> bool:
        """The receiver's own check, written from the Standard Webhooks spec, not from our code."""
        key = base64.b64decode(secret.split("_", 1)[1])
        signed = f"{item.headers['webhook-id']}.{item.headers['webhook-timestamp']}.".encode() + item.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(
            hmac.compare_digest(part.split(",", 1)[1], expected)
            for part in item.headers["webhook-signature"].split()
            if part.startswith("v1,")
        )


@contextmanager
def receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    state = Receiver(url="", statuses=list(statuses or []))
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            import time

            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                state.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                state.times.append(time.time())
                status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/lgcloud?tenant=x"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
