"""Shared helpers for the unit tests: a standard query, issuing through tfext, and raw builders for bad certs.

Assertion messages built from these helpers only ever show fingerprints, never PEM text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tfext import issue, keys, profiles, protocol
from tfext.errors import Problem, TfextError
from tfext.issue import KeyPair
from tfext.programs import MODULES, PROGRAMS, engine
from tfext.programs.inputs import certificate_inputs

# The algorithms every profile is issued with; RSA-3072/4096 are exercised once each, elsewhere.
MAIN_ALGORITHMS = ("RSA-2048", "ECDSA-P256", "ECDSA-P384", "ED25519")

# One query that touches every name-shaping input (etcd needs a CIDR with at least 21 addresses), with
# members and nodes for the per-node roles: each is issued for the first one of its list (`for_profile`).
STANDARD_QUERY = {
    "dns_names": '["etcd-0.example.com", "node.example.com"]',
    "ip_addresses": '["192.168.10.11", "192.168.10.12"]',
    "service_cidr": "10.3.0.0/16",
    "kube_apiserver_url": "https://api.example.com:443",
    "base_address": "console.example.com:443",
    "members": '{"etcd-1": {"dns_names": ["etcd-1.example.com"], "ip_addresses": ["10.0.0.11", "fd00::11"]}, '
    '"etcd-2": {"ip_addresses": ["10.0.0.12"]}}',
    "nodes": '["w1", "w2"]',
    "kubelet_serving": '{"w1": {"dns_names": ["w1.example.com"], "ip_addresses": ["10.0.1.1"]}}',
}


def standard_inputs() -> profiles.Inputs:
    return certificate_inputs(STANDARD_QUERY, service_hosts=20)


def for_profile(inputs: profiles.Inputs, profile: profiles.Profile) -> profiles.Inputs:
    """The inputs `profile` is issued with: a per-node role's carry the first member or node it has in
    `inputs`, picked by the engine's own slots (`Module.slots_for`), so a test issues what a run would."""
    for module in MODULES.values():
        for slot in module.slots_for(inputs):
            if slot.profile is profile:
                return inputs if slot.node is None else dataclasses.replace(inputs, node=slot.node)
    return inputs


def run_program(program: str, query: dict[str, str], now: dt.datetime | None = None) -> dict[str, str]:
    """What `tfext PROGRAM` does, minus stdin/stdout: the schema check, then the engine."""
    protocol.validate_query(program, query)
    return engine.run(MODULES[PROGRAMS[program]], query, now=now)


def load_cert(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode("ascii"))


def issuer_profile(profile: profiles.Profile) -> profiles.Profile:
    """The CA that signs a leaf profile in the Tectonic topology."""
    return profiles.ETCD_CA if profile.role.startswith("etcd") else profiles.KUBE_CA


# --- fingerprints (safe to show in assertion messages) --------------------------------------------------


def spki(key) -> bytes:
    pub = key.public_key() if hasattr(key, "private_bytes") else key
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(key) -> str:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(spki(key))
    return digest.finalize().hex()[:16]


def cert_fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()[:16]


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key, fmt=serialization.PrivateFormat.PKCS8) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode("ascii")


def pem_body_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM text: what must never leak into a message."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and ":" not in line]


# --- problems -------------------------------------------------------------------------------------------


def codes(problems: list[Problem]) -> list:
    return [p.code for p in problems]


def raised_codes(exc: TfextError) -> list:
    return [p.code for p in exc.problems]


# --- raw certificates for the bad cases -----------------------------------------------------------------

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)


def new_key(kind: str = "P-256"):
    if kind == "P-256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "P-384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ED25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind.startswith("RSA-"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[4:]))
    raise ValueError(kind)


def name(cn: str, org: str | tuple[str, ...] | None = None) -> x509.Name:
    """A subject: organizations (one, several or none) first, then the CN, as tfext.issue orders them."""
    orgs = (org,) if isinstance(org, str) else org or ()
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, cn)])


_KU_OFF = dict(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)

_AUTO = object()


def build(
    *,
    subject: x509.Name | None = None,
    issuer: KeyPair | None = None,
    key=None,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    ca: bool | None = False,
    path_length: int | None = None,
    key_usage: tuple[str, ...] | None = ("digital_signature",),
    eku: tuple | None = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
    sans: tuple[str, ...] | None = (),
    aki=_AUTO,
    issuer_name: x509.Name | None = None,
    hash_algorithm=_AUTO,
    ski: bool = True,
    san_entries: list[x509.GeneralName] | None = None,
) -> KeyPair:
    """A certificate built with `cryptography`, every knob exposed (`ca=None`: no basicConstraints)."""
    key = key if key is not None else new_key()
    subject = subject if subject is not None else name("leaf")
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name if issuer_name is not None else (issuer.cert.subject if issuer else subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - DAY)
        .not_valid_after(not_after or NOW + 30 * DAY)
    )
    if ski:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
    if key_usage is not None:
        builder = builder.add_extension(
            x509.KeyUsage(**{**_KU_OFF, **{bit: True for bit in key_usage}}), critical=True
        )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if san_entries is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(san_entries), critical=False)
    elif sans:
        entries = []
        for s in sans:
            try:
                entries.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                entries.append(x509.DNSName(s))
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    if aki is _AUTO and issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    elif isinstance(aki, bytes):
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(aki, None, None), critical=False)
    if hash_algorithm is _AUTO:
        hash_algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return KeyPair(cert=builder.sign(signer, hash_algorithm), key=key)


def build_ca(cn: str = "test-ca", key=None, path_length: int | None = 0, **kw) -> KeyPair:
    kw.setdefault("key_usage", ("digital_signature", "key_cert_sign", "crl_sign"))
    kw.setdefault("eku", None)
    return build(subject=name(cn), key=key, ca=True, path_length=path_length, **kw)


def resign_with_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """`cryptography` no longer signs with SHA-1: rewrite a SHA-256/RSA cert's algorithm and re-sign."""
    from cryptography.hazmat.primitives.asymmetric import padding

    sha256_rsa = bytes.fromhex("2a864886f70d01010b")  # 1.2.840.113549.1.1.11
    sha1_rsa = bytes.fromhex("2a864886f70d010105")  # 1.2.840.113549.1.1.5, same length
    der = cert.public_bytes(serialization.Encoding.DER)
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(sha256_rsa) == 1
    new_tbs = tbs.replace(sha256_rsa, sha1_rsa)
    signature = issuer_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA1())
    new_der = der.replace(tbs, new_tbs)
    assert new_der.count(sha256_rsa) == 1  # the outer signatureAlgorithm
    new_der = new_der.replace(sha256_rsa, sha1_rsa).replace(cert.signature, signature)
    return x509.load_der_x509_certificate(new_der)


def write_pair(directory: Path, stem: str, pair: KeyPair) -> tuple[str, str]:
    """`<stem>.crt` and `<stem>.key` of `pair` in `directory` (made if missing); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    crt, key = directory / f"{stem}.crt", directory / f"{stem}.key"
    crt.write_text(cert_pem(pair.cert))
    key.write_text(keys.to_pem(pair.key))
    return str(crt), str(key)


# --- issuing through tfext, cached per test module ---------------------------------------------------------


class IssuedCache:
    """Issue each (profile, algorithm) once per test module; a leaf is signed by a CA of its algorithm.
    A per-node profile is issued for the first member or node of `inputs` (`inputs_for`)."""

    def __init__(self, inputs: profiles.Inputs, validity_hours: int = 24 * 30):
        self.inputs = inputs
        self.validity_hours = validity_hours
        self._cache: dict[tuple[str, str], KeyPair] = {}

    def get(self, profile: profiles.Profile, algorithm: str) -> KeyPair:
        cache_key = (profile.role, algorithm)
        if cache_key not in self._cache:
            issuer = None if profile.is_ca else self.get(issuer_profile(profile), algorithm)
            hours = self.validity_hours * (2 if profile.is_ca else 1)
            self._cache[cache_key] = issue.issue(
                profile,
                self.inputs_for(profile),
                key_algorithm=algorithm,
                validity_hours=hours,
                issuer=issuer,
            )
        return self._cache[cache_key]

    def inputs_for(self, profile: profiles.Profile) -> profiles.Inputs:
        """The inputs `profile` was issued with (its member or node set for a per-node role)."""
        return for_profile(self.inputs, profile)

    def issuer_of(self, profile: profiles.Profile, algorithm: str) -> KeyPair | None:
        return None if profile.is_ca else self.get(issuer_profile(profile), algorithm)


# --- openssl --------------------------------------------------------------------------------------------


def openssl_or_skip() -> str:
    """The openssl binary; skips locally when it is missing, fails in CI (CI=true) where it must exist."""
    found = shutil.which("openssl")
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("openssl is required in CI (CI=true) but is not on PATH")
    pytest.skip("openssl is not on PATH; install it to cross-check chains with `openssl verify`")


def openssl_verify(openssl: str, ca: x509.Certificate, leaf: x509.Certificate, purpose: str, tmp: Path):
    ca_file = tmp / f"ca-{cert_fingerprint(ca)}.pem"
    leaf_file = tmp / f"leaf-{cert_fingerprint(leaf)}.pem"
    ca_file.write_text(cert_pem(ca))
    leaf_file.write_text(cert_pem(leaf))
    return subprocess.run(
        [openssl, "verify", "-x509_strict", "-purpose", purpose, "-CAfile", str(ca_file), str(leaf_file)],
        capture_output=True,
        text=True,
        timeout=30,
    )


# --- comparing secrets without showing them -----------------------------------------------------------------
# pytest prints the operands of a failing assert (and the object of a failing method call such as
# `pem.startswith(...)`), so asserts about key text go through these helpers, which reveal nothing.


def pem_header(text: str) -> str:
    """The first line of a PEM text (`-----BEGIN ... -----`), or "" for empty text."""
    return text.split("\n", 1)[0].strip() if text else ""


def pem_footer(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else ""


def pem_block_count(text: str) -> int:
    return text.count("-----BEGIN")


def digest(text: str) -> str:
    """A short SHA-256 of a text: equal texts, equal digests; safe to show."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def leaked_lines(secret_pem: str, text: str) -> int:
    """How many base64 lines of `secret_pem` appear in `text` (0 when nothing leaked)."""
    return sum(1 for line in pem_body_lines(secret_pem) if len(line) > 8 and line in text)


def redact(text: str, secret_pem: str) -> str:
    """`text` with every base64 line of `secret_pem` replaced, so that asserting on it shows no key."""
    for line in pem_body_lines(secret_pem):
        if len(line) > 8:
            text = text.replace(line, "[REDACTED]")
    return text
