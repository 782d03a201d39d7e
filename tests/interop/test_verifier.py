"""Go's rules, in-process: every certificate of every PKI variant through `cryptography`'s X.509 verifier.

The verifier enforces what Go's crypto/x509 enforces in etcd, kubectl and dex (cert-rules.md): chain to
the right CA, CA:TRUE issuer, validity now, SAN match (never the CN), extended key usage. It runs in
milliseconds, so a broken profile fails here before any server starts. Client certificates are checked
with SubjectAlternativeName made optional, as Kubernetes client certs carry none.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from tfext.tools.assets import LAYOUT

from ._pki import (
    APISERVER_IPS,
    APISERVER_NAMES,
    CONSOLE_HOST,
    ETCD_ALL_IPS,
    ETCD_NAMES,
    IDENTITY_NAMES,
    Pki,
)

pytestmark = pytest.mark.interop

ETCD_CA = "etcd_certs_etcd_ca_crt_pem"
KUBE_CA = "kube_certs_ca_cert_pem"


@dataclass(frozen=True)
class Leaf:
    role: str
    cert: str  # output holding the certificate
    key: str  # output holding its key
    ca: str  # output holding the CA a consumer trusts for it
    server_names: tuple[str, ...]  # names a client dials it by (empty: not a server certificate)
    client: bool  # presented as a client certificate by some consumer

    @property
    def other_ca(self) -> str:
        return KUBE_CA if self.ca == ETCD_CA else ETCD_CA


LEAVES = (
    # the server cert is also the client of etcd's own gRPC gateway: clientAuth is required
    Leaf(
        "etcd-server",
        "etcd_certs_etcd_server_crt_pem",
        "etcd_certs_etcd_server_key_pem",
        ETCD_CA,
        ETCD_NAMES + ETCD_ALL_IPS,
        True,
    ),
    Leaf(
        "etcd-peer",
        "etcd_certs_etcd_peer_crt_pem",
        "etcd_certs_etcd_peer_key_pem",
        ETCD_CA,
        ETCD_NAMES + ETCD_ALL_IPS,
        True,
    ),
    Leaf(
        "etcd-client", "etcd_certs_etcd_client_crt_pem", "etcd_certs_etcd_client_key_pem", ETCD_CA, (), True
    ),
    # the apiserver pair also authenticates the apiserver to kubelets
    Leaf(
        "apiserver",
        "kube_certs_apiserver_cert_pem",
        "kube_certs_apiserver_key_pem",
        KUBE_CA,
        APISERVER_NAMES + APISERVER_IPS,
        True,
    ),
    Leaf("kubelet", "kube_certs_kubelet_cert_pem", "kube_certs_kubelet_key_pem", KUBE_CA, (), True),
    Leaf(
        "identity-server",
        "identity_certs_server_cert_pem",
        "identity_certs_server_key_pem",
        "identity_certs_ca_cert_pem",
        IDENTITY_NAMES,
        False,
    ),
    Leaf(
        "identity-client",
        "identity_certs_client_cert_pem",
        "identity_certs_client_key_pem",
        "identity_certs_ca_cert_pem",
        (),
        True,
    ),
    Leaf(
        "ingress",
        "ingress_certs_cert_pem",
        "ingress_certs_key_pem",
        "ingress_certs_ca_cert_pem",
        (CONSOLE_HOST,),
        False,
    ),
)
CAS = (ETCD_CA, KUBE_CA, "identity_certs_ca_cert_pem", "ingress_certs_ca_cert_pem")
SERVERS = [leaf for leaf in LEAVES if leaf.server_names]
CLIENTS = [leaf for leaf in LEAVES if leaf.client]


def san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def builder(pki: Pki, ca: str) -> PolicyBuilder:
    return PolicyBuilder().store(Store([pki.cert(ca)])).time(dt.datetime.now(dt.UTC))


def client_verifier(pki: Pki, ca: str):
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    return (
        builder(pki, ca)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
        .build_client_verifier()
    )


def spki(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_of(pki: Pki, key_output: str) -> bytes:
    """The public half of a key output (what assertions may compare: never the private key itself)."""
    return spki(serialization.load_pem_private_key(pki.pem(key_output), password=None).public_key())


@pytest.mark.parametrize("leaf", SERVERS, ids=lambda leaf: leaf.role)
def test_server_cert_verifies_for_every_name(pki, leaf):
    cert = pki.cert(leaf.cert)
    for name in leaf.server_names:
        verifier = builder(pki, leaf.ca).build_server_verifier(san(name))
        try:
            chain = verifier.verify(cert, [])
        except VerificationError as exc:
            pytest.fail(f"{pki.variant} {leaf.role}: a client dialing {name} would refuse it: {exc}")
        assert chain[-1] == pki.cert(leaf.ca)


@pytest.mark.parametrize("leaf", CLIENTS, ids=lambda leaf: leaf.role)
def test_client_cert_verifies(pki, leaf):
    try:
        client_verifier(pki, leaf.ca).verify(pki.cert(leaf.cert), [])
    except VerificationError as exc:
        pytest.fail(f"{pki.variant} {leaf.role}: a server requiring client certs would refuse it: {exc}")


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.role)
def test_negative_controls_are_refused(pki, leaf):
    """The verifier is live: the other CA, a name not in the SANs and a missing EKU are all refused."""
    cert = pki.cert(leaf.cert)
    with pytest.raises(VerificationError):
        client_verifier(pki, leaf.other_ca).verify(cert, [])
    for name in ("not-in-sans.tfext.test", "127.0.0.2"):
        with pytest.raises(VerificationError):
            builder(pki, leaf.ca).build_server_verifier(san(name)).verify(cert, [])
    if leaf.server_names:
        with pytest.raises(VerificationError):
            builder(pki, leaf.other_ca).build_server_verifier(san(leaf.server_names[0])).verify(cert, [])


def test_identity_server_cert_is_not_a_client_cert(pki):
    """EKU is enforced: the identity server cert (serverAuth only) cannot authenticate a client."""
    with pytest.raises(VerificationError, match="EKU"):
        client_verifier(pki, KUBE_CA).verify(pki.cert("identity_certs_server_cert_pem"), [])


@pytest.mark.parametrize("leaf", LEAVES, ids=lambda leaf: leaf.role)
def test_key_pairs_match_and_use_the_variants_algorithm(pki, leaf):
    cert = pki.cert(leaf.cert)
    matches = public_key_of(pki, leaf.key) == spki(cert.public_key())
    assert matches, f"{pki.variant} {leaf.role}: the key does not match the certificate"
    for checked in (cert, pki.cert(leaf.ca)):
        public = checked.public_key()
        if pki.algorithm == "RSA-2048":
            assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048, f"{checked.subject}"
        else:
            assert isinstance(public, ec.EllipticCurvePublicKey), f"{checked.subject}"
            assert isinstance(public.curve, ec.SECP256R1), f"{checked.subject}"


@pytest.mark.parametrize("output", [leaf.cert for leaf in LEAVES] + list(CAS))
def test_what_go_checks_besides_the_chain(pki, output):
    """Serial positive and at most 20 octets (Go 1.23 rejects negative ones); no SHA-1 signature."""
    cert = pki.cert(output)
    assert 0 < cert.serial_number < 2**159, f"{pki.variant} {output}: serial out of range"
    assert not isinstance(cert.signature_hash_algorithm, hashes.SHA1)


def test_identity_and_ingress_are_signed_by_the_kube_ca(pki):
    """Tectonic's topology: one kube CA for apiserver, kubelet, identity (gRPC client CA) and ingress."""
    kube_ca = pki.cert(KUBE_CA)
    assert pki.cert("identity_certs_ca_cert_pem") == kube_ca
    assert pki.cert("ingress_certs_ca_cert_pem") == kube_ca
    assert pki.cert(ETCD_CA) != kube_ca


def test_user_provided_outputs_carry_the_files_unchanged(generated_and_user_provided):
    """Fed back as files, the user-provided flavors output the same certificates and keys."""
    generated, provided = generated_and_user_provided
    for leaf in LEAVES:
        assert provided.cert(leaf.cert) == generated.cert(leaf.cert), leaf.cert
        same_key = public_key_of(provided, leaf.key) == public_key_of(generated, leaf.key)
        assert same_key, f"{leaf.key}: a different key (not shown)"
    for ca in CAS:
        assert provided.cert(ca) == generated.cert(ca), ca


def test_consumers_read_exactly_the_outputs(pki):
    """The files given to the consumers hold the outputs byte for byte; keys are 0600 or stricter."""
    for output, filename in LAYOUT.items():
        value = pki.outputs.get(output, "")
        assert value, f"{pki.variant}: output {output} is empty"
        same = pki.file(output).read_text() == value  # compared, never shown: some are keys
        assert same, f"{pki.variant}: {filename} differs from output {output}"
        if filename.endswith(".key"):
            assert pki.file(output).stat().st_mode & 0o077 == 0, f"{filename} is readable by others"
