"""A loopback HTTP server that misbehaves on purpose, one fault per URL path.

A POST is routed by its path and its form body (``/path#page=2&size=10``).

The crawler reaches it as its mirror, i.e. as an HTTP proxy: requests arrive in
proxy form (``GET http://host/path HTTP/1.1``), so the stored URLs are the real
site's and the site config runs unchanged. Only plain ``http://`` is served.

Each path maps to a *behaviour*: a callable ``behaviour(handler, attempt)`` that
writes whatever it likes to the socket (a status, a stall, half a body, a reset).
``attempt`` counts the requests for that path (1 for the first), so "fail twice,
then answer" is one behaviour. Every request is logged; the log is what the tests
use to check retries and to time a kill ("after N articles served").

No behaviour stands for "the crawler has done X by now" with a wall-clock wait: a
page that must not be answered before the test has done something is held by a
:class:`Gate` the test opens; a stall lasts until the server stops; a reset waits
until the crawler's side holds the bytes sent before it.

Binds to 127.0.0.1 only.
"""

from __future__ import annotations

import array
import fcntl
import gzip
import socket
import struct
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["FaultServer", "Behaviour", "Gate", "page", "status", "flaky", "stall", "slow_body", "reset_mid_body",
           "reset_then", "redirect", "huge", "lying_gzip", "truncated_gzip", "delayed"]

Behaviour = Callable[["_Handler", int], None]


class _Stop(Exception):
    """The server is shutting down: a stalled behaviour gives up."""


# --------------------------------------------------------------------------- behaviours

def _headers(h: "_Handler", code: int, headers: dict[str, str]) -> None:
    h.send_response(code)
    # one request per connection: a retry is then always the crawler's decision, never a
    # keep-alive connection the server dropped under it
    headers = {**headers, "Connection": "close"}
    for name, value in headers.items():
        h.send_header(name, value)
    h.end_headers()


def page(body: bytes, content_type: str = "text/html; charset=utf-8", code: int = 200,
         headers: dict[str, str] | None = None) -> Behaviour:
    """A well-formed answer."""

    def serve(h, attempt):
        _headers(h, code, {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})})
        h.wfile.write(body)

    return serve


def status(code: int) -> Behaviour:
    """An error status with a small HTML body."""
    return page(f"<html><body><h1>{code}</h1></body></html>".encode(), code=code)


def flaky(failures: int, then: Behaviour, fail: Behaviour | None = None) -> Behaviour:
    """``fail`` (default 503) for the first ``failures`` requests, then ``then``."""
    fail = fail or status(503)

    def serve(h, attempt):
        (fail if attempt <= failures else then)(h, attempt)

    return serve


def stall() -> Behaviour:
    """Accept the request and never answer (until the server stops): only the crawler's
    DOWNLOAD_TIMEOUT ends the download."""

    def serve(h, attempt):
        h.server.wait_stop()

    return serve


class Gate:
    """Holds the answers of the behaviours it wraps until the test opens it.

    ``gate.hold(behaviour)`` answers with ``behaviour`` once the gate is open; the first
    ``free`` requests through the gate's behaviours (all paths together) pass at once.
    A request held when the server stops gets no answer. So "the crawl cannot have
    these pages before the test has done X" is an order of events, not a delay.
    """

    def __init__(self, free: int = 0):
        self._open = threading.Event()
        self._lock = threading.Lock()
        self._free = free
        self.passed = 0
        self.waiting = 0

    def open(self) -> None:
        self._open.set()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def hold(self, then: Behaviour) -> Behaviour:
        def serve(h, attempt):
            with self._lock:
                free = self._free > 0
                if free:
                    self._free -= 1
                    self.passed += 1
                else:
                    self.waiting += 1
            if not free:
                try:
                    h.server.wait_for(self._open)
                finally:
                    with self._lock:
                        self.waiting -= 1
            then(h, attempt)

        return serve


def delayed(seconds: float, then: Behaviour) -> Behaviour:
    """Think for ``seconds``, then answer: a slow but healthy server."""

    def serve(h, attempt):
        h.server.wait(seconds)
        then(h, attempt)

    return serve


def slow_body(body: bytes, chunks: int = 20, pause: float = 0.5) -> Behaviour:
    """Headers at once, then the body dribbled out a chunk every ``pause`` seconds, and its
    last chunk never (until the server stops): the download is alive but never ends."""

    def serve(h, attempt):
        _headers(h, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
        step = max(1, len(body) // chunks)
        for i in range(0, len(body) - step, step):
            h.wfile.write(body[i:i + step])
            h.wfile.flush()
            h.server.wait(pause)
        h.server.wait_stop()

    return serve


def _unsent(sock: socket.socket) -> int:
    """Bytes written to ``sock`` that the peer has not acknowledged yet (Linux SIOCOUTQ)."""
    count = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, count)
    return count[0]


def _reset(h: "_Handler") -> None:
    # Only once the crawler's side has every byte sent so far: a reset discards what is
    # still unsent, and the fault is "half a body, then a reset" (Linux still delivers the
    # bytes received before the RST to the reader, then ECONNRESET).
    while _unsent(h.connection) and not h.server.stopping.is_set():
        time.sleep(0.002)
    # SO_LINGER with a zero timeout: close() sends RST instead of FIN
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def reset_mid_body(body: bytes) -> Behaviour:
    """Announce the whole body, send half of it, then reset the connection."""

    def serve(h, attempt):
        _headers(h, 200, {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))})
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        _reset(h)

    return serve


def reset_then(failures: int, body: bytes) -> Behaviour:
    """Reset mid-body ``failures`` times, then serve the page."""
    return flaky(failures, page(body), fail=reset_mid_body(body))


def redirect(location: str, code: int = 302) -> Behaviour:
    def serve(h, attempt):
        _headers(h, code, {"Location": location, "Content-Length": "0"})

    return serve


def huge(size: int, announce: bool = True) -> Behaviour:
    """A ``size``-byte page of HTML; without ``announce`` there is no Content-Length
    (the body ends when the connection closes), so only counting bytes can stop it."""

    def serve(h, attempt):
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if announce:
            headers["Content-Length"] = str(size)
        _headers(h, 200, headers)
        chunk = ("<p>" + "党建" * 500 + "</p>\n").encode() * 64
        sent = 0
        while sent < size:
            part = chunk[: size - sent]
            h.wfile.write(part)
            sent += len(part)
        h.close_connection = True

    return serve


def lying_gzip(body: bytes) -> Behaviour:
    """``Content-Encoding: gzip`` over a body that is not gzip."""
    return page(body, headers={"Content-Encoding": "gzip"})


def truncated_gzip(body: bytes) -> Behaviour:
    """``Content-Encoding: gzip`` over a gzip stream cut off half way."""
    data = gzip.compress(body)
    return page(data[: len(data) // 2], headers={"Content-Encoding": "gzip"})


# --------------------------------------------------------------------------- server

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # the server keeps its own log
        pass

    def do_GET(self):
        self._serve("")

    def do_POST(self):
        """A POST is routed by its path and form body: ``/path#page=2&size=10``."""
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length).decode("latin-1") if length else "")

    def _serve(self, body: str):
        url = self.path if self.path.startswith("http") else f"http://{self.headers.get('Host')}{self.path}"
        parts = urlsplit(url)
        key = parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{body}" if self.command == "POST" else "")
        attempt = self.server.note(key)
        behaviour = self.server.routes.get(key) or status(404)
        self.close_connection = True
        try:
            behaviour(self, attempt)
            self.wfile.flush()
        except (_Stop, BrokenPipeError, ConnectionResetError, OSError):
            # the crawler gave up on us (timeout, size limit) or the server stops
            self.close_connection = True
        finally:
            self.server.note_done(key)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # a crawler opens several connections at once; a short backlog would refuse some (and
    # the refusals would show up as retries the test did not ask for)
    request_queue_size = 128
    routes: dict[str, Behaviour]

    def __init__(self, address, routes):
        super().__init__(address, _Handler)
        self.routes = routes
        self.requests: Counter[str] = Counter()
        self.completed: Counter[str] = Counter()
        self.log: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def note(self, key: str) -> int:
        with self.lock:
            self.requests[key] += 1
            self.log.append(key)
            return self.requests[key]

    def note_done(self, key: str) -> None:
        with self.lock:
            self.completed[key] += 1

    def wait(self, seconds: float) -> None:
        if self.stopping.wait(seconds):
            raise _Stop

    def wait_for(self, event: threading.Event) -> None:
        """Until ``event`` is set; raises _Stop if the server stops first."""
        while not event.wait(0.05):
            if self.stopping.is_set():
                raise _Stop

    def wait_stop(self) -> None:
        self.stopping.wait()
        raise _Stop


class FaultServer:
    """``with FaultServer(routes) as s:`` serves ``routes`` ({path: behaviour}) on ``s.url``."""

    def __init__(self, routes: dict[str, Behaviour]):
        self.routes = routes
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def requests(self, path: str) -> int:
        """How many requests for ``path`` arrived."""
        with self._server.lock:
            return self._server.requests[path]

    def completed(self, paths) -> int:
        """How many requests for any of ``paths`` were answered to the end."""
        with self._server.lock:
            return sum(self._server.completed[p] for p in paths)

    @property
    def log(self) -> list[str]:
        with self._server.lock:
            return list(self._server.log)

    def start(self) -> "FaultServer":
        self._server = _Server(("127.0.0.1", 0), self.routes)
        threading.Thread(target=self._server.serve_forever, name="fault-server", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stopping.set()
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "FaultServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
