"""Checking certificates and keys we are given, against the same profiles that issue ours.

Every rule yields `Problem`s instead of raising, so one run reports everything wrong at once, most
important first (by code). Only reading a file stops early: there is nothing to check without it.
Problems describe files by their role and path, never by content.
"""

from __future__ import annotations

import datetime as dt
import enum
import ipaddress
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tfext import keys
from tfext.errors import Code, Problem, TfextError, echo
from tfext.files import read_file, show_path
from tfext.issue import KeyPair, subject_key_id
from tfext.profiles import MASTERS_GROUP, NODE_USER_PREFIX, NODES_GROUP, Inputs, Profile

# A leaf and the intermediates above it in one file: Go gives up at depth 100, real chains have 2 or 3.
# Judging a longer one would only multiply signature checks.
MAX_CHAIN_CERTS = 10
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----")
WEAK_HASHES = (hashes.SHA1, hashes.MD5)
EKU_BY_NAME = {"server_auth": ExtendedKeyUsageOID.SERVER_AUTH, "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH}
# Blocks a key file may hold beside its one key (`openssl ecparam -genkey` writes the curve first).
KEY_FILE_EXTRAS = ("EC PARAMETERS",)
# Extensions Go's crypto/x509 understands; any other one marked critical makes Go refuse the chain.
GO_HANDLED_EXTENSIONS = frozenset(
    (
        "2.5.29.14",  # subjectKeyIdentifier
        "2.5.29.15",  # keyUsage
        "2.5.29.17",  # subjectAltName
        "2.5.29.19",  # basicConstraints
        "2.5.29.30",  # nameConstraints
        "2.5.29.31",  # cRLDistributionPoints
        "2.5.29.32",  # certificatePolicies
        "2.5.29.33",  # policyMappings
        "2.5.29.35",  # authorityKeyIdentifier
        "2.5.29.36",  # policyConstraints
        "2.5.29.37",  # extendedKeyUsage
        "2.5.29.54",  # inhibitAnyPolicy
        "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
    )
)
MAX_SERIAL_BITS = 159  # 20 octets of a positive DER integer (RFC 5280 4.1.2.2)


# --- parsing what was read ------------------------------------------------------------------------


def _block_types(data: bytes) -> list[str]:
    return [m.group(1).decode() for m in PEM_BLOCK.finditer(data)]


def _no_pem_detail(data: bytes, expected: str) -> str:
    if data[:1] == b"\x30":  # an ASN.1 SEQUENCE: DER, the binary form
        return "this is binary DER, not PEM; convert it (e.g. `openssl x509 -inform der -in F -out F.pem`)"
    return f"no PEM block found; expected -----BEGIN {expected}-----"


def parse_certificates(data: bytes, where: str, *, chain_allowed: bool) -> list[x509.Certificate]:
    """One certificate, or a chain (leaf first) where `chain_allowed`."""
    types = _block_types(data)
    if not types:
        raise TfextError.of(Code.NOT_PEM, where, _no_pem_detail(data, "CERTIFICATE"))
    others = sorted({t for t in types if t != "CERTIFICATE"})
    if others:
        raise TfextError.of(
            Code.NOT_PEM, where, f"holds a {' and a '.join(others)} block; expected only CERTIFICATE blocks"
        )
    if len(types) > 1 and not chain_allowed:
        raise TfextError.of(
            Code.TOO_MANY_CERTS, where, f"holds {len(types)} certificates; expected exactly one"
        )
    if len(types) > MAX_CHAIN_CERTS:  # before parsing any: a long chain is refused, not judged
        raise TfextError.of(
            Code.CHAIN_TOO_LONG,
            where,
            f"holds {len(types)} certificates; a leaf and its intermediates are at most {MAX_CHAIN_CERTS}",
        )
    try:
        certs = x509.load_pem_x509_certificates(data)
    except Exception:  # noqa: BLE001 - ValueError mostly; any parse failure means the same to the user
        raise TfextError.of(Code.NOT_PEM, where, "a CERTIFICATE block does not parse as X.509") from None
    for i, cert in enumerate(certs):
        which = f"certificate #{i + 1}" if len(certs) > 1 else "the certificate"
        parse_fully(cert, which, where)
    return certs


def parse_fully(cert: x509.Certificate, which: str, where: str) -> None:
    """cryptography parses names, extensions and the key lazily: parse them now, so that no rule meets a
    parse error later, and a certificate Go would refuse to load is reported as such."""
    for part, read in (
        ("name", lambda: (cert.subject, cert.issuer)),
        ("validity", lambda: (cert.not_valid_before_utc, cert.not_valid_after_utc)),
        ("extension", lambda: [e.value for e in cert.extensions]),
    ):
        try:
            read()
        except Exception as exc:  # noqa: BLE001 - ValueError (malformed, duplicate) and friends
            reason = f"a {'duplicate' if 'duplicate' in str(exc).lower() else 'malformed'} {part}"
            raise TfextError.of(Code.MALFORMED_CERT, where, f"{which} has {reason}; Go refuses it") from None
    try:
        cert.public_key()
    except Exception:  # noqa: BLE001 - UnsupportedAlgorithm, or a key that does not parse
        raise TfextError.of(
            Code.UNSUPPORTED_KEY, where, f"{which} holds a public key of a type Go's crypto/x509 cannot use"
        ) from None


def parse_private_key(data: bytes, where: str):
    """One unencrypted private key (PKCS#1, SEC1 or PKCS#8), alone in its PEM data."""
    types = _block_types(data)
    key_types = [t for t in types if t.endswith("PRIVATE KEY")]
    if not key_types:
        found = f"a {types[0]} block" if types else "no PEM block"
        if not types and data[:1] == b"\x30":
            found = "binary DER"
        raise TfextError.of(
            Code.NOT_PEM, where, f"found {found}; expected a PRIVATE KEY (PKCS#1, SEC1 or PKCS#8)"
        )
    others = [t for t in types if t not in key_types and t not in KEY_FILE_EXTRAS]
    if len(key_types) > 1 or others:
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
    path: str = ""  # the certificate file, for messages that lead to it

    @property
    def cert(self) -> x509.Certificate:
        return self.chain[0]


def load_given(name: str, cert_path: str, key_path: str | None, *, chain_allowed: bool) -> Given:
    """Read a certificate file (and a key file) given for output `name`; problems of both are reported."""
    problems = []
    chain: list[x509.Certificate] = []
    cert_data = b""
    key = None
    key_data = b""
    try:
        cert_data = read_file(cert_path, f"{name} certificate")
        where = f"{name} certificate ({show_path(cert_path)})"
        chain = parse_certificates(cert_data, where, chain_allowed=chain_allowed)
    except TfextError as exc:
        problems += exc.problems
    if key_path:
        try:
            key_data = read_file(key_path, f"{name} key")
            key = parse_private_key(key_data, f"{name} key ({show_path(key_path)})")
        except TfextError as exc:
            problems += exc.problems
    if problems:
        raise TfextError(sorted(problems, key=lambda p: p.code.number))
    # passed through as given; text around the PEM blocks (openssl -text, Bag Attributes) may be non-ASCII
    return Given(name, chain, key, _text(cert_data), _text(key_data), cert_path)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


# --- what messages show of a certificate --------------------------------------------------------------


def key_id(cert: x509.Certificate) -> str:
    """The first 8 bytes of a certificate's subject key identifier (the extension, or the hash of its key
    as RFC 5280 computes it), written as openssl prints key ids: enough to tell two CAs of one name apart,
    and to find the certificate (`openssl x509 -noout -ext subjectKeyIdentifier -in FILE`)."""
    try:
        digest = subject_key_id(cert).digest
    except Exception:  # noqa: BLE001 - a key type cryptography cannot hash
        return "unknown"
    return ":".join(f"{b:02X}" for b in digest[:8])


def issuer_key_id(cert: x509.Certificate) -> str:
    """The key id of the CA that says it signed `cert` (its authorityKeyIdentifier), as `key_id` writes it."""
    aki = _ext(cert, x509.AuthorityKeyIdentifier)
    if aki is None or aki.key_identifier is None:
        return "none (no authorityKeyIdentifier)"
    return ":".join(f"{b:02X}" for b in aki.key_identifier[:8])


def in_file(path: str) -> str:
    return f" in {show_path(path)}" if path else ""


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


def check_structure(cert: x509.Certificate, where: str, report: Report) -> None:
    """What Go refuses in any certificate of a chain: a bad serial, a critical extension it does not know."""
    serial = cert.serial_number
    if serial <= 0:
        report.error(Code.INVALID_SERIAL, where, "the serial number is not positive; Go 1.23+ refuses it")
    elif serial.bit_length() > MAX_SERIAL_BITS:
        report.error(Code.INVALID_SERIAL, where, "the serial number is longer than 20 octets (RFC 5280)")
    unknown = sorted(e.oid.dotted_string for e in cert.extensions if e.critical)
    unknown = [oid for oid in unknown if oid not in GO_HANDLED_EXTENSIONS]
    if unknown:
        report.error(
            Code.CRITICAL_EXTENSION,
            where,
            f"critical extension(s) {', '.join(unknown)} that Go does not handle; it refuses the certificate",
        )


def check_strength(cert: x509.Certificate, where: str, report: Report, *, self_signed: bool = False) -> None:
    check_key_strength(cert.public_key(), where, report)
    if self_signed:
        return  # Go never checks a root's own signature
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        report.error(
            Code.WEAK_SIGNATURE,
            where,
            f"signature algorithm {cert.signature_algorithm_oid.dotted_string} is not one Go accepts; "
            "use SHA-256",
        )
        return
    if isinstance(algorithm, WEAK_HASHES):
        report.error(
            Code.WEAK_SIGNATURE,
            where,
            f"signed with {algorithm.name.upper()}; Go and browsers refuse it, use SHA-256",
        )


def check_key_strength(pub, where: str, report: Report) -> None:
    """The rules every public key we accept must pass (a certificate's, or a CSR's): one Go can use, RSA of
    at least 2048 bits, an allowed curve."""
    refusal = keys.go_refusal(pub)
    if refusal:
        report.error(refusal[0], where, refusal[1])
    elif isinstance(pub, rsa.RSAPublicKey) and pub.key_size < keys.MIN_RSA_BITS:
        report.error(
            Code.WEAK_RSA, where, f"RSA-{pub.key_size}; at least RSA-{keys.MIN_RSA_BITS} is required"
        )
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        if pub.curve.name not in keys.ALLOWED_CURVES:
            report.error(Code.WEAK_CURVE, where, f"curve {pub.curve.name}; use P-256 or P-384")
    elif not isinstance(pub, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        report.error(
            Code.UNSUPPORTED_KEY,
            where,
            f"a {keys.family(pub).removesuffix('PublicKey')} public key, which Go's crypto/x509 cannot use; "
            "use RSA, ECDSA P-256/P-384 or Ed25519",
        )


class TimeStatus(enum.StrEnum):
    """A certificate's standing in time: the one vocabulary of verify, check-expiration and inspect."""

    NOT_YET_VALID = "not yet valid"
    VALID = "valid"
    RENEW = "renew"  # valid, but it expires within the renewal window
    EXPIRED = "expired"


def time_status(cert: x509.Certificate, now: dt.datetime, window: dt.timedelta) -> TimeStatus:
    """Where `cert` stands at `now` (the injected clock: callers pass it, nothing here reads the time).

    As RFC 5280 and Go count it, a certificate is valid from notBefore through notAfter, both included:
    expired only after notAfter, not yet valid only before notBefore. `renew` when it expires within
    `window` of `now` (notAfter - now <= window).
    """
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now > not_after:
        return TimeStatus.EXPIRED
    if now < not_before:
        return TimeStatus.NOT_YET_VALID
    if not_after - now <= window:
        return TimeStatus.RENEW
    return TimeStatus.VALID


def check_time(
    cert: x509.Certificate,
    where: str,
    report: Report,
    now: dt.datetime,
    window: dt.timedelta,
    *,
    ca: bool = False,
    file: str = "",
) -> None:
    """An expired or not yet valid certificate is an error; one to renew is a warning (for a CA, the
    pointer to a rotation: every certificate it signed ends with it). `file` is where `cert` is read from,
    when `where` does not say it."""
    status = time_status(cert, now, window)
    if status is TimeStatus.EXPIRED:
        ids = f"key id {key_id(cert)}" + ("" if ca else f", issuer's key id {issuer_key_id(cert)}")
        fix = (
            "every certificate it signed stopped working with it: rotate to a new CA (docs/ca-rotation.md: "
            "a generating flavor's ca_rotation, or a two-CA file for a user-provided one)"
            if ca
            else "issue it again (same names, same CA) and replace the file"
        )
        report.error(
            Code.EXPIRED,
            where,
            f"expired at {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC "
            f"({f'the certificate{in_file(file)}, ' if file else ''}{ids}): {fix}",
        )
    elif status is TimeStatus.NOT_YET_VALID:
        report.error(
            Code.NOT_YET_VALID, where, f"not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
        )
    elif status is TimeStatus.RENEW and ca:
        left = cert.not_valid_after_utc - now
        report.warn(
            Code.CA_NEEDS_ROTATION,
            where,
            f"this CA expires at {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, in {left.days} days, and "
            "every certificate it signed with it - rotate it: ca_rotation = { generation = N + 1, "
            'phase = "trust" } (docs/ca-rotation.md)',
        )
    elif status is TimeStatus.RENEW:
        left = cert.not_valid_after_utc - now
        report.warn(
            Code.EXPIRES_SOON,
            where,
            f"expires at {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, in {left.days} days - renew it",
        )


def check_can_sign(cert: x509.Certificate, where: str, report: Report) -> None:
    """basicConstraints CA:TRUE, and keyCertSign when keyUsage is present."""
    bc = _ext(cert, x509.BasicConstraints)
    if bc is None or not bc.ca:
        report.error(
            Code.NOT_A_CA, where, "basicConstraints CA:TRUE is missing; this is not a CA certificate"
        )
    ku = _ext(cert, x509.KeyUsage)
    if ku is not None and not ku.key_cert_sign:
        report.error(Code.CA_CANNOT_SIGN, where, "keyUsage lacks keyCertSign; it cannot sign certificates")


def check_ca(
    ca: KeyPair | x509.Certificate, where: str, report: Report, now: dt.datetime, window: dt.timedelta
) -> None:
    """A CA certificate (and its key, when given) able to sign our leaves."""
    cert = ca.cert if isinstance(ca, KeyPair) else ca
    check_can_sign(cert, where, report)
    if isinstance(ca, KeyPair) and not keys.public_key_matches(ca.key, cert.public_key()):
        report.error(Code.KEY_MISMATCH, where, "the CA private key does not belong to the CA certificate")
    check_time(cert, where, report, now, window, ca=True)
    check_strength(cert, where, report, self_signed=cert.issuer == cert.subject)
    check_structure(cert, where, report)


def check_issued_by(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    where: str,
    issuer_name: str,
    report: Report,
    *,
    file: str = "",
) -> None:
    """Signature, issuer name and authority key id, each reported on its own; `file` is where `cert` is
    read from. The messages name both key ids and the fix: another key of the same name signed it."""
    ids = (
        f"the certificate{in_file(file)} names its issuer's key id {issuer_key_id(cert)}; {issuer_name} "
        f"'{issuer.subject.rfc4514_string()}' has key id {key_id(issuer)}"
    )
    named = issuer_key_id(cert)
    wanted = "the CA that issued it" if named.startswith("none") else f"the CA whose key id is {named}"
    fix = f"give {wanted} (as the CA input), or issue the certificate again from {issuer_name}"
    if keys.go_refusal(issuer.public_key()):
        return  # the issuer's key is reported on the issuer; no signature is checked with a key Go refuses
    if cert.issuer != issuer.subject:
        report.error(
            Code.ISSUER_MISMATCH,
            where,
            f"issued by '{cert.issuer.rfc4514_string()}', "
            f"but {issuer_name} is '{issuer.subject.rfc4514_string()}'",
        )
        return
    aki = _ext(cert, x509.AuthorityKeyIdentifier)
    if (
        aki is not None
        and aki.key_identifier is not None
        and aki.key_identifier != subject_key_id(issuer).digest
    ):
        report.error(
            Code.AKI_MISMATCH,
            where,
            f"authorityKeyIdentifier does not match {issuer_name}'s key ({ids}): a CA of the same name with "
            f"another key issued it (a CA re-keyed or rotated); {fix}",
        )
    if not signed_by(cert, issuer):
        report.error(
            Code.BAD_SIGNATURE,
            where,
            f"signature does not verify with {issuer_name}'s key ({ids}): another key signed it; {fix}",
        )


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` issued `cert`: the names match and `issuer`'s key verifies `cert`'s signature.

    The one judgement of a signature, for the programs and the tools alike. A weak but genuine signature
    (SHA-1, MD5) is `issuer`'s all the same: its weakness is WEAK_SIGNATURE (`check_strength`), not a
    forgery. A key Go refuses (an RSA key over 8192 bits or with a huge exponent, which can take seconds a
    check; reported on the issuer) is never used.
    """
    try:
        if cert.issuer != issuer.subject or keys.go_refusal(issuer.public_key()):
            return False
    except (ValueError, UnsupportedAlgorithm):  # a key that does not parse
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (InvalidSignature, TypeError):
        return False
    except (ValueError, UnsupportedAlgorithm):
        pass
    # cryptography refuses SHA-1 and MD5 here: check a weak signature by hand.
    try:
        algorithm = cert.signature_hash_algorithm
        pub = issuer.public_key()
        if isinstance(pub, rsa.RSAPublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
        return True
    except Exception:  # noqa: BLE001 - InvalidSignature, or an algorithm we cannot check at all
        return False


def name_matches(pattern: str, host: str) -> bool:
    """Go's hostname rule: case-insensitive, a wildcard only as the whole left-most label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern == host:
        return True
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


def missing_usages(profile: Profile, cert: x509.Certificate) -> list[str]:
    """The profile's needed EKUs that `cert` does not allow (none when it has no EKU extension, as in Go)."""
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is None or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku:
        return []
    return [u for u in profile.required_usages if EKU_BY_NAME[u] not in eku]


def check_role(profile: Profile, inputs: Inputs, given: Given, where: str, report: Report) -> None:
    cert = given.cert
    bc = _ext(cert, x509.BasicConstraints)
    if bc is not None and bc.ca:
        report.error(Code.CA_AS_LEAF, where, "this is a CA certificate; expected the leaf certificate here")
    missing = missing_usages(profile, cert)
    if missing:
        report.error(
            Code.MISSING_EKU,
            where,
            f"extendedKeyUsage lacks {', '.join(missing)}; "
            f"the {profile.role} role needs {' and '.join(profile.required_usages)}",
        )
    ku = _ext(cert, x509.KeyUsage)
    if ku is not None:
        if not ku.digital_signature:
            report.error(
                Code.BAD_KEY_USAGE, where, "keyUsage lacks digitalSignature, which TLS handshakes need"
            )
        if ku.key_encipherment and not isinstance(cert.public_key(), rsa.RSAPublicKey):
            report.error(
                Code.BAD_KEY_USAGE,
                where,
                "keyUsage has keyEncipherment, which only RSA keys can do (RFC 8813)",
            )
    code = Code.MEMBER_ADDRESS_MISSING if profile.identity == "member" else Code.MISSING_SAN
    check_names(profile.required_names(inputs), cert, where, report, code)
    check_identity(profile, inputs, cert, where, report)


def _subject_values(cert: x509.Certificate, oid) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]


def check_identity(
    profile: Profile, inputs: Inputs, cert: x509.Certificate, where: str, report: Report
) -> None:
    """Who the certificate says it is, where the role is one member's or one node's (`Profile.identity`):
    what the Node authorizer, NodeRestriction and etcd's peer checks act on."""
    if profile.identity is None:
        return
    names = _subject_values(cert, NameOID.COMMON_NAME)
    groups = _subject_values(cert, NameOID.ORGANIZATION_NAME)
    shown_cn = ", ".join(echo(n) for n in names) or "none"
    shown_o = ", ".join(echo(g) for g in groups) or "none"
    if profile.identity == "cluster":
        if any(n.startswith(NODE_USER_PREFIX) for n in names) or NODES_GROUP in groups:
            report.error(
                Code.CLIENT_IS_A_NODE,
                where,
                f"subject CN {shown_cn}, O {shown_o} is a node's identity; the {profile.role} role must be "
                f"a client of its own (kubeadm: CN={profile.common_name(inputs)}, O={profile.organization})",
            )
        return
    wanted = profile.common_name(inputs)
    if names != [wanted]:
        report.error(
            Code.NODE_NAME_MISMATCH,
            where,
            f"subject CN is {shown_cn}; this certificate is for {echo(inputs.node_name)}, so it must be "
            f"exactly {echo(wanted)}",
        )
    if profile.identity != "node":
        return
    if MASTERS_GROUP in groups:
        report.error(
            Code.KUBELET_IN_MASTERS,
            where,
            f"subject O {shown_o} puts a kubelet in {MASTERS_GROUP}, which bypasses all authorization: "
            f"a node's key would be cluster-admin. The organization must be {NODES_GROUP} alone",
        )
    elif groups != [NODES_GROUP]:
        report.error(
            Code.NODE_GROUP_MISMATCH,
            where,
            f"subject O is {shown_o}; the Node authorizer only authorizes kubelets whose organization is "
            f"exactly {NODES_GROUP}",
        )


def check_names(
    required, cert: x509.Certificate, where: str, report: Report, code: Code = Code.MISSING_SAN
) -> None:
    san = _ext(cert, x509.SubjectAlternativeName)
    dns = san.get_values_for_type(x509.DNSName) if san is not None else []
    ips = san.get_values_for_type(x509.IPAddress) if san is not None else []
    missing = [f"DNS:{d}" for d in required.dns if not any(name_matches(p, d) for p in dns)]
    missing += [f"IP:{i}" for i in required.ips if ipaddress.ip_address(i) not in ips]
    if missing:
        hint = " (there is no subjectAltName at all; Go ignores the CN)" if san is None else ""
        report.error(code, where, f"subjectAltName lacks {', '.join(missing)}{hint}")


def check_issuers(
    profile: Profile,
    chain: list[x509.Certificate],
    ca: x509.Certificate | None,
    where: str,
    report: Report,
    now: dt.datetime,
    window: dt.timedelta,
    *,
    file: str = "",
) -> None:
    """The certificates above a leaf, as Go walks them: intermediates in its file (`file`), then the CA.

    Each intermediate must be a CA in its validity window, strong enough and well-formed; no CA may allow
    fewer intermediates below it than there are (pathLenConstraint); and a CA that lists extended key usages
    limits its leaves to them.
    """
    intermediates = chain[1:]
    while ca is not None and intermediates and intermediates[-1] == ca:
        intermediates.pop()  # the CA itself appended to a leaf's file, as a full-chain file does
    above = [(c, f"intermediate #{i}") for i, c in enumerate(intermediates, 1)]
    for cert, name in above:
        check_can_sign(cert, f"{where} {name}", report)
        check_time(cert, f"{where} {name}", report, now, window, file=file)
        check_strength(cert, f"{where} {name}", report)
        check_structure(cert, f"{where} {name}", report)
    if ca is not None:
        above.append((ca, "its CA"))
    for below, (cert, name) in enumerate(above):
        bc = _ext(cert, x509.BasicConstraints)
        if bc is not None and bc.ca and bc.path_length is not None and below > bc.path_length:
            report.error(
                Code.PATH_TOO_LONG,
                where,
                f"{name} allows {bc.path_length} intermediate CA(s) below it (pathLenConstraint), "
                f"but the chain has {below}",
            )
        missing = missing_usages(profile, cert)
        if missing:
            report.error(
                Code.MISSING_EKU,
                where,
                f"{name} restricts extendedKeyUsage to exclude {', '.join(missing)}, which the "
                f"{profile.role} role needs; Go refuses the chain",
            )


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
            if child == parent == ca:
                continue  # the CA at the end of a full-chain file: Go never checks a root's own signature
            parent_name = "the CA" if parent is ca else f"intermediate #{i + 1} in the file"
            check_issued_by(
                child,
                parent,
                where if i == 0 else f"{where} intermediate #{i}",
                parent_name,
                report,
                file=given.path,
            )
        if cert.not_valid_after_utc > ca.not_valid_after_utc:
            report.warn(
                Code.OUTLIVES_CA,
                where,
                f"valid until {cert.not_valid_after_utc:%Y-%m-%d}, "
                f"after its CA expires ({ca.not_valid_after_utc:%Y-%m-%d})",
            )
    check_issuers(profile, given.chain, ca, where, report, now, window, file=given.path)
    check_role(profile, inputs, given, where, report)
    check_time(cert, where, report, now, window, file=given.path)
    check_strength(cert, where, report)
    check_structure(cert, where, report)
