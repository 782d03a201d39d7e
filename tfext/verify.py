"""Checking certificates and keys we are given, against the same profiles that issue ours.

Every rule yields `Problem`s instead of raising, so one run reports everything wrong at once, most
important first (by code). Only reading a file stops early: there is nothing to check without it.
Problems describe files by their role and path, never by content.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from tfext import keys
from tfext.errors import Code, Problem, TfextError
from tfext.issue import KeyPair, subject_key_id
from tfext.profiles import Inputs, Profile

MAX_PEM_FILE_BYTES = 1024 * 1024
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
WEAK_HASHES = (hashes.SHA1, hashes.MD5)
EKU_BY_NAME = {"server_auth": ExtendedKeyUsageOID.SERVER_AUTH, "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH}


# --- reading files ------------------------------------------------------------------------------------


def read_file(path: str, where: str) -> bytes:
    """Read a user's file with errors that say which input and what to do."""
    label = f"{where} ({path})"
    if not os.path.lexists(path):
        raise TfextError.of(Code.FILE_MISSING, label, "no such file; check the path (relative paths are "
                            "resolved against the directory terraform runs in)")
    if os.path.isdir(path):
        raise TfextError.of(Code.FILE_UNREADABLE, label, "is a directory, expected a PEM file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PEM_FILE_BYTES + 1)
    except OSError as exc:
        raise TfextError.of(Code.FILE_UNREADABLE, label, exc.strerror or "cannot be read") from None
    if len(data) > MAX_PEM_FILE_BYTES:
        raise TfextError.of(Code.FILE_TOO_LARGE, label, f"larger than {MAX_PEM_FILE_BYTES} bytes; not a PEM file")
    if not data.strip():
        raise TfextError.of(Code.FILE_EMPTY, label, "the file is empty")
    return data


def _block_types(data: bytes) -> list[str]:
    return [m.group(1).decode() for m in PEM_BLOCK.finditer(data)]


def parse_certificates(data: bytes, where: str, *, chain_allowed: bool) -> list[x509.Certificate]:
    """One certificate, or a chain (leaf first) where `chain_allowed`."""
    types = _block_types(data)
    if not types:
        raise TfextError.of(Code.NOT_PEM, where, "no PEM block found; expected -----BEGIN CERTIFICATE-----")
    others = sorted({t for t in types if t != "CERTIFICATE"})
    if others:
        raise TfextError.of(
            Code.NOT_PEM, where, f"holds a {' and a '.join(others)} block; expected only CERTIFICATE blocks"
        )
    if len(types) > 1 and not chain_allowed:
        raise TfextError.of(Code.TOO_MANY_CERTS, where, f"holds {len(types)} certificates; expected exactly one")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TfextError.of(Code.NOT_PEM, where, "a CERTIFICATE block does not parse as X.509") from None


def parse_private_key(data: bytes, where: str):
    types = _block_types(data)
    key_types = [t for t in types if t.endswith("PRIVATE KEY")]
    if not key_types:
        found = f"a {types[0]} block" if types else "no PEM block"
        raise TfextError.of(Code.NOT_PEM, where, f"found {found}; expected a PRIVATE KEY (PKCS#1, SEC1 or PKCS#8)")
    if len(key_types) > 1 or len(types) > 1:
        raise TfextError.of(Code.NOT_PEM, where, f"holds {len(types)} PEM blocks; expected one private key")
    return keys.load_private_key(data.decode("ascii", "replace"), where)


@dataclass(frozen=True)
class Given:
    """A certificate (maybe with its chain) and its key as read from the user's files."""

    name: str
    chain: list[x509.Certificate]
    key: object | None
    cert_text: str
    key_text: str

    @property
    def cert(self) -> x509.Certificate:
        return self.chain[0]


def load_given(name: str, cert_path: str, key_path: str | None, *, chain_allowed: bool) -> Given:
    """Read a certificate file (and a key file) given for output `name`."""
    cert_data = read_file(cert_path, f"{name} certificate")
    chain = parse_certificates(cert_data, f"{name} certificate ({cert_path})", chain_allowed=chain_allowed)
    key = None
    key_text = ""
    if key_path:
        key_data = read_file(key_path, f"{name} key")
        key = parse_private_key(key_data, f"{name} key ({key_path})")
        key_text = key_data.decode("ascii")
    return Given(name, chain, key, cert_data.decode("ascii"), key_text)


# --- rules ------------------------------------------------------------------------------------------


@dataclass
class Report:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, code: Code, where: str, detail: str) -> None:
        self.errors.append(Problem(code, where, detail))

    def warn(self, code: Code, where: str, detail: str) -> None:
        self.warnings.append(Problem(code, where, detail))

    def raise_errors(self) -> None:
        if self.errors:
            raise TfextError(sorted(self.errors, key=lambda p: p.code.number))


def _ext(cert: x509.Certificate, cls):
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # a malformed extension
        return None


def check_strength(cert: x509.Certificate, where: str, report: Report, *, self_signed: bool = False) -> None:
    pub = cert.public_key()
    if isinstance(pub, rsa.RSAPublicKey) and pub.key_size < keys.MIN_RSA_BITS:
        report.error(Code.WEAK_RSA, where, f"RSA-{pub.key_size}; at least RSA-{keys.MIN_RSA_BITS} is required")
    if isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name not in keys.ALLOWED_CURVES:
        report.error(Code.WEAK_CURVE, where, f"curve {pub.curve.name}; use P-256 or P-384")
    algorithm = cert.signature_hash_algorithm
    if isinstance(algorithm, WEAK_HASHES) and not self_signed:
        report.error(
            Code.WEAK_SIGNATURE, where, f"signed with {algorithm.name.upper()}; Go and browsers refuse it, use SHA-256"
        )


def check_time(
    cert: x509.Certificate, where: str, report: Report, now: dt.datetime, window: dt.timedelta
) -> None:
    if now > cert.not_valid_after_utc:
        report.error(Code.EXPIRED, where, f"expired at {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    elif now < cert.not_valid_before_utc:
        report.error(Code.NOT_YET_VALID, where, f"not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    elif now + window > cert.not_valid_after_utc:
        left = cert.not_valid_after_utc - now
        report.warn(
            Code.EXPIRES_SOON,
            where,
            f"expires at {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, in {left.days} days - renew it",
        )


def check_ca(ca: KeyPair | x509.Certificate, where: str, report: Report, now: dt.datetime, window: dt.timedelta):
    """A CA certificate (and its key, when given) able to sign our leaves."""
    cert = ca.cert if isinstance(ca, KeyPair) else ca
    bc = _ext(cert, x509.BasicConstraints)
    if bc is None or not bc.ca:
        report.error(Code.NOT_A_CA, where, "basicConstraints CA:TRUE is missing; this is not a CA certificate")
    ku = _ext(cert, x509.KeyUsage)
    if ku is not None and not ku.key_cert_sign:
        report.error(Code.CA_CANNOT_SIGN, where, "keyUsage lacks keyCertSign; it cannot sign certificates")
    if isinstance(ca, KeyPair) and not keys.public_key_matches(ca.key, cert.public_key()):
        report.error(Code.KEY_MISMATCH, where, "the CA private key does not belong to the CA certificate")
    check_time(cert, where, report, now, window)
    check_strength(cert, where, report, self_signed=cert.issuer == cert.subject)


def check_issued_by(cert: x509.Certificate, issuer: x509.Certificate, where: str, issuer_name: str, report: Report):
    """Signature, issuer name and authority key id, each reported on its own."""
    if cert.issuer != issuer.subject:
        report.error(
            Code.ISSUER_MISMATCH,
            where,
            f"issued by '{cert.issuer.rfc4514_string()}', but {issuer_name} is '{issuer.subject.rfc4514_string()}'",
        )
        return
    aki = _ext(cert, x509.AuthorityKeyIdentifier)
    if aki is not None and aki.key_identifier is not None and aki.key_identifier != subject_key_id(issuer).digest:
        report.error(Code.AKI_MISMATCH, where, f"authorityKeyIdentifier does not match {issuer_name}'s key")
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        report.error(Code.BAD_SIGNATURE, where, f"signature does not verify with {issuer_name}'s key")


def name_matches(pattern: str, host: str) -> bool:
    """Go's hostname rule: case-insensitive, a wildcard only as the whole left-most label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern == host:
        return True
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


def check_role(profile: Profile, inputs: Inputs, given: Given, where: str, report: Report) -> None:
    cert = given.cert
    bc = _ext(cert, x509.BasicConstraints)
    if bc is not None and bc.ca:
        report.error(Code.CA_AS_LEAF, where, "this is a CA certificate; expected the leaf certificate here")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is not None and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
        missing = [u for u in profile.usages if EKU_BY_NAME[u] not in eku]
        if missing:
            report.error(
                Code.MISSING_EKU,
                where,
                f"extendedKeyUsage lacks {', '.join(missing)}; the {profile.role} role needs {' and '.join(profile.usages)}",
            )
    ku = _ext(cert, x509.KeyUsage)
    if ku is not None:
        if not ku.digital_signature:
            report.error(Code.BAD_KEY_USAGE, where, "keyUsage lacks digitalSignature, which TLS handshakes need")
        if ku.key_encipherment and not isinstance(cert.public_key(), rsa.RSAPublicKey):
            report.error(Code.BAD_KEY_USAGE, where, "keyUsage has keyEncipherment, which only RSA keys can do (RFC 8813)")
    check_names(profile.required_names(inputs), cert, where, report)


def check_names(required, cert: x509.Certificate, where: str, report: Report) -> None:
    san = _ext(cert, x509.SubjectAlternativeName)
    dns = san.get_values_for_type(x509.DNSName) if san is not None else []
    ips = san.get_values_for_type(x509.IPAddress) if san is not None else []
    missing = [f"DNS:{d}" for d in required.dns if not any(name_matches(p, d) for p in dns)]
    missing += [f"IP:{i}" for i in required.ips if ipaddress.ip_address(i) not in ips]
    if missing:
        hint = " (there is no subjectAltName at all; Go ignores the CN)" if san is None else ""
        report.error(Code.MISSING_SAN, where, f"subjectAltName lacks {', '.join(missing)}{hint}")


def check_leaf(
    profile: Profile,
    inputs: Inputs,
    given: Given,
    ca: x509.Certificate | None,
    report: Report,
    now: dt.datetime,
    window: dt.timedelta,
) -> None:
    """Everything a consumer of this leaf will check, and a bit more."""
    where = given.name
    cert = given.cert
    if given.key is not None and not keys.public_key_matches(given.key, cert.public_key()):
        report.error(Code.KEY_MISMATCH, where, "the private key does not belong to the certificate")
    if ca is not None:
        # leaf -> intermediates in the file -> the CA
        links = list(zip(given.chain, given.chain[1:] + [ca], strict=True))
        for i, (child, parent) in enumerate(links):
            parent_name = "the CA" if parent is ca else f"intermediate #{i + 1} in the file"
            check_issued_by(child, parent, where if i == 0 else f"{where} intermediate #{i}", parent_name, report)
        if cert.not_valid_after_utc > ca.not_valid_after_utc:
            report.warn(
                Code.OUTLIVES_CA,
                where,
                f"valid until {cert.not_valid_after_utc:%Y-%m-%d}, after its CA expires ({ca.not_valid_after_utc:%Y-%m-%d})",
            )
    check_role(profile, inputs, given, where, report)
    check_time(cert, where, report, now, window)
    check_strength(cert, where, report)
