"""Non-secret facts about a certificate: what the `certificates` outputs and `tfext inspect` show."""

from __future__ import annotations

import contextlib
import datetime as dt
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes


def rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def san_strings(cert: x509.Certificate) -> list[str]:
    """SANs as `DNS:name` / `IP:addr` strings, in certificate order."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out = [f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)]
    out += [f"IP:{ip}" for ip in san.get_values_for_type(x509.IPAddress)]
    return out


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def usages(cert: x509.Certificate) -> list[str]:
    """keyUsage and extendedKeyUsage names, e.g. `digital_signature`, `server_auth`."""
    out: list[str] = []
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        for name in ("digital_signature", "key_encipherment", "key_cert_sign", "crl_sign", "key_agreement"):
            if getattr(ku, name):
                out.append(name)
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        names = {
            x509.oid.ExtendedKeyUsageOID.SERVER_AUTH: "server_auth",
            x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH: "client_auth",
        }
        out += [names.get(oid, oid.dotted_string) for oid in eku]
    except x509.ExtensionNotFound:
        pass
    return out


def key_ids(cert: x509.Certificate) -> tuple[str, str]:
    """(subjectKeyIdentifier, authorityKeyIdentifier) in hex; "" where the extension is absent.

    They say which CA signed a leaf while two CAs of the same name are trusted (a CA rotation).
    """
    ski = aki = ""
    with contextlib.suppress(x509.ExtensionNotFound):
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    try:
        aki_value = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        aki = aki_value.key_identifier.hex() if aki_value.key_identifier else ""
    except x509.ExtensionNotFound:
        pass
    return ski, aki


def describe(cert: x509.Certificate) -> dict[str, object]:
    """The facts users check when something expires or a name is missing; no secrets."""
    ski, aki = key_ids(cert)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": san_strings(cert),
        "serial": format(cert.serial_number, "x"),
        "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
        "not_before": rfc3339(cert.not_valid_before_utc),
        "not_after": rfc3339(cert.not_valid_after_utc),
        "is_ca": is_ca(cert),
        "subject_key_id": ski,
        "authority_key_id": aki,
    }


# The order in which an issuing program answers a certificate's facts (`<slot>_info`, kept in its record in
# state) when the modules ask for a list (`facts_as`): no record then repeats the names (~230 bytes of
# state a certificate). The two flags come last and are left off while false. The issuing stage decodes
# it by this same order (terraform/modules/tls/internal/issue, `fact_order`: a unit test pins it to this
# tuple). Otherwise (the user-provided flavors, the modules before 0.5.0) the facts are an object, as are
# the records written before 0.5.0; `facts_of` reads both.
FACT_ORDER = (
    "subject",
    "issuer",
    "sans",
    "serial",
    "sha256_fingerprint",
    "not_before",
    "not_after",
    "subject_key_id",
    "authority_key_id",
    "is_ca",
    "key_from_csr",  # issued for a node's own key (its CSR): set by the issuing program, not describe()
)


def info_text(facts: dict[str, object]) -> str:
    """`facts` (describe()'s, maybe with key_from_csr) as a program answers and a record keeps them."""
    values = [facts.get(name, False) for name in FACT_ORDER]
    while values and values[-1] is False:
        values.pop()
    return json.dumps(values, separators=(",", ":"))


def facts_of(text: str) -> dict[str, object]:
    """A record's or an answer's `info` as describe() gives it (plus key_from_csr when it was set): the
    list of 0.5 on, the object before, or nothing ("")."""
    if not text:
        return {}
    value = json.loads(text)
    if isinstance(value, dict):
        return value
    facts: dict[str, object] = {"is_ca": False, "key_from_csr": False}
    facts.update(zip(FACT_ORDER, value, strict=False))
    return facts
