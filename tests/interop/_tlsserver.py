"""A small HTTPS server in a thread (Python's ssl, i.e. OpenSSL) that requires client certificates.

It stands in for kube-apiserver and a kubelet: it serves a certificate pair from the outputs, demands a
client certificate chaining to a given CA (OpenSSL also checks that certificate's clientAuth purpose),
records who connected and which handshakes failed, and answers a few JSON paths kubectl understands.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ._procs import LOOPBACK

VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class Peer:
    """The client certificate's subject as the server saw it."""

    common_name: str
    organizations: tuple[str, ...]


class _Handler(BaseHTTPRequestHandler):
    server: TlsHttpServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        cert = self.connection.getpeercert() or {}
        subject = [attr for rdn in cert.get("subject", ()) for attr in rdn]
        peer = Peer(
            common_name=next((v for k, v in subject if k == "commonName"), ""),
            organizations=tuple(v for k, v in subject if k == "organizationName"),
        )
        self.server.peers.append(peer)
        path = urllib.parse.urlsplit(self.path).path  # kubectl adds ?timeout=...
        if path == "/version":
            self._reply(200, "application/json", json.dumps(VERSION))
        elif path in ("/healthz", "/livez", "/readyz"):
            self._reply(200, "text/plain", "ok")
        elif path == "/whoami":
            self._reply(
                200, "application/json", json.dumps({"cn": peer.common_name, "o": peer.organizations})
            )
        else:
            self._reply(404, "application/json", json.dumps({"kind": "Status", "code": 404}))

    def _reply(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class names it so)
        pass  # requests are recorded in `peers`; nothing on stderr


class TlsHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext):
        super().__init__((LOOPBACK, 0), _Handler)
        self.context = context
        self.peers: list[Peer] = []
        self.handshake_errors: list[str] = []

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.server_address[1]}"

    def finish_request(self, request, client_address) -> None:
        # The handshake runs in the connection's thread, so a stuck client never blocks accept().
        request.settimeout(15)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.handshake_errors.append(f"{type(exc).__name__}: {exc}")
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            tls.close()


@contextlib.contextmanager
def serve_tls(cert: Path, key: Path, client_ca: Path) -> Iterator[TlsHttpServer]:
    """Serve `cert`/`key` on a free loopback port, requiring a client cert from `client_ca`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    context.load_verify_locations(cafile=str(client_ca))
    context.verify_mode = ssl.CERT_REQUIRED
    server = TlsHttpServer(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
