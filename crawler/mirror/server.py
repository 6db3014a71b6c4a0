"""The offline mirror: a loopback HTTP server that answers for the configured sites.

The crawler reaches it as an HTTP proxy (see :class:`crawler.middlewares.MirrorMiddleware`):
plain ``http://`` requests arrive with the full site URL in the request line, and
``https://`` ones as ``CONNECT host:443`` followed by TLS with a throw-away
self-signed certificate (Scrapy does not verify certificates by default). So every
request keeps its real URL end to end, and the spider and configs run unchanged.

It also answers ``robots.txt`` per host, conditional requests with 304, redirects
and a few error pages (and any URL a test makes fail), and logs every request it serves (tests read the log).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socketserver
import ssl
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from .pages import MirrorPage, MirrorSite, build_mirror

__all__ = ["MirrorServer"]


def _self_signed(directory: Path, hosts: set[str]) -> tuple[Path, Path]:
    """A certificate for the mirror's TLS tunnels, made at start so no key is shipped."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "djcrawl-mirror")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in sorted(hosts)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "mirror.crt", directory / "mirror.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format, *args):  # the request log below replaces stderr noise
        pass

    # -- CONNECT: become a TLS server for the tunnelled host, then serve requests inside it
    def do_CONNECT(self):
        host = self.path.rsplit(":", 1)[0].lower()
        if host not in self.server.hosts:
            self._send(MirrorPage(502, b"not a mirrored host"), log_url=f"https://{host}/")
            self.close_connection = True
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        tls = self.server.ssl_context.wrap_socket(self.connection, server_side=True)
        self.connection = tls
        self.rfile = tls.makefile("rb", self.rbufsize)
        self.wfile = socketserver._SocketWriter(tls)
        self.tunnel_scheme, self.tunnel_host = "https", host
        self.close_connection = False  # handle() goes on reading requests from the tunnel

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)

    def _url(self) -> str:
        if self.path.startswith(("http://", "https://")):  # proxy form: the full URL
            return self.path
        scheme = getattr(self, "tunnel_scheme", "http")
        host = getattr(self, "tunnel_host", None) or (self.headers.get("Host") or "").lower()
        return f"{scheme}://{host}{self.path}"

    def _serve(self, head: bool):
        url = self._url()
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host not in self.server.hosts:
            return self._send(MirrorPage(502, b"not a mirrored host"), url, head)
        key = f"{parts.scheme}://{host}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        held = self.server.held.get(key)  # robots.txt too: tests hold it to line requests up behind it
        if held is not None:
            held.asked.set()
            held.released.wait()
        if parts.path == "/robots.txt":
            return self._send(MirrorPage(200, self.server.robots.get(host, b""), "text/plain"), url, head)
        failing = self.server.failing.get(key)
        if failing is not None:
            return self._send(MirrorPage(failing, f"<html><body>error {failing}</body></html>".encode()), url, head)
        page = self.server.pages.get(key)
        if page is None:
            return self._send(MirrorPage(404, b"<html><body>404 Not Found</body></html>"), url, head)
        if page.etag and (
            self.headers.get("If-None-Match") == page.etag
            or (not self.headers.get("If-None-Match") and self.headers.get("If-Modified-Since") == page.last_modified)
        ):
            return self._send(MirrorPage(304, b"", page.content_type, page.etag, page.last_modified), url, head)
        self._send(page, url, head)

    def _send(self, page: MirrorPage, log_url: str, head: bool = False):
        with self.server.log_lock:
            self.server.log.append((self.command, log_url, page.status, self.headers.get("User-Agent", "")))
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        if page.etag:
            self.send_header("ETag", page.etag)
        if page.last_modified:
            self.send_header("Last-Modified", page.last_modified)
        if page.location:
            self.send_header("Location", page.location)
        self.send_header("Content-Length", "0" if page.status == 304 else str(len(page.body)))
        self.end_headers()
        if not head and page.status != 304:
            self.wfile.write(page.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    pages: dict[str, MirrorPage]
    robots: dict[str, bytes]
    hosts: set[str]
    ssl_context: ssl.SSLContext
    #: (method, URL, status, User-Agent) of every request served
    log: list[tuple[str, str, int, str]]
    log_lock: threading.Lock
    #: URL -> the hold its requests wait on (MirrorServer.hold)
    held: dict[str, "Hold"]
    #: URL -> the status it answers instead of its page (MirrorServer.failing)
    failing: dict[str, int]


@dataclass
class Hold:
    """A URL whose answers wait: ``asked`` is set once a request for it arrived."""

    asked: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


class MirrorServer:
    """Serve the mirror on ``127.0.0.1`` in a background thread; use as a context manager."""

    def __init__(self, port: int = 0):
        self.pages, self.sites = build_mirror()
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "mirror not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def log(self) -> list[tuple[str, str, int, str]]:
        return list(self._server.log) if self._server else []

    def site(self, name: str) -> MirrorSite:
        return self.sites[name]

    def start(self) -> "MirrorServer":
        self._tmp = tempfile.TemporaryDirectory(prefix="djcrawl-mirror-")
        hosts = {h for s in self.sites.values() for h in s.hosts}
        cert, key = _self_signed(Path(self._tmp.name), hosts)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.pages = self.pages
        server.robots = {h: s.robots for s in self.sites.values() for h in s.hosts}
        server.hosts = set(server.robots)
        server.ssl_context = ctx
        server.log, server.log_lock = [], threading.Lock()
        server.held = {}
        server.failing = {}
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="djcrawl-mirror", daemon=True)
        self._thread.start()
        return self

    @contextlib.contextmanager
    def hold(self, url: str) -> Iterator[Hold]:
        """Requests for ``url`` (a real site URL) are answered only when the block ends, so a
        crawl that asked for it is known to be still running until then."""
        hold = Hold()
        self._server.held[url] = hold
        try:
            yield hold
        finally:
            self._server.held.pop(url, None)
            hold.released.set()

    @contextlib.contextmanager
    def failing(self, *urls: str, status: int = 500) -> Iterator[None]:
        """Requests for ``urls`` (real site URLs) are answered ``status`` while the block runs,
        whatever the mirror holds for them."""
        for url in urls:
            self._server.failing[url] = status
        try:
            yield
        finally:
            for url in urls:
                self._server.failing.pop(url, None)

    def stop(self) -> None:
        if self._server is not None:
            for hold in list(self._server.held.values()):
                hold.released.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "MirrorServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
