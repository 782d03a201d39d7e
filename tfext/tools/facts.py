"""A certificate's facts as the tools print them, in openssl's words: its serial as `openssl x509 -serial`
prints it, its signature algorithm as `openssl x509 -text` names it, and its public key as `step
certificate inspect` sums it up (`ECDSA P-256`, `RSA 2048`, `Ed25519`).

Only the tools' rendering: the modules' `certificates` output keeps its own serial (lower-case hex, as
`tfext.certinfo.describe` writes it for HCL), and nothing here is ever a secret.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}

# Signature algorithm OID => OpenSSL's long name, which `openssl x509 -text` prints
# ("Signature Algorithm: ecdsa-with-SHA256"). An OID not listed is shown dotted, as openssl shows it.
SIGNATURE_NAMES = {
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "2.16.840.1.101.3.4.3.13": "RSA-SHA3-224",
    "2.16.840.1.101.3.4.3.14": "RSA-SHA3-256",
    "2.16.840.1.101.3.4.3.15": "RSA-SHA3-384",
    "2.16.840.1.101.3.4.3.16": "RSA-SHA3-512",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "2.16.840.1.101.3.4.3.9": "ecdsa_with_SHA3-224",
    "2.16.840.1.101.3.4.3.10": "ecdsa_with_SHA3-256",
    "2.16.840.1.101.3.4.3.11": "ecdsa_with_SHA3-384",
    "2.16.840.1.101.3.4.3.12": "ecdsa_with_SHA3-512",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
    "1.2.840.10040.4.3": "dsaWithSHA1",
    "2.16.840.1.101.3.4.3.1": "dsa_with_SHA224",
    "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
}


def serial_text(serial: int) -> str:
    """A serial as `openssl x509 -noout -serial` prints it: upper-case hex, two digits a byte (a leading
    zero kept: `06F33F...`, never `6f33f...`), `-` before a negative one (which RFC 5280 forbids, and
    openssl still prints so)."""
    digits = format(abs(serial), "X")
    if len(digits) % 2:
        digits = "0" + digits
    return ("-" if serial < 0 else "") + digits


def key_algorithm(key: object) -> str:
    """`ECDSA P-256`, `RSA 2048`, `Ed25519`, `Ed448`, `DSA 2048`: a key's algorithm and size (public or
    private; only its type and size are looked at)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"ECDSA {CURVES.get(key.curve.name, key.curve.name)}"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    return type(key).__name__


def public_key_algorithm(cert: x509.Certificate) -> str:
    """The algorithm and size of a certificate's public key (`ECDSA P-256`); the key's OID where it is
    one `cryptography` does not load."""
    try:
        return key_algorithm(cert.public_key())
    except Exception:  # noqa: BLE001 - UnsupportedAlgorithm, ValueError: a key we cannot load is still named
        try:
            return f"unsupported ({cert.public_key_algorithm_oid.dotted_string})"
        except Exception:  # noqa: BLE001
            return "unsupported"


def signature_algorithm(cert: x509.Certificate) -> str:
    """The certificate's signature algorithm as `openssl x509 -text` names it (`ecdsa-with-SHA256`,
    `sha256WithRSAEncryption`, `ED25519`)."""
    dotted = cert.signature_algorithm_oid.dotted_string
    return SIGNATURE_NAMES.get(dotted, dotted)
