"""Tectonic Ingress: nginx serving the ingress pair for the console's host (`base_address`).

nginx (OpenSSL) loads the pair as the default certificate; clients trust only the ingress `ca_cert_pem`
(as the console's BRIDGE_CA_FILE and kube-apiserver's --oidc-ca-file do) and dial the console host:
Python's ssl (OpenSSL) and kubectl (Go's crypto/tls, the verifier kube-apiserver uses for OIDC).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import require

from ._pki import CONSOLE_HOST, Pki
from ._procs import LOOPBACK, Services, clean_env, describe, free_ports, run, wait_for_port

pytestmark = pytest.mark.interop

BODY = "tectonic ingress ok"

NGINX_CONF = """\
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen {host}:{port} ssl;
        server_name {server_name};
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            default_type text/plain;
            return 200 "{body}\\n";
        }}
    }}
}}
"""


@pytest.fixture
def nginx(pki: Pki, services: Services, tmp_path: Path) -> Iterator[int]:
    """nginx with the ingress pair on a free loopback port; yields the port."""
    root = tmp_path / "nginx"
    root.mkdir()
    conf = root / "nginx.conf"
    error_log = root / "error.log"
    services.add_log("nginx error.log", error_log)
    for attempt in range(3):  # another program may take the free port before nginx binds it
        port = free_ports(1)[0]
        conf.write_text(
            NGINX_CONF.format(
                root=root,
                host=LOOPBACK,
                port=port,
                server_name=CONSOLE_HOST,
                cert=pki.file("ingress_certs_cert_pem"),
                key=pki.file("ingress_certs_key_pem"),
                body=BODY,
            )
        )
        cmd = [require("nginx"), "-p", str(root), "-c", str(conf), "-e", str(error_log), "-g", "daemon off;"]
        service = services.start("nginx", cmd, cwd=root)
        try:
            wait_for_port(service, LOOPBACK, port)
            break
        except AssertionError:
            service.stop()
            in_use = error_log.exists() and "Address already in use" in error_log.read_text(errors="replace")
            if attempt == 2 or not in_use:
                raise
    yield port


def fetch(port: int, *, name: str, ca: Path) -> tuple[int, str]:
    """GET / over TLS by `name`, trusting only `ca` (Python's ssl: OpenSSL's verifier)."""
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection((LOOPBACK, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.0\r\nHost: {name}\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode()


def kubectl_get(port: int, *, name: str, ca: Path, home: Path):
    """GET / through kubectl (Go's crypto/tls), trusting only `ca`, with `name` as the TLS server name."""
    cmd = [
        require("kubectl"),
        f"--server=https://{LOOPBACK}:{port}",
        f"--certificate-authority={ca}",
        f"--tls-server-name={name}",
        "--token=unused",  # nginx ignores it; without credentials kubectl would ask for a password
        "--request-timeout=10s",
        "get",
        "--raw",
        "/",
    ]
    return run(cmd, timeout=45, env=clean_env(HOME=str(home), KUBECONFIG=str(home / "none")))


def test_ingress_serves_the_console_host(pki, nginx, tmp_path):
    ca = pki.file("ingress_certs_ca_cert_pem")
    status, body = fetch(nginx, name=CONSOLE_HOST, ca=ca)
    assert (status, body.strip()) == (200, BODY)
    proc = kubectl_get(nginx, name=CONSOLE_HOST, ca=ca, home=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == BODY, describe(proc)


def test_ingress_is_refused_by_a_wrong_name_or_ca(pki, nginx, tmp_path):
    ca = pki.file("ingress_certs_ca_cert_pem")
    wrong_ca = pki.file("etcd_certs_etcd_ca_crt_pem")
    wrong_name = f"other.{CONSOLE_HOST}"

    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        fetch(nginx, name=wrong_name, ca=ca)
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        fetch(nginx, name=CONSOLE_HOST, ca=wrong_ca)

    proc = kubectl_get(nginx, name=wrong_name, ca=ca, home=tmp_path)
    assert proc.returncode != 0 and f"not {wrong_name}" in proc.stderr, describe(proc)
    proc = kubectl_get(nginx, name=CONSOLE_HOST, ca=wrong_ca, home=tmp_path)
    assert proc.returncode != 0 and "x509: certificate signed by unknown authority" in proc.stderr, describe(
        proc
    )
