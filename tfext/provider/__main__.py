"""Serve the offline hashicorp/external provider as a Terraform plugin: `python -m tfext.provider`.

Terraform starts this (through the launcher `tfext.provider.install` writes) several times per command,
so the start is kept lean: nothing heavy is imported until the magic cookie shows Terraform is the
caller, and the server's TLS identity is cached so `cryptography` is only imported to make a new one.

Lifecycle, as go-plugin expects it:
- print the handshake line `1|6|unix|<socket>|grpc|<server cert>` on stdout (plugin protocol 6);
- serve tfplugin6 `Provider`, plus go-plugin's `GRPCController` (Shutdown) and `GRPCStdio`;
- TLS with the server certificate from the handshake (go-plugin's AutoMTLS trusts exactly it); the
  unix socket sits in a private directory;
- StopProvider kills the programs still running (their reads fail, as with the real provider) and the
  server goes on; Shutdown (or SIGTERM, or Terraform vanishing) ends the process;
- Ctrl-C reaches the whole process group: like go-plugin, the plugin ignores it and lets Terraform
  decide; programs started afterwards still get the default SIGINT behaviour.

`tf.runner.run_provider` is not used: it stops serving on StopProvider (in-flight reads would be cut off
instead of reporting), caches its TLS key under ~/.cache, and always imports `cryptography`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PROTOCOL_VERSION = 6
_CORE_PROTOCOL_VERSION = 1  # go-plugin's own handshake version

_IDENTITY_FILE = "server-identity.json"
_IDENTITY_FORMAT = 1
_IDENTITY_LIFETIME = 30 * 24 * 3600  # seconds
_IDENTITY_RENEW_BEFORE = 24 * 3600  # never hand out a certificate that expires within a day
_MAX_MESSAGE_BYTES = 256 << 20  # what terraform-plugin-go accepts

_NOT_A_COMMAND = """\
This binary is a plugin. These are not meant to be executed directly.
Please execute the program that consumes these plugins, which will
load any plugins automatically
"""


# --- the server's TLS identity, cached outside ~/.cache/tf-python-provider ---------------------------


def _cache_dir_candidates() -> list[tuple[Path, bool]]:
    """Where the identity may be cached, best first, each with "must be private to us" (shared /tmp)."""
    override = os.environ.get("TFEXT_PROVIDER_CACHE_DIR")
    if override:  # an explicit choice is the only place used
        return [(Path(override), False)]
    candidates: list[tuple[Path, bool]] = []
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        candidates.append((Path(xdg) / "tfext" / "provider", False))
    home = os.environ.get("HOME")
    if home and os.path.isabs(home):
        candidates.append((Path(home) / ".cache" / "tfext" / "provider", False))
    candidates.append((Path(tempfile.gettempdir()) / f"tfext-provider-{os.getuid()}", True))
    return candidates


def _private_dir_ok(path: Path) -> bool:
    """A directory in a shared place is trusted only if it is ours and closed to others."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and (info.st_mode & 0o077) == 0 and not path.is_symlink()


def _read_identity(path: Path) -> tuple[bytes, bytes] | None:
    """A cached (key PEM, certificate PEM) still valid for a day, else None."""
    try:
        cached = json.loads(path.read_text(encoding="ascii"))
        if cached.get("format") != _IDENTITY_FORMAT:
            return None
        if float(cached["not_after"]) - time.time() < _IDENTITY_RENEW_BEFORE:
            return None
        return cached["key_pem"].encode("ascii"), cached["cert_pem"].encode("ascii")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_identity(path: Path, key_pem: bytes, cert_pem: bytes, not_after: float) -> None:
    """Atomically (several provider processes start at once), readable by us only."""
    record = {
        "format": _IDENTITY_FORMAT,
        "not_after": not_after,
        "key_pem": key_pem.decode("ascii"),
        "cert_pem": cert_pem.decode("ascii"),
    }
    fd, tmp_name = tempfile.mkstemp(prefix=".identity-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as tmp:
            json.dump(record, tmp)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _new_identity() -> tuple[bytes, bytes, float]:
    """A fresh self-signed ECDSA P-256 certificate for `localhost` (go-plugin's server name)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    not_after = now + datetime.timedelta(seconds=_IDENTITY_LIFETIME)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    # go-plugin's client trusts exactly this certificate as its root: it must be a CA and a server.
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM), not_after.timestamp()


def server_identity() -> tuple[bytes, bytes]:
    """The server's (key PEM, certificate PEM): from the first usable cache, else new (and cached)."""
    candidates = _cache_dir_candidates()
    for directory, must_be_private in candidates:
        if must_be_private and not _private_dir_ok(directory):
            continue
        cached = _read_identity(directory / _IDENTITY_FILE)
        if cached:
            return cached
    key_pem, cert_pem, not_after = _new_identity()
    for directory, must_be_private in candidates:
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            if must_be_private and not _private_dir_ok(directory):
                continue
            _write_identity(directory / _IDENTITY_FILE, key_pem, cert_pem, not_after)
            break
        except OSError:
            continue  # read-only HOME and the like: try the next place, or go without a cache
    return key_pem, cert_pem


def _pem_to_der(pem: bytes) -> bytes:
    lines = pem.decode("ascii").strip().splitlines()
    return base64.b64decode("".join(line for line in lines if not line.startswith("-----")))


# --- the server ---------------------------------------------------------------------------------------


def _watch_parent(parent_pid: int, shutdown: threading.Event) -> None:
    """End the plugin if Terraform disappears without saying goodbye (killed, crashed)."""
    while not shutdown.wait(1.0):
        if os.getppid() != parent_pid:
            shutdown.set()


def serve() -> int:
    """Run the plugin until Terraform shuts it down. Returns the exit code."""
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write(_NOT_A_COMMAND)
        return 1
    offered = os.environ.get("PLUGIN_PROTOCOL_VERSIONS")
    if offered and str(PROTOCOL_VERSION) not in offered.split(","):
        sys.stderr.write(
            f"tfext provider: Terraform offers plugin protocol {offered}; this provider speaks only "
            f"{PROTOCOL_VERSION} (Terraform 1.0 or newer)\n"
        )
        return 1

    from concurrent import futures

    import grpc
    from tf.gen import grpc_controller_pb2 as controller_pb
    from tf.gen import grpc_controller_pb2_grpc as controller_rpc
    from tf.gen import grpc_stdio_pb2_grpc as stdio_rpc
    from tf.gen import tfplugin_pb2 as pb
    from tf.gen import tfplugin_pb2_grpc as provider_rpc
    from tf.provider import ProviderServicer

    from tfext.provider.external import SUPERVISOR, ExternalProvider

    shutdown = threading.Event()

    class Servicer(ProviderServicer):
        """tf's servicer, with the real provider's stop semantics."""

        def ReadDataSource(self, request: Any, context: Any) -> Any:  # noqa: N802 (gRPC method name)
            with SUPERVISOR.call_scope() as scope:
                context.add_callback(scope.kill)  # a cancelled call kills its program
                return super().ReadDataSource(request, context)

        def StopProvider(self, request: Any, context: Any) -> Any:  # noqa: N802
            SUPERVISOR.kill_all()
            return pb.StopProvider.Response()

    class Controller(controller_rpc.GRPCControllerServicer):
        def Shutdown(self, request: Any, context: Any) -> Any:  # noqa: N802
            shutdown.set()
            return controller_pb.Empty()

    class Stdio(stdio_rpc.GRPCStdioServicer):
        def StreamStdio(self, request: Any, context: Any) -> Any:  # noqa: N802
            return iter(())  # our own output goes to stderr, which go-plugin already reads

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="tfext-provider"),
        options=[("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES)],
    )
    provider_rpc.add_ProviderServicer_to_server(Servicer(ExternalProvider()), server)
    controller_rpc.add_GRPCControllerServicer_to_server(Controller(), server)
    stdio_rpc.add_GRPCStdioServicer_to_server(Stdio(), server)

    key_pem, cert_pem = server_identity()
    # Terraform's client certificate (PLUGIN_CLIENT_CERT) is not required: go-plugin makes it on P-521,
    # which grpcio's BoringSSL won't verify, so Go's client would send none. The socket lives in a
    # fresh 0700 directory, so only this user can reach the server anyway.
    credentials = grpc.ssl_server_credentials([(key_pem, cert_pem)])
    socket_dir = tempfile.mkdtemp(
        prefix="tfext-provider-", dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or None
    )
    socket_path = os.path.join(socket_dir, "plugin.sock")
    try:
        server.add_secure_port(f"unix:{socket_path}", credentials)
        server.start()

        # Like go-plugin: Ctrl-C is Terraform's to handle (a handler, not SIG_IGN, so that programs
        # started later get the default disposition back at exec).
        signal.signal(signal.SIGINT, lambda signum, frame: None)
        signal.signal(signal.SIGTERM, lambda signum, frame: shutdown.set())
        threading.Thread(target=_watch_parent, args=(os.getppid(), shutdown), daemon=True).start()

        cert = base64.b64encode(_pem_to_der(cert_pem)).decode("ascii").rstrip("=")
        handshake = f"{_CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{socket_path}|grpc|{cert}\n"
        sys.stdout.write(handshake)
        sys.stdout.flush()

        while not shutdown.wait(3600):
            pass
        SUPERVISOR.kill_all()
        server.stop(grace=0.5).wait()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(socket_path)
        with contextlib.suppress(OSError):
            os.rmdir(socket_dir)
    return 0


def main() -> NoReturn:
    """Entry point of the launcher and of `python -m tfext.provider`; ends the process."""
    code = serve()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        # Skip interpreter teardown (grpc's threads make it slow): Terraform waits for this exit.
        os._exit(code)


if __name__ == "__main__":
    main()
