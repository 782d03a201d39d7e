"""Hostile inputs, generated on the spot (no committed blobs): certificates that cost work, certificates
that fail only when fully parsed, keys Go refuses, and key material disguised as paths and names."""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PEM = serialization.Encoding.PEM


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key) -> str:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(PEM).decode()


def build(
    subject: x509.Name,
    public_key,
    signer,
    *,
    issuer: x509.Name | None = None,
    ca: bool = False,
    extensions: list[tuple[x509.ExtensionType, bool]] = (),
    days: int = 365,
    ski: bool = True,
) -> x509.Certificate:
    """A certificate of `subject` for `public_key`, signed by `signer` (any private key)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - dt.timedelta(days=1))
        .not_valid_after(T0 + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(signer, hashes.SHA256())


def same_subject_cas(count: int) -> str:
    """`count` CA certificates, all named `CN=twin`, none signed by the key of another (the issue's 142 KB
    file of 400): every one is a candidate issuer of every other, so a naive walk checks count^2
    signatures."""
    signer = ec_key()
    keys = [ec_key() for _ in range(min(count, 8))]
    return "".join(
        cert_pem(build(name("twin"), keys[i % len(keys)].public_key(), signer, ca=True, ski=False))
        for i in range(count)
    )


def huge_exponent_rsa_public_key(modulus_key: rsa.RSAPrivateKey, exponent_bits: int):
    """An RSA public key with `modulus_key`'s modulus and an odd exponent of `exponent_bits` bits."""
    n = modulus_key.public_key().public_numbers().n
    e = (1 << (exponent_bits - 1)) | secrets.randbits(exponent_bits - 2) << 1 | 1
    return rsa.RSAPublicNumbers(e, n).public_key()


def huge_exponent_chain(modulus_key: rsa.RSAPrivateKey, intermediates: int) -> tuple[str, x509.Certificate]:
    """A leaf and `intermediates` CA certificates above it, each with a near-modulus-size public exponent
    (slow to verify with), leaf first; and the CA at the top."""
    top_key = ec_key()
    top = build(name("top"), top_key.public_key(), top_key, ca=True)
    signer = ec_key()
    pub = huge_exponent_rsa_public_key(modulus_key, modulus_key.key_size - 1)
    certs = [build(name("leaf"), ec_key().public_key(), signer, issuer=name("int-1"))]
    for i in range(1, intermediates + 1):
        parent = name(f"int-{i + 1}") if i < intermediates else top.subject
        certs.append(build(name(f"int-{i}"), pub, signer, issuer=parent, ca=True))
    return "".join(cert_pem(c) for c in certs), top


def oversized_rsa_private_key_pem(bits: int = 8400) -> str:
    """A PKCS#8 RSA key of `bits` bits whose parts are nonsense (generating a real one takes minutes): only
    its size matters, and it must be refused before anything is computed with it."""

    def odd(b: int) -> int:
        return secrets.randbits(b) | (1 << (b - 1)) | 1

    p, q = odd(bits // 2), odd(bits - bits // 2)
    numbers = rsa.RSAPrivateNumbers(p, q, 3, 3, 3, 3, rsa.RSAPublicNumbers(65537, p * q))
    return key_pem(numbers.private_key(unsafe_skip_rsa_key_validation=True))


def corrupt_rsa_ca_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key whose parts pass Go's arithmetic checks (p*q = n, d*e = 1 mod p-1 and q-1, CRT parts) but
    whose p is not prime: every signature it makes is wrong."""
    from cryptography.hazmat.primitives.asymmetric.rsa import rsa_crt_dmp1, rsa_crt_dmq1, rsa_crt_iqmp

    e = 65537
    while True:
        a = rsa.generate_private_key(e, bits // 2).private_numbers()
        b = rsa.generate_private_key(e, bits // 2).private_numbers()
        p = a.p * b.p  # composite
        q = a.q
        import math

        if math.gcd(e, p - 1) != 1 or math.gcd(p, q) != 1:
            continue
        lcm = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
        d = pow(e, -1, lcm)
        numbers = rsa.RSAPrivateNumbers(
            p,
            q,
            d,
            rsa_crt_dmp1(d, p),
            rsa_crt_dmq1(d, q),
            rsa_crt_iqmp(p, q),
            rsa.RSAPublicNumbers(e, p * q),
        )
        return numbers.private_key(unsafe_skip_rsa_key_validation=True)


# --- certificates that fail only when fully parsed ----------------------------------------------------

PLACEHOLDER_OID = x509.ObjectIdentifier("2.5.29.99")  # encodes to 3 bytes, as 2.5.29.17 (SAN) does
_PLACEHOLDER_DER = b"\x06\x03\x55\x1d\x63"


def _retag(cert: x509.Certificate, oid_der: bytes) -> bytes:
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der.count(_PLACEHOLDER_DER) == 1
    return der.replace(_PLACEHOLDER_DER, oid_der)


def der_to_pem(der: bytes) -> str:
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def cert_failing_full_parse(kind: str) -> str:
    """A certificate that loads, then fails when its extensions or key are read: `duplicate` (two SANs),
    `bad-san` (a SAN that is not DER), `bad-eku` (an EKU that is not DER), `unknown-key` (a public key
    algorithm nobody knows)."""
    key = ec_key()
    san = x509.SubjectAlternativeName([x509.DNSName("dup.example.com")])
    if kind == "unknown-key":
        cert = build(name(kind), key.public_key(), key)
        der = cert.public_bytes(serialization.Encoding.DER)
        ec_oid = b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"  # id-ecPublicKey
        assert der.count(ec_oid) == 1
        return der_to_pem(der.replace(ec_oid, ec_oid[:-1] + b"\x63"))
    value = {
        "duplicate": san.public_bytes(),
        "bad-san": b"\x30\x05\x82\x09abc",  # a length that runs past the end
        "bad-eku": b"\x30\x03\x06\x01",
    }[kind]
    extensions = [(x509.UnrecognizedExtension(PLACEHOLDER_OID, value), False)]
    if kind == "duplicate":
        extensions.append((san, False))
    cert = build(name(kind), key.public_key(), key, extensions=extensions)
    oid = {
        "duplicate": b"\x06\x03\x55\x1d\x11",
        "bad-san": b"\x06\x03\x55\x1d\x11",
        "bad-eku": b"\x06\x03\x55\x1d\x25",
    }
    return der_to_pem(_retag(cert, oid[kind]))


def eku_cert(cn: str, signer, issuer: x509.Name) -> x509.Certificate:
    return build(
        name(cn),
        ec_key().public_key(),
        signer,
        issuer=issuer,
        extensions=[(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)],
    )


# --- key material in disguise ---------------------------------------------------------------------------


def key_disguises(key) -> dict[str, str]:
    """One private key written the ways a hostile input may carry it where a path or name belongs."""
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    b64 = base64.b64encode(der).decode()
    return {
        "pem": key_pem(key),
        "hex": der.hex(),
        "base64url": base64.urlsafe_b64encode(der).decode().rstrip("="),
        "base64-32-columns": "\n".join(b64[i : i + 32] for i in range(0, len(b64), 32)),
        "base64-spaced": " ".join(b64[i : i + 4] for i in range(0, len(b64), 4)),
    }


def key_lines(key) -> list[str]:
    """Fragments that must never appear in any output: the PEM body lines, and the key in hex."""
    pem = key_pem(key)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    # the private scalar's stretch of the DER, in hex and base64 pieces long enough to be meaningful
    return body + [der.hex()[i : i + 32] for i in range(0, len(der.hex()) - 32, 32)]
