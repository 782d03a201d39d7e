"""An etcd CA rotation under load: a three-member etcd cluster whose files can be rolled one member at a
time, a writer that never pauses, TLS probes that tell a TLS refusal from a timeout, and a client
certificate signed by neither CA.

Owned by test_ca_rotation_etcd.py (test_ca_rotation_tls.py may read it). Nothing here prints or logs key
material: errors are exception class names and TLS reasons, certificates are named by serial.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import socket
import ssl
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from harness import require
from test_state_layer import KeyScan as StateLayerKeyScan

from tfext import profiles

from ._pki import impostor
from ._procs import LOOPBACK, Service, Services, free_ports, run, wait_until
from .test_etcd import b64, complaints, etcd_env, member_command, post_json, unb64

RETRY_BUDGET = 1.0  # seconds one write may spend, retries included, before it counts as failed
# seconds one attempt may take before the writer tries the next member (as etcd clients fail over): a
# member stopping with SIGTERM first hands its leadership over and may hold a request meanwhile; an
# attempt allowed the whole budget once sat there for all of it (a failed write, RSA run, finish restart)
ATTEMPT_TIMEOUT = 0.4
HEALTH_TIMEOUT = 40  # seconds for a (re)started member to report healthy


# --- client identities ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    """What a client of etcd holds: the CA file it verifies servers with and its certificate pair."""

    label: str
    ca: Path
    cert: Path | None
    key: Path | None

    def trusting(self, ca: Path) -> Client:
        """The same pair, verifying servers with another CA file."""
        return dataclasses.replace(self, ca=ca)

    def context(self, check_hostname: bool = True) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        context.check_hostname = check_hostname
        if self.cert:
            context.load_cert_chain(str(self.cert), str(self.key))
        return context


def make_foreign_client(directory: Path, algorithm: str, ca_file: Path) -> Client:
    """A client pair signed by neither etcd CA: its CA carries the etcd CA's very name with a key of its
    own, and the leaf is the etcd client profile, so only the signature tells it apart. The CA is appended
    to the leaf file, as a full chain. `ca_file` is what the client trusts servers with (a real one, so the
    server side verifies and any refusal is etcd's)."""
    ca, cert, key = impostor(profiles.ETCD_CA, profiles.ETCD_CLIENT, algorithm, directory, "foreign-client")
    with cert.open("ab") as chain:
        chain.write(ca.public_bytes(serialization.Encoding.PEM))
    return Client("signed by neither CA", ca_file, cert, key)


# --- files -------------------------------------------------------------------------------------------


def replace_file(path: Path, source: Path, mode: int = 0o644) -> None:
    """Put `source`'s bytes at `path` atomically (a reader sees the old file or the new one, never half)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())
    os.replace(tmp, path)


def serial_of(pem_or_der: bytes) -> int:
    if pem_or_der.startswith(b"-----"):
        return x509.load_pem_x509_certificate(pem_or_der).serial_number
    return x509.load_der_x509_certificate(pem_or_der).serial_number


# --- the cluster ---------------------------------------------------------------------------------------


@dataclass
class Member:
    """One etcd member: fixed ports and data dir (kept across restarts) and its own copies of the files."""

    name: str
    directory: Path
    client_port: int
    peer_port: int
    service: Service | None = None
    starts: int = 0

    @property
    def client_url(self) -> str:
        return f"https://{LOOPBACK}:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"https://{LOOPBACK}:{self.peer_port}"

    def file(self, name: str) -> Path:
        """trusted-ca.crt, peer-trusted-ca.crt, server.crt, server.key, peer.crt, peer.key"""
        return self.directory / "tls" / name


LEAF_FILES = {  # member file => the write-assets file it comes from
    "server.crt": "etcd/server.crt",
    "server.key": "etcd/server.key",
    "peer.crt": "etcd/peer.crt",
    "peer.key": "etcd/peer.key",
}
TRUST_FILES = ("trusted-ca.crt", "peer-trusted-ca.crt")
BUNDLE_FILE = "etcd-client-ca.crt"  # the write-assets file of etcd_certs_etcd_ca_crt_pem


@dataclass
class Cluster:
    services: Services
    root: Path
    members: list[Member] = field(default_factory=list)
    initial_cluster: str = ""
    token: str = ""

    # files
    def install(self, member: Member, assets: Path, *, trust: bool = True, leaves: bool = True) -> None:
        """Copy a phase's files (a write-assets directory) over a member's, in place."""
        (member.directory / "tls").mkdir(parents=True, exist_ok=True)
        if trust:
            for name in TRUST_FILES:
                replace_file(member.file(name), assets / BUNDLE_FILE)
        if leaves:
            for name, source in LEAF_FILES.items():
                replace_file(member.file(name), assets / source, 0o600 if name.endswith(".key") else 0o644)

    # processes
    def command(self, member: Member) -> list[str]:
        return member_command(
            member.name,
            member.directory / "data",
            listen_client=member.client_url,
            advertise_client=member.client_url,
            peer_url=member.peer_url,
            initial_cluster=self.initial_cluster,
            token=self.token,
            server=(member.file("server.crt"), member.file("server.key")),
            peer=(member.file("peer.crt"), member.file("peer.key")),
            ca=member.file("trusted-ca.crt"),
            peer_ca=member.file("peer-trusted-ca.crt"),
        )

    def launch(self, member: Member) -> None:
        member.starts += 1
        name = f"{member.name}.start{member.starts}"  # a log per start: restarts do not overwrite it
        member.service = self.services.start(name, self.command(member), cwd=member.directory, env=etcd_env())

    def start(self, assets: Path, client: Client, size: int = 3) -> None:
        """A new cluster with one phase's files, every member healthy; retried on new ports if another
        program took one of ours in between."""
        for attempt in range(3):
            ports = free_ports(2 * size)
            self.token = f"rotation-{uuid.uuid4().hex}"
            self.members = [
                Member(f"etcd-{i}", self.root / f"try{attempt}" / f"etcd-{i}", ports[i], ports[size + i])
                for i in range(size)
            ]
            self.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
            for member in self.members:
                member.directory.mkdir(parents=True)
                self.install(member, assets)
            for member in self.members:
                self.launch(member)
            try:
                for member in self.members:
                    self.wait_healthy(member, client)
                return
            except AssertionError:
                in_use = any("address already in use" in m.service.log_text() for m in self.members)
                if attempt < 2 and in_use:
                    for m in self.members:
                        m.service.stop()
                    continue
                raise

    def wait_healthy(self, member: Member, client: Client, timeout: float = HEALTH_TIMEOUT) -> float:
        """Wait until `member` answers /health with true (it has a leader, so its peers took it back);
        returns the seconds it took."""
        start = time.monotonic()
        context = client.context()
        wait_until(
            lambda: health(member, context),
            timeout=timeout,
            what=f"{member.name} healthy",
            services=[member.service],
            interval=0.1,
        )
        return time.monotonic() - start

    def restart(self, member: Member, client: Client) -> float:
        """Stop one member (SIGTERM: a leader hands leadership over first), start it again on the same
        data dir and ports, wait until it is healthy; returns the seconds it was out."""
        start = time.monotonic()
        member.service.stop()
        self.launch(member)
        self.wait_healthy(member, client)
        return time.monotonic() - start

    def rolling_restart(self, client: Client) -> list[float]:
        """One member at a time, each healthy again before the next (quorum is never lost)."""
        return [self.restart(member, client) for member in self.members]

    @property
    def urls(self) -> list[str]:
        return [m.client_url for m in self.members]


def health(member: Member, context: ssl.SSLContext) -> bool:
    conn = http.client.HTTPSConnection(LOOPBACK, member.client_port, context=context, timeout=2)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return response.status == 200 and json.loads(body or b"{}").get("health") == "true"


def etcdctl(urls: list[str], client: Client, *args: str, timeout: float = 30):
    """etcdctl (v3, gRPC, Go's TLS) with one client's files."""
    cmd = [
        require("etcdctl"),
        f"--endpoints={','.join(urls)}",
        "--dial-timeout=3s",
        "--command-timeout=10s",
        f"--cacert={client.ca}",
        f"--cert={client.cert}",
        f"--key={client.key}",
        *args,
    ]
    return run(cmd, timeout=timeout, env=etcd_env())


def tls_complaints(member: Member, since: int = 0) -> list[str]:
    """Lines in which the member's current process complained about TLS (test_etcd.complaints)."""
    return complaints(member.service.log_text()[since:])


def served_serial(port: int, client: Client) -> int:
    """The serial of the certificate a member serves on `port` to a new handshake."""
    context = client.context(check_hostname=False)  # only looking; the CA is still verified
    with (
        socket.create_connection((LOOPBACK, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=LOOPBACK) as tls,
    ):
        return serial_of(tls.getpeercert(binary_form=True))


# --- requests over the HTTP/JSON gateway -------------------------------------------------------------


def post(port: int, path: str, body: dict, context: ssl.SSLContext, timeout: float) -> tuple[int, dict]:
    return post_json(LOOPBACK, port, path, body, context, timeout)


def read_prefix(member: Member, prefix: str, client: Client) -> dict[str, str]:
    """Every key under `prefix` through one member (a linearizable read), key => value."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    status, body = post(
        member.client_port,
        "/v3/kv/range",
        {"key": b64(prefix), "range_end": b64(end)},
        client.context(),
        timeout=30,
    )
    assert status == 200, f"range through {member.name}: HTTP {status} {body}"
    return {unb64(kv["key"]): unb64(kv.get("value", "")) for kv in body.get("kvs", [])}


@dataclass(frozen=True)
class Refusal:
    """How a client that must be refused was refused."""

    kind: str  # "tls" (a TLS alert or our verification), "reset", "timeout", "answered", "other"
    detail: str
    seconds: float


def probe(member: Member, client: Client, timeout: float = 10, tls12: bool = False) -> Refusal:
    """One range request with `client`'s certificate; says how it ended. A TLS 1.3 server refuses a client
    certificate after the client's side of the handshake is done, so the alert arrives on the first read:
    both the handshake and the request are inside the same try."""
    start = time.monotonic()
    try:
        context = client.context()
        if tls12:
            context.maximum_version = ssl.TLSVersion.TLSv1_2
        status, _ = post(member.client_port, "/v3/kv/range", {"key": b64("probe")}, context, timeout)
        kind, detail = "answered", f"HTTP {status}"
    except ssl.SSLError as exc:
        kind, detail = "tls", f"{type(exc).__name__}: {exc.reason or exc}"
    except TimeoutError as exc:
        kind, detail = "timeout", type(exc).__name__
    except (ConnectionResetError, BrokenPipeError) as exc:
        kind, detail = "reset", type(exc).__name__
    except (OSError, http.client.HTTPException) as exc:
        kind, detail = "other", f"{type(exc).__name__}: {exc}"
    return Refusal(kind, detail, time.monotonic() - start)


# --- the writer ------------------------------------------------------------------------------------------


@dataclass
class WriterStats:
    writes: int = 0  # writes started
    succeeded: int = 0
    failed: int = 0  # writes that did not succeed within RETRY_BUDGET
    retried: int = 0  # writes that needed more than one attempt (and succeeded)
    attempts: int = 0
    max_seconds: float = 0.0  # the slowest successful write, retries included
    errors: Counter = field(default_factory=Counter)  # failed attempts by phase and kind
    by_phase: Counter = field(default_factory=Counter)  # successful writes by the phase they were made in

    def summary(self) -> str:
        return (
            f"writes={self.writes} succeeded={self.succeeded} failed={self.failed} retried={self.retried} "
            f"attempts={self.attempts} slowest={self.max_seconds:.3f}s by_phase={dict(self.by_phase)} "
            f"attempt_errors={dict(self.errors)}"
        )


class Writer(threading.Thread):
    """Puts keys through the gateway without pause, one new TLS connection per attempt (so every attempt
    is a fresh handshake with whatever the members and the writer hold at that moment), round robin over
    the members. A failed attempt (or one slower than ATTEMPT_TIMEOUT) moves on to the next member at once;
    a write that has not succeeded within RETRY_BUDGET seconds of its first attempt counts as failed."""

    def __init__(self, members: list[Member], prefix: str, client: Client) -> None:
        super().__init__(name="etcd-writer", daemon=True)
        self.members = members
        self.prefix = prefix
        self.stats = WriterStats()
        self.written: dict[str, str] = {}  # acknowledged key => value
        self.failed_keys: list[str] = []
        self.phase = "initial"
        self._context = client.context()
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._crash: BaseException | None = None

    def use(self, client: Client) -> None:
        """Hand the writer other files (what a consumer is given after an apply); its next attempt uses
        them."""
        context = client.context()
        with self._lock:
            self._context = context

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # reported by stop()
            self._crash = exc

    def _loop(self) -> None:
        turn = 0
        seq = 0
        while not self._halt.is_set():
            key, value = f"{self.prefix}{seq:07d}", f"{seq}:{self.phase}"
            seq += 1
            self.stats.writes += 1
            start = time.monotonic()
            deadline = start + RETRY_BUDGET
            attempts = 0
            done = False
            while True:
                member = self.members[turn % len(self.members)]
                turn += 1
                attempts += 1
                with self._lock:
                    context = self._context
                try:
                    status, body = post(
                        member.client_port,
                        "/v3/kv/put",
                        {"key": b64(key), "value": b64(value)},
                        context,
                        timeout=max(0.05, min(ATTEMPT_TIMEOUT, deadline - time.monotonic())),
                    )
                    done = status == 200 and "header" in body
                    if not done:
                        self.stats.errors[f"{self.phase}: {member.name} HTTP {status}"] += 1
                except ssl.SSLError as exc:
                    self.stats.errors[
                        f"{self.phase}: {member.name} tls {exc.reason or type(exc).__name__}"
                    ] += 1
                except (OSError, http.client.HTTPException) as exc:
                    self.stats.errors[f"{self.phase}: {member.name} {type(exc).__name__}"] += 1
                if done or time.monotonic() >= deadline:
                    break
            self.stats.attempts += attempts
            if done:
                self.stats.succeeded += 1
                self.stats.by_phase[self.phase] += 1
                self.stats.retried += attempts > 1
                self.stats.max_seconds = max(self.stats.max_seconds, time.monotonic() - start)
                self.written[key] = value
            else:
                self.stats.failed += 1
                self.failed_keys.append(key)

    def stop(self) -> WriterStats:
        self._halt.set()
        self.join(timeout=RETRY_BUDGET + 15)
        assert not self.is_alive(), "the writer did not stop"
        if self._crash is not None:
            raise AssertionError(f"the writer crashed: {type(self._crash).__name__}") from self._crash
        return self.stats


# --- no key text in what Terraform printed ----------------------------------------------------------------


class KeyScan(StateLayerKeyScan):
    """test_state_layer's scan (every PEM private-key header, every base64 body line of every key handed
    out so far), learning from output values we already hold instead of running `terraform output`."""

    def learn_values(self, values: dict) -> None:
        for value in values.values():
            if isinstance(value, str) and "PRIVATE KEY" in value:
                self.lines |= {ln for ln in value.splitlines() if ln.strip() and not ln.startswith("-----")}
