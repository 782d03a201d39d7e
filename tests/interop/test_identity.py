"""Tectonic Identity's gRPC API (dex, port 5557) with mutual TLS, through grpcio (gRPC C-core).

The server holds the identity server pair and requires client certs from the kube CA (dex's
`grpc.tlsClientCA`); the console dials it with the identity client pair, trusting the identity CA, by the
service's name (`ssl_target_name_override`, as DNS would give it in the cluster). The method is a generic
unary-unary handler with raw bytes in and out, so no protobuf code is needed; it answers with the
client certificate's common name as the server saw it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from ._pki import IDENTITY_NAMES, Pki
from ._procs import LOOPBACK

pytestmark = pytest.mark.interop

METHOD = "/tectonic.identity.Interop/WhoAmI"
IDENTITY_CA = "identity_certs_ca_cert_pem"
CALL_TIMEOUT = 10  # seconds; a refused handshake fails at once with UNAVAILABLE


def _who_am_i(request: bytes, context: grpc.ServicerContext) -> bytes:
    names = context.auth_context().get("x509_common_name", [b""])
    return b"hello " + names[0]


@pytest.fixture
def identity_server(pki) -> Iterator[int]:
    """The identity gRPC server on a free loopback port; yields the port."""
    handler = grpc.method_handlers_generic_handler(
        "tectonic.identity.Interop", {"WhoAmI": grpc.unary_unary_rpc_method_handler(_who_am_i)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    credentials = grpc.ssl_server_credentials(
        [(pki.pem("identity_certs_server_key_pem"), pki.pem("identity_certs_server_cert_pem"))],
        root_certificates=pki.pem("kube_certs_ca_cert_pem"),
        require_client_auth=True,
    )
    port = server.add_secure_port(f"{LOOPBACK}:0", credentials)
    assert port, "grpc could not bind a loopback port"
    server.start()
    try:
        yield port
    finally:
        server.stop(grace=None).wait(10)


def call(
    port: int,
    pki: Pki,
    *,
    name: str,
    client_pair: tuple[str, str] | None,
    ca: str = IDENTITY_CA,
):
    """One WhoAmI call; returns the reply or raises grpc.RpcError."""
    key, cert = (pki.pem(client_pair[1]), pki.pem(client_pair[0])) if client_pair else (None, None)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=pki.pem(ca), private_key=key, certificate_chain=cert
    )
    options = [("grpc.ssl_target_name_override", name), ("grpc.use_local_subchannel_pool", 1)]
    with grpc.secure_channel(f"{LOOPBACK}:{port}", credentials, options=options) as channel:
        return channel.unary_unary(METHOD)(b"", timeout=CALL_TIMEOUT)


CLIENT = ("identity_certs_client_cert_pem", "identity_certs_client_key_pem")


@pytest.mark.parametrize("name", IDENTITY_NAMES)
def test_console_calls_identity_over_mutual_tls(pki, identity_server, name):
    reply = call(identity_server, pki, name=name, client_pair=CLIENT)
    assert reply == b"hello tectonic-identity-api.tectonic-system.svc.cluster.local"


ETCD_CLIENT = ("etcd_certs_etcd_client_crt_pem", "etcd_certs_etcd_client_key_pem")
IDENTITY_SERVER = ("identity_certs_server_cert_pem", "identity_certs_server_key_pem")


@pytest.mark.parametrize(
    "client_pair, name, ca",
    [
        pytest.param(None, IDENTITY_NAMES[0], IDENTITY_CA, id="no-client-cert"),
        pytest.param(ETCD_CLIENT, IDENTITY_NAMES[0], IDENTITY_CA, id="client-cert-from-another-ca"),
        # from the right CA, but serverAuth only
        pytest.param(IDENTITY_SERVER, IDENTITY_NAMES[0], IDENTITY_CA, id="server-cert-as-client-cert"),
        pytest.param(CLIENT, "tectonic-identity-api", IDENTITY_CA, id="name-not-in-the-sans"),
        pytest.param(CLIENT, IDENTITY_NAMES[0], "etcd_certs_etcd_ca_crt_pem", id="wrong-ca"),
    ],
)
def test_identity_refuses(pki, identity_server, client_pair, name, ca):
    with pytest.raises(grpc.RpcError) as refused:
        call(identity_server, pki, name=name, client_pair=client_pair, ca=ca)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
    # positive control: the same server still answers the console
    assert call(identity_server, pki, name=IDENTITY_NAMES[0], client_pair=CLIENT).startswith(b"hello ")
