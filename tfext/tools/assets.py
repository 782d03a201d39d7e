"""`tfext write-assets DIR`: the example's outputs as files, in Tectonic's `generated/tls/` layout.

Reads `terraform output -json` on stdin. Keys are written with mode 0600, certificates 0644, each file
atomically (a temporary file in the same directory, created 0600, fsynced, then renamed), so an
interrupted run never leaves a half-written file and a key is never readable by others, not even for a
moment. The whole set is written in two phases: every temporary file first, then the renames, so a
failure while writing (disk full, permissions) leaves every old file as it was. `LAYOUT` is the one
table of file names; the user-provided example reads the same names.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

# output name of terraform/examples/tectonic => file under the asset directory
LAYOUT: dict[str, str] = {
    "kube_certs_ca_cert_pem": "ca.crt",
    "kube_certs_ca_key_pem": "ca.key",
    "kube_certs_apiserver_cert_pem": "apiserver.crt",
    "kube_certs_apiserver_key_pem": "apiserver.key",
    "kube_certs_kubelet_cert_pem": "kubelet.crt",
    "kube_certs_kubelet_key_pem": "kubelet.key",
    "etcd_certs_etcd_ca_crt_pem": "etcd-client-ca.crt",
    "etcd_certs_etcd_client_crt_pem": "etcd-client.crt",
    "etcd_certs_etcd_client_key_pem": "etcd-client.key",
    "etcd_certs_etcd_server_crt_pem": "etcd/server.crt",
    "etcd_certs_etcd_server_key_pem": "etcd/server.key",
    "etcd_certs_etcd_peer_crt_pem": "etcd/peer.crt",
    "etcd_certs_etcd_peer_key_pem": "etcd/peer.key",
    "identity_certs_ca_cert_pem": "identity-ca.crt",
    "identity_certs_server_cert_pem": "identity-server.crt",
    "identity_certs_server_key_pem": "identity-server.key",
    "identity_certs_client_cert_pem": "identity-client.crt",
    "identity_certs_client_key_pem": "identity-client.key",
    "ingress_certs_ca_cert_pem": "ingress-ca.crt",
    "ingress_certs_cert_pem": "ingress.crt",
    "ingress_certs_key_pem": "ingress.key",
}


def is_secret(filename: str) -> bool:
    return filename.endswith(".key")


def _fsync_directory(directory: Path) -> None:
    """Make renames in `directory` durable (best effort: not every filesystem can open a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_directories(directory: Path) -> None:
    """Create missing directories 0755 at most, whatever the umask (keys must not be replaceable)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for d in reversed(missing):
        d.mkdir(mode=0o755, exist_ok=True)
        d.chmod(d.stat().st_mode & 0o755)


def _write_temporary(path: Path, text: str, mode: int) -> Path:
    """`text` in a new temporary file beside `path`, with `mode` set before any byte is written."""
    make_directories(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # created 0600
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_assets(outputs: dict[str, str], directory: Path) -> list[Path]:
    """Write every known, non-empty output; returns the files written.

    All temporary files are written before the first rename: if one cannot be written, none of the old
    files is touched and the temporary files are removed.
    """
    pending: list[tuple[Path, Path]] = []  # (temporary, final)
    try:
        for name, filename in LAYOUT.items():
            value = outputs.get(name, "")
            if not value:  # e.g. server/peer of an external etcd
                continue
            path = directory / filename
            pending.append((_write_temporary(path, value, 0o600 if is_secret(filename) else 0o644), path))
        for tmp, path in pending:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    for parent in dict.fromkeys(path.parent for _, path in pending):
        _fsync_directory(parent)
    return [path for _, path in pending]


def check_outputs(outputs: dict[str, str]) -> list[str]:
    """Problems that must stop the run before anything is written (each names an output, never a value)."""
    problems = []
    for name in LAYOUT:
        value = outputs.get(name, "")
        if value and (not value.isascii() or "-----BEGIN " not in value):
            problems.append(f"output {name} is not PEM text")
    return problems


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tfext write-assets",
        description="Write `terraform output -json` (stdin) of the tectonic example as files in Tectonic's "
        "generated/tls layout: keys 0600, certificates 0644, each file written atomically.",
    )
    parser.add_argument("dir", type=Path, help="asset directory, e.g. generated/tls")
    args = parser.parse_args(argv)
    try:
        raw = json.load(sys.stdin)
    except ValueError as exc:  # not JSON, or not UTF-8
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
        sys.stderr.write(f"tfext write-assets: stdin is not JSON ({reason}); pipe `terraform output -json`\n")
        return 2
    if not isinstance(raw, dict):
        sys.stderr.write("tfext write-assets: expected the JSON object of `terraform output -json`\n")
        return 2
    outputs = {k: v.get("value") if isinstance(v, dict) else v for k, v in raw.items()}
    outputs = {k: v for k, v in outputs.items() if isinstance(v, str)}
    if not any(outputs.get(name) for name in LAYOUT):
        sys.stderr.write("tfext write-assets: none of the example's certificate outputs are in the input\n")
        return 2
    problems = check_outputs(outputs)
    if problems:
        sys.stderr.write("".join(f"tfext write-assets: {p}; nothing was written\n" for p in problems))
        return 2
    try:
        written = write_assets(outputs, args.dir)
    except OSError as exc:
        sys.stderr.write(f"tfext write-assets: cannot write under {args.dir}: {exc.strerror}\n")
        return 1
    for path in written:
        sys.stdout.write(f"{oct(path.stat().st_mode & 0o777)[2:]}  {path}\n")
    return 0
