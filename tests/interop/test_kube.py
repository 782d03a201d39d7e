"""The Kubernetes API path: kubectl (Go's crypto/tls, client-go) with the kubeconfig the outputs imply.

The kubeconfig holds the kube CA as `certificate-authority-data` and the kubelet pair (the admin's
system:masters credential) as the user, as Tectonic's generated kubeconfig did. The API server is a small
Python `ssl` server (_tlsserver.py) serving the apiserver pair and requiring client certs from the kube CA.
kubectl dials 127.0.0.1 with `--tls-server-name` set to each name the apiserver cert must carry. The
apiserver pair is also kube-apiserver's kubelet client credential (--kubelet-client-certificate): it
must authenticate to a server that requires the kube CA.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from harness import require

from ._pki import APISERVER_IPS, APISERVER_NAMES, Pki
from ._procs import clean_env, describe, run, wait_until
from ._tlsserver import VERSION, Peer, TlsHttpServer, serve_tls

pytestmark = pytest.mark.interop

KUBE_CA = "kube_certs_ca_cert_pem"
KUBELET = ("kube_certs_kubelet_cert_pem", "kube_certs_kubelet_key_pem")
APISERVER = ("kube_certs_apiserver_cert_pem", "kube_certs_apiserver_key_pem")
# What OpenSSL reports on the server when the client (kubectl) refuses the server's certificate.
ALERT_FROM_CLIENT = "ALERT_BAD_CERTIFICATE"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write_kubeconfig(
    path: Path, *, server: str, ca: bytes, user: tuple[bytes, bytes] | None = None, token: str | None = None
) -> Path:
    """A kubeconfig (JSON is YAML) with the CA and credentials inline, mode 0600 (it holds a key)."""
    credentials: dict[str, str] = {}
    if user:
        credentials = {"client-certificate-data": b64(user[0]), "client-key-data": b64(user[1])}
    if token:
        credentials["token"] = token
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "interop", "cluster": {"server": server, "certificate-authority-data": b64(ca)}}
        ],
        "users": [{"name": "interop", "user": credentials}],
        "contexts": [{"name": "interop", "context": {"cluster": "interop", "user": "interop"}}],
        "current-context": "interop",
    }
    path.touch(mode=0o600)
    path.write_text(json.dumps(config))
    return path


def kubectl(kubeconfig: Path, *args: str, home: Path):
    cmd = [require("kubectl"), f"--kubeconfig={kubeconfig}", "--request-timeout=10s", *args]
    # HOME in tmp: kubectl's discovery cache and config never touch the real home
    return run(cmd, timeout=45, env=clean_env(HOME=str(home), KUBECONFIG=str(kubeconfig)))


def server_saw(server: TlsHttpServer, reason: str, start: int) -> None:
    """Wait until the server has recorded a failed handshake naming `reason` (after the first `start`):
    the client may exit on the alert before the server's thread has written the error down."""
    try:
        wait_until(
            lambda: any(reason in e for e in server.handshake_errors[start:]),
            timeout=5,
            what=f"the server to record a refused handshake with {reason}",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; it recorded {server.handshake_errors[start:]}") from None


def pair(pki: Pki, outputs: tuple[str, str]) -> tuple[bytes, bytes]:
    return pki.pem(outputs[0]), pki.pem(outputs[1])


def test_kubectl_reaches_the_apiserver_by_every_name(pki, tmp_path):
    with serve_tls(pki.file(APISERVER[0]), pki.file(APISERVER[1]), pki.file(KUBE_CA)) as api:
        config = write_kubeconfig(
            tmp_path / "admin.kubeconfig", server=api.url, ca=pki.pem(KUBE_CA), user=pair(pki, KUBELET)
        )
        for name in APISERVER_NAMES + APISERVER_IPS:
            proc = kubectl(config, f"--tls-server-name={name}", "get", "--raw", "/healthz", home=tmp_path)
            assert proc.returncode == 0 and proc.stdout.strip() == "ok", (
                f"{pki.variant}, name {name}: {describe(proc)}"
            )

        proc = kubectl(
            config, "--tls-server-name=kubernetes.default.svc", "version", "-o", "json", home=tmp_path
        )
        assert proc.returncode == 0, describe(proc)
        assert json.loads(proc.stdout)["serverVersion"]["gitVersion"] == VERSION["gitVersion"]

        assert not api.handshake_errors, f"the server refused handshakes: {api.handshake_errors}"
        # at least one request per call (`version` may make more: gcloud's kubectl dispatcher asks too)
        assert len(api.peers) >= len(APISERVER_NAMES + APISERVER_IPS) + 1
        assert set(api.peers) == {Peer("kubelet", ("system:masters",))}, "kubectl presented another identity"


def test_kubectl_refuses_a_wrong_name_or_ca_and_the_apiserver_a_wrong_client(pki, tmp_path):
    with serve_tls(pki.file(APISERVER[0]), pki.file(APISERVER[1]), pki.file(KUBE_CA)) as api:
        good = write_kubeconfig(
            tmp_path / "good", server=api.url, ca=pki.pem(KUBE_CA), user=pair(pki, KUBELET)
        )

        # client side (Go's verifier in kubectl): a name not in the SANs, the bare address, another CA
        for flags, expected in (
            (["--tls-server-name=not-in-sans.tfext.test"], "not not-in-sans.tfext.test"),
            ([], "not 127.0.0.1"),
        ):
            proc = kubectl(good, *flags, "get", "--raw", "/healthz", home=tmp_path)
            assert proc.returncode != 0 and "x509: certificate is valid for" in proc.stderr, describe(proc)
            assert expected in proc.stderr, describe(proc)
        wrong_ca = write_kubeconfig(
            tmp_path / "wrong-ca",
            server=api.url,
            ca=pki.pem("etcd_certs_etcd_ca_crt_pem"),
            user=pair(pki, KUBELET),
        )
        proc = kubectl(wrong_ca, "--tls-server-name=kubernetes", "get", "--raw", "/healthz", home=tmp_path)
        assert proc.returncode != 0 and "x509: certificate signed by unknown authority" in proc.stderr, (
            describe(proc)
        )
        assert not api.peers, "kubectl sent a request after refusing the server"
        server_saw(api, ALERT_FROM_CLIENT, 0)
        refusals = api.handshake_errors
        assert all(ALERT_FROM_CLIENT in e for e in refusals), f"the server saw: {refusals}"

        # server side: no client cert, a client cert from another CA (the etcd client pair)
        no_cert = write_kubeconfig(tmp_path / "no-cert", server=api.url, ca=pki.pem(KUBE_CA), token="no-cert")
        other = write_kubeconfig(
            tmp_path / "other-ca",
            server=api.url,
            ca=pki.pem(KUBE_CA),
            user=pair(pki, ("etcd_certs_etcd_client_crt_pem", "etcd_certs_etcd_client_key_pem")),
        )
        for config, reason in (
            (no_cert, "PEER_DID_NOT_RETURN_A_CERTIFICATE"),
            (other, "CERTIFICATE_VERIFY_FAILED"),
        ):
            before = len(api.handshake_errors)
            proc = kubectl(config, "--tls-server-name=kubernetes", "get", "--raw", "/healthz", home=tmp_path)
            assert proc.returncode != 0, f"{config.name} was served: {describe(proc)}"
            server_saw(api, reason, before)
        assert not api.peers, f"the server served refused clients: {api.peers}"

        # positive control: the same server still serves the right credential
        proc = kubectl(good, "--tls-server-name=kubernetes", "get", "--raw", "/healthz", home=tmp_path)
        assert proc.returncode == 0, describe(proc)


def test_apiserver_pair_authenticates_as_the_kubelet_client(pki, tmp_path):
    """kube-apiserver --kubelet-client-certificate: a server requiring the kube CA (as kubelet's
    --client-ca-file does) accepts the apiserver pair; OpenSSL also checks its clientAuth purpose,
    which the identity server cert (serverAuth only, same CA) lacks."""
    # The stand-in kubelet serves the apiserver pair too: what is checked here is the client side.
    with serve_tls(pki.file(APISERVER[0]), pki.file(APISERVER[1]), pki.file(KUBE_CA)) as kubelet:
        config = write_kubeconfig(
            tmp_path / "apiserver-to-kubelet",
            server=kubelet.url,
            ca=pki.pem(KUBE_CA),
            user=pair(pki, APISERVER),
        )
        proc = kubectl(config, "--tls-server-name=kubernetes", "get", "--raw", "/whoami", home=tmp_path)
        assert proc.returncode == 0, describe(proc)
        assert json.loads(proc.stdout) == {"cn": "kube-apiserver", "o": ["kube-master"]}

        server_only = write_kubeconfig(
            tmp_path / "server-only",
            server=kubelet.url,
            ca=pki.pem(KUBE_CA),
            user=pair(pki, ("identity_certs_server_cert_pem", "identity_certs_server_key_pem")),
        )
        proc = kubectl(server_only, "--tls-server-name=kubernetes", "get", "--raw", "/whoami", home=tmp_path)
        assert proc.returncode != 0, f"a serverAuth-only cert authenticated a client: {describe(proc)}"
        server_saw(kubelet, "unsuitable certificate purpose", 0)
