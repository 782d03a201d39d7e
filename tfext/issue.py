"""Issuing certificates from role profiles, RFC 5280-clean.

- serial: 159 random bits, positive;
- subjectKeyIdentifier on every certificate, authorityKeyIdentifier (= issuer's SKI) on every non-root;
- basicConstraints critical (CA:TRUE, pathlen 0 on our CAs: they sign leaves only);
- keyUsage critical and key-type aware; extendedKeyUsage from the profile, never on a CA;
- SHA-256 (SHA-384 for P-384 issuers, none for Ed25519); subject attributes only when set;
- notBefore backdated a few minutes for clock skew; a leaf never outlives its CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tfext import keys
from tfext.errors import Code, TfextError
from tfext.profiles import Inputs, Profile

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

CLOCK_SKEW = dt.timedelta(minutes=5)

EKU_OIDS = {"server_auth": ExtendedKeyUsageOID.SERVER_AUTH, "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH}


@dataclass(frozen=True)
class KeyPair:
    """A certificate with its private key (an issuer, or something we just issued)."""

    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes | None  # None: a certificate issued for a CSR's key


def subject_for(profile: Profile, inputs: Inputs) -> x509.Name:
    attrs = []
    if profile.organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, profile.organization))
    common_name = profile.common_name(inputs)
    if common_name:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attrs)


def key_usage(is_ca: bool, key) -> x509.KeyUsage:
    """keyUsage for a role and key type: keyEncipherment only where RSA key transport is possible."""
    return x509.KeyUsage(
        digital_signature=True,
        key_encipherment=not is_ca and isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey),
        content_commitment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=is_ca,
        crl_sign=is_ca,
        encipher_only=False,
        decipher_only=False,
    )


def signature_hash(issuer_key) -> hashes.HashAlgorithm | None:
    if isinstance(issuer_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey) and issuer_key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def subject_key_id(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key())


def san_extension(names) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = [x509.DNSName(d) for d in names.dns]
    entries += [x509.IPAddress(ipaddress.ip_address(i)) for i in names.ips]
    return x509.SubjectAlternativeName(entries)


def issue(
    profile: Profile,
    inputs: Inputs,
    *,
    key_algorithm: str,
    validity_hours: int,
    issuer: KeyPair | None,
    now: dt.datetime | None = None,
) -> KeyPair:
    """Generate a key and a certificate for `profile`, signed by `issuer` (self-signed when None)."""
    key = keys.generate(key_algorithm)
    cert = sign(
        profile, inputs, key.public_key(), validity_hours=validity_hours, issuer=issuer, own_key=key, now=now
    )
    return KeyPair(cert=cert, key=key)


def sign(
    profile: Profile,
    inputs: Inputs,
    public_key,
    *,
    validity_hours: int,
    issuer: KeyPair | None,
    own_key=None,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """A certificate for `profile` and `public_key` (a key we generated, or one a CSR brought), signed by
    `issuer`, or self-signed with `own_key` (the private half of `public_key`) when there is none. The
    profile alone decides subject, names, usages and validity."""
    now = now or dt.datetime.now(dt.UTC)
    self_signed = issuer is None
    subject = subject_for(profile, inputs)
    not_before = now - CLOCK_SKEW
    not_after = now + dt.timedelta(hours=validity_hours)
    if not self_signed:
        # A leaf outliving its CA is invalid for its last stretch anyway; cap it as cfssl does.
        not_after = min(not_after, issuer.cert.not_valid_after_utc)
    signer_key = own_key if issuer is None else issuer.key
    refusal = keys.go_refusal(signer_key)
    if refusal:  # loading refuses such keys already; a caller passing one in directly is stopped here
        raise TfextError.of(refusal[0], "issuing CA key", refusal[1])
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)

    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if self_signed else issuer.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.BasicConstraints(ca=profile.is_ca, path_length=0 if profile.is_ca else None), critical=True
        )
        .add_extension(key_usage(profile.is_ca, public_key), critical=True)
        .add_extension(ski, critical=False)
    )
    if not self_signed:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(subject_key_id(issuer.cert)),
            critical=False,
        )
    if profile.usages:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([EKU_OIDS[u] for u in profile.usages]), critical=False
        )
    names = profile.names(inputs)
    if names:
        # critical only when the subject is empty (RFC 5280 4.2.1.6)
        builder = builder.add_extension(san_extension(names), critical=len(subject) == 0)
    cert = builder.sign(signer_key, signature_hash(signer_key))
    check_signed(cert, cert if self_signed else issuer.cert)
    return cert


def check_signed(cert: x509.Certificate, issuer_cert: x509.Certificate) -> None:
    """Refuse to hand out a certificate whose signature does not verify with its CA's certificate.

    A CA key whose parts are consistent but whose primes are not prime (no primality test is run on keys
    we are given) signs garbage: every consumer would refuse the leaf. Checked on every certificate issued,
    so no caller can forget it.
    """
    try:
        cert.verify_directly_issued_by(issuer_cert)
    except Exception:  # noqa: BLE001 - InvalidSignature, ValueError (names), UnsupportedAlgorithm
        raise TfextError.of(
            Code.CANNOT_ISSUE,
            "issuing CA",
            f"a certificate signed for {cert.subject.rfc4514_string() or 'the empty subject'} does not "
            "verify with the CA certificate; the CA key is corrupt or not the CA's - check it with "
            "`openssl pkey -check -noout -in KEY`",
        ) from None
