"""`tfext write-assets DIR`: the example's outputs as files, in Tectonic's `generated/tls/` layout.

Reads `terraform output -json` on stdin. Keys are written with mode 0600, certificates 0644, each file
atomically (a temporary file in the same directory, fsynced, then renamed), so an interrupted run never
leaves a half-written file. `LAYOUT` is the one table of file names; the user-provided example reads the
same names.
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


def write_atomically(path: Path, text: str, mode: int) -> None:
    """Write `text` to `path` so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)  # before any byte is written: a key is never readable by others
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_assets(outputs: dict[str, str], directory: Path) -> list[Path]:
    """Write every known, non-empty output; returns the files written."""
    written = []
    for name, filename in LAYOUT.items():
        value = outputs.get(name, "")
        if not value:  # e.g. server/peer of an external etcd
            continue
        path = directory / filename
        write_atomically(path, value, 0o600 if is_secret(filename) else 0o644)
        written.append(path)
    return written


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
    except json.JSONDecodeError as exc:
        sys.stderr.write(f"tfext write-assets: stdin is not JSON ({exc.msg}); pipe `terraform output -json`\n")
        return 2
    if not isinstance(raw, dict):
        sys.stderr.write("tfext write-assets: expected the JSON object of `terraform output -json`\n")
        return 2
    outputs = {k: v.get("value") if isinstance(v, dict) else v for k, v in raw.items()}
    outputs = {k: v for k, v in outputs.items() if isinstance(v, str)}
    if not any(outputs.get(name) for name in LAYOUT):
        sys.stderr.write("tfext write-assets: none of the example's certificate outputs are in the input\n")
        return 2
    try:
        written = write_assets(outputs, args.dir)
    except OSError as exc:
        sys.stderr.write(f"tfext write-assets: cannot write under {args.dir}: {exc.strerror}\n")
        return 1
    for path in written:
        sys.stdout.write(f"{oct(path.stat().st_mode & 0o777)[2:]}  {path}\n")
    return 0
