"""A real HTTP receiver for the webhooks' tests: http.server in a thread on 127.0.0.1."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import cache

from webhooks.services import SUBSCRIBERS_KEY


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # status codes to answer, in turn; then 200
    redirect_to: str = ""

    def next_status(self) -> int:
        return self.answers.pop(0) if self.answers else 200


@pytest.fixture
def receiver():
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
            status = 302 if state.redirect_to else state.next_status()
            self.send_response(status)
            if state.redirect_to:
                self.send_header("Location", state.redirect_to)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cartera"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh_subscribers():
    """The endpoints of a test are rolled back with it; so is what the cache says of them."""
    cache.delete(SUBSCRIBERS_KEY)
    yield
    cache.delete(SUBSCRIBERS_KEY)
