"""How the tools print a certificate's serial, signature algorithm and public key (`tfext.tools.facts`),
checked against the real openssl: `openssl x509 -noout -serial` for the serial (upper-case hex, a
leading zero kept), `openssl x509 -noout -text` for the signature algorithm's name and the key's size
and curve."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from harness import require

from tfext.tools import facts

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def make(key, digest, serial: int = 0x06F33F6A, pss: bool = False) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "facts")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(T0)
        .not_valid_after(T0 + dt.timedelta(days=1))
    )
    if pss:
        return builder.sign(
            key, digest, rsa_padding=padding.PSS(padding.MGF1(digest), padding.PSS.DIGEST_LENGTH)
        )
    return builder.sign(key, digest)


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(65537, 2048)


@pytest.fixture(scope="module")
def certificates(rsa_key) -> dict[str, x509.Certificate]:
    """One self-signed certificate per key and signature the modules issue or users bring."""
    p256, p384, p521 = (ec.generate_private_key(c) for c in (ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()))
    return {
        "ECDSA P-256": make(p256, hashes.SHA256()),
        "ECDSA P-384": make(p384, hashes.SHA384()),
        "ECDSA P-521": make(p521, hashes.SHA512()),
        "RSA 2048": make(rsa_key, hashes.SHA256()),
        "RSA 2048 sha384": make(rsa_key, hashes.SHA384()),
        "RSA 2048 sha512": make(rsa_key, hashes.SHA512()),
        "RSA 2048 pss": make(rsa_key, hashes.SHA256(), pss=True),
        "Ed25519": make(ed25519.Ed25519PrivateKey.generate(), None),
        "Ed448": make(ed448.Ed448PrivateKey.generate(), None),
    }


def openssl(cert: x509.Certificate, *args: str) -> str:
    pem = cert.public_bytes(serialization.Encoding.PEM)
    proc = subprocess.run(
        [require("openssl"), "x509", "-noout", *args], input=pem, capture_output=True, check=True, timeout=30
    )
    return proc.stdout.decode()


def test_the_signature_algorithm_is_named_as_openssl_names_it(certificates):
    for label, cert in certificates.items():
        text = openssl(cert, "-text")
        named = re.search(r"Signature Algorithm: (\S+)", text).group(1)
        assert facts.signature_algorithm(cert) == named, label
    assert facts.signature_algorithm(certificates["ECDSA P-256"]) == "ecdsa-with-SHA256"
    assert facts.signature_algorithm(certificates["RSA 2048"]) == "sha256WithRSAEncryption"


def test_the_public_key_is_summed_up_with_the_size_and_curve_openssl_shows(certificates):
    curves = {"P-256": "prime256v1", "P-384": "secp384r1", "P-521": "secp521r1"}
    for label, cert in certificates.items():
        shown = facts.public_key_algorithm(cert)
        assert label.startswith(shown), (label, shown)
        text = openssl(cert, "-text")
        algorithm = re.search(r"Public Key Algorithm: (\S+)", text).group(1)
        if shown.startswith("RSA"):
            assert algorithm == "rsaEncryption"
            assert f"Public-Key: ({shown.split()[1]} bit)" in text
        elif shown.startswith("ECDSA"):
            assert algorithm == "id-ecPublicKey"
            curve = shown.split()[1]
            assert f"ASN1 OID: {curves[curve]}" in text and f"NIST CURVE: {curve}" in text
        else:
            assert algorithm == shown.upper()  # ED25519, ED448


@pytest.mark.parametrize(
    "serial",
    [1, 0x0F, 0x10, 0x7F, 0x80, 0xFF, 0x0100, 0x06F33F6A, 0x6F33F6A0, 2**64 - 1, 2**159 - 1, 0x0ABC << 140],
)
def test_a_serial_is_printed_as_openssl_prints_it(rsa_key, serial):
    cert = make(rsa_key, hashes.SHA256(), serial=serial)
    assert f"serial={facts.serial_text(serial)}\n" == openssl(cert, "-serial")


def test_a_serial_keeps_its_leading_zero_and_is_upper_case():
    assert facts.serial_text(0x06F33F6A) == "06F33F6A"
    assert facts.serial_text(0x6F33F6A0) == "6F33F6A0"
    assert facts.serial_text(0) == "00"
    assert facts.serial_text(-0x0A) == "-0A"  # RFC 5280 forbids it; openssl still prints it so


def test_an_unknown_signature_algorithm_is_shown_dotted():
    class Fake:
        signature_algorithm_oid = x509.ObjectIdentifier("1.2.3.4")

    assert facts.signature_algorithm(Fake()) == "1.2.3.4"
