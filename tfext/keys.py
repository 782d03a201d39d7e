"""Private keys: the algorithms we offer, generating them, and PEM in and out.

The vocabulary (`KEY_ALGORITHMS`, `KEY_FORMATS`) is pure data so programs can validate names without
importing `cryptography`; everything that touches key material imports it lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tfext.errors import Code, TfextError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import (
        CertificateIssuerPrivateKeyTypes,
        CertificatePublicKeyTypes,
    )


@dataclass(frozen=True)
class KeyAlgorithm:
    name: str  # what users write: "RSA-2048", "ECDSA-P256", ...
    family: str  # "RSA", "ECDSA" or "ED25519" (Tectonic's `ca_key_alg` vocabulary, extended)
    size: int  # RSA modulus bits, or curve bits


KEY_ALGORITHMS: dict[str, KeyAlgorithm] = {
    a.name: a
    for a in (
        KeyAlgorithm("RSA-2048", "RSA", 2048),
        KeyAlgorithm("RSA-3072", "RSA", 3072),
        KeyAlgorithm("RSA-4096", "RSA", 4096),
        KeyAlgorithm("ECDSA-P256", "ECDSA", 256),
        KeyAlgorithm("ECDSA-P384", "ECDSA", 384),
        KeyAlgorithm("ED25519", "ED25519", 256),
    )
}
DEFAULT_KEY_ALGORITHM = "RSA-2048"

# "traditional": PKCS#1 for RSA (as Tectonic wrote them), SEC1 for ECDSA; Ed25519 has only PKCS#8.
KEY_FORMATS = ("traditional", "pkcs8")
DEFAULT_KEY_FORMAT = "traditional"

# Smallest acceptable strength for keys we are given.
MIN_RSA_BITS = 2048
# Go's TLS refuses RSA keys above 8192 bits (CVE-2023-29409), and checking a bigger key's parts costs time
# that grows steeply with its size.
MAX_RSA_BITS = 8192
# Go's crypto/x509 refuses a public exponent above 2^31-1 ("x509: invalid RSA public exponent"), and
# crypto/rsa one below 3 or even; a huge exponent also makes every signature check slow.
MAX_RSA_EXPONENT = (1 << 31) - 1
ALLOWED_CURVES = ("secp256r1", "secp384r1", "secp521r1")


def generate(algorithm: str) -> CertificateIssuerPrivateKeyTypes:
    """Generate a fresh private key of a named algorithm."""
    alg = KEY_ALGORITHMS[algorithm]
    if alg.family == "RSA":
        from cryptography.hazmat.primitives.asymmetric import rsa

        return rsa.generate_private_key(public_exponent=65537, key_size=alg.size)
    if alg.family == "ECDSA":
        from cryptography.hazmat.primitives.asymmetric import ec

        curve = ec.SECP256R1() if alg.size == 256 else ec.SECP384R1()
        return ec.generate_private_key(curve)
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate()


def to_pem(key: CertificateIssuerPrivateKeyTypes, key_format: str = DEFAULT_KEY_FORMAT) -> str:
    """Serialize a private key, unencrypted, as PEM text."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    traditional = key_format == "traditional" and not isinstance(key, ed25519.Ed25519PrivateKey)
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode("ascii")


def family(key: CertificateIssuerPrivateKeyTypes | CertificatePublicKeyTypes) -> str:
    """`RSA`, `ECDSA` or `ED25519`: what Tectonic called `ca_key_alg`."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ECDSA"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "ED25519"
    return type(key).__name__


def describe(key: CertificateIssuerPrivateKeyTypes | CertificatePublicKeyTypes) -> str:
    """A short, secret-free description such as `RSA-2048` or `ECDSA-secp256r1`."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"ECDSA-{key.curve.name}"
    return family(key)


def go_refusal(key: CertificateIssuerPrivateKeyTypes | CertificatePublicKeyTypes) -> tuple[Code, str] | None:
    """Why Go would refuse this RSA key (its size or public exponent), as (code, detail); None if it would
    not. Checked before any signature is computed or verified with the key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(key, rsa.RSAPrivateKey):
        key = key.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return None
    if key.key_size > MAX_RSA_BITS:
        return (
            Code.RSA_TOO_LARGE,
            f"RSA-{key.key_size} is larger than RSA-{MAX_RSA_BITS}, the most Go's TLS accepts "
            "(CVE-2023-29409)",
        )
    e = key.public_numbers().e
    if e > MAX_RSA_EXPONENT or e < 3 or e % 2 == 0:
        size = f"a {e.bit_length()}-bit" if e > MAX_RSA_EXPONENT else "an even or too small"
        return (
            Code.BAD_RSA_EXPONENT,
            f"{size} RSA public exponent; Go refuses it (x509: invalid RSA public exponent), use 65537",
        )
    return None


# What to do about a key that does not load; the value itself is never shown.
KEY_FIX = (
    ": it must hold one whole PEM private key, from its header line to its END line, not a certificate, a "
    "path or a copy cut short (the value is not shown)"
)


def load_private_key(pem: str, where: str) -> CertificateIssuerPrivateKeyTypes:
    """Parse an unencrypted PKCS#1, SEC1 or PKCS#8 private key; errors name `where`, never the key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if "ENCRYPTED" in pem:
        raise TfextError.of(
            Code.ENCRYPTED_KEY,
            where,
            "the private key is encrypted; Terraform cannot prompt for a passphrase - decrypt it first "
            "(e.g. `openssl pkey -in KEY -out KEY.plain`) and keep the file mode 0600",
        )
    data = pem.encode("ascii", "replace")
    try:
        # OpenSSL's full RSA key check (primality tests included) costs ~20 ms a key; the arithmetic
        # Go's parser checks (below) takes microseconds and refuses the same corrupt keys Go would.
        key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
        if isinstance(key, rsa.RSAPrivateKey):
            refusal = go_refusal(key)
            if refusal:
                raise TfextError.of(refusal[0], where, refusal[1])
            if not _rsa_parts_consistent(key):
                raise TfextError.of(
                    Code.NOT_PEM, where, "inconsistent RSA private key (its parts do not match)"
                )
    except TfextError:
        raise
    except (ValueError, TypeError):
        raise TfextError.of(
            Code.NOT_PEM, where, f"not a readable private key (expected PKCS#1, SEC1 or PKCS#8 PEM){KEY_FIX}"
        ) from None
    except Exception:  # noqa: BLE001 - cryptography raises assorted errors on malformed input
        raise TfextError.of(Code.NOT_PEM, where, f"malformed private key{KEY_FIX}") from None
    # Ed448 too is refused: Go's crypto/x509 (etcd, Kubernetes) cannot use it.
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise TfextError.of(
            Code.UNSUPPORTED_KEY,
            where,
            f"{family(key).removesuffix('PrivateKey')} keys cannot be used for TLS by Go's crypto/x509; "
            "use RSA (2048 bits or more), ECDSA P-256/P-384 or Ed25519",
        )
    return key


def _rsa_parts_consistent(key) -> bool:
    """The arithmetic Go's rsa.Validate does, plus the CRT parts OpenSSL uses; no primality tests."""
    numbers = key.private_numbers()
    p, q, d, e, n = numbers.p, numbers.q, numbers.d, numbers.public_numbers.e, numbers.public_numbers.n
    if p <= 1 or q <= 1 or p * q != n:
        return False
    if any((d * e) % (prime - 1) != 1 for prime in (p, q)):
        return False
    return numbers.dmp1 == d % (p - 1) and numbers.dmq1 == d % (q - 1) and (numbers.iqmp * q) % p == 1


def public_key_matches(
    private_key: CertificateIssuerPrivateKeyTypes, public_key: CertificatePublicKeyTypes
) -> bool:
    """Whether a private key is the one behind a public key."""
    from cryptography.hazmat.primitives import serialization

    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return private_key.public_key().public_bytes(enc, fmt) == public_key.public_bytes(enc, fmt)
