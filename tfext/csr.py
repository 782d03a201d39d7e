"""Certificate signing requests (issue 21): a node that makes its own key sends only its CSR.

A CSR is read like every file we are given (bounded, one PEM block), its self-signature is verified (it
proves the sender holds the key), and its public key must pass the same rules as any key we accept. Only
the key is taken from it: the role's profile decides subject, names, usages and validity, so a CSR that
asks for `system:masters` or a SAN of its own choosing gets the profile's, not what it asked for.
"""

from __future__ import annotations

from cryptography import x509

from tfext.errors import Code, TfextError
from tfext.files import read_file
from tfext.verify import Report, check_key_strength


def load_request(path: str, where: str):
    """The public key of the CSR at `path`, once its signature and key pass; errors name `where`."""
    data = read_file(path, where)
    blocks = data.count(b"-----BEGIN ")
    if b"-----BEGIN CERTIFICATE REQUEST-----" not in data or blocks != 1:
        raise TfextError.of(
            Code.CSR_REFUSED,
            where,
            "must hold exactly one PEM CERTIFICATE REQUEST block (openssl req -new -key KEY -out FILE)",
        )
    try:
        request = x509.load_pem_x509_csr(data)
        public_key = request.public_key()
    except (ValueError, TypeError):
        raise TfextError.of(Code.CSR_REFUSED, where, "is not a well-formed certificate request") from None
    try:
        valid = request.is_signature_valid
    except Exception:  # noqa: BLE001 - an algorithm cryptography cannot check is no proof either
        valid = False
    if not valid:
        raise TfextError.of(
            Code.CSR_REFUSED,
            where,
            "its signature does not verify with the key it carries, so it does not prove that its sender "
            "holds that key; make it again with that key (openssl req -new -key KEY)",
        )
    report = Report()
    check_key_strength(public_key, where, report)
    report.raise_errors()
    return public_key
