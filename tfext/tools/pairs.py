"""Whether a certificate and its private key belong together: one judgement for `tfext heal`,
`write-assets` and `inspect`.

The public key of the private key is compared with the certificate's (for a bundle, the first
certificate: the one a consumer pairs with the key). Nothing of the key reaches a message: a key that
cannot be read is described by `tfext.keys.load_private_key`, which never quotes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tfext.errors import Code, TfextError


@dataclass(frozen=True)
class Verdict:
    """What is wrong with a pair (`code` and a sentence), or nothing (`code` None)."""

    code: Code | None = None
    detail: str = ""

    @property
    def whole(self) -> bool:
        return self.code is None

    @property
    def of_key(self) -> bool:
        """What is wrong is the key (missing, unusable, another's), not the certificate."""
        return self.code not in (None, Code.PLACEHOLDER_CAPTURED, Code.MALFORMED_CERT)


# What to do about a pair a state holds broken (and the outputs made of it).
HEAL = "`terraform state pull | tfext heal` names it and prints the command that issues it again"

WHOLE = Verdict()
NO_CERTIFICATE = Verdict(
    Code.PLACEHOLDER_CAPTURED, "no certificate (an apply was stopped before it was kept)"
)
NO_KEY = Verdict(Code.KEY_MISSING, "a certificate without its private key")
MISMATCH = Verdict(Code.KEY_MISMATCH, "the private key does not belong to the certificate")


def first_certificate(cert_pem: str):
    """The first certificate of PEM text (cryptography's object), or None when there is none to read."""
    from cryptography import x509

    begin = cert_pem.find("-----BEGIN CERTIFICATE-----")
    end = cert_pem.find("-----END CERTIFICATE-----", begin)
    if begin < 0 or end < 0:
        return None
    try:
        return x509.load_pem_x509_certificate(cert_pem[begin : end + 25].encode("ascii", "replace"))
    except Exception:  # noqa: BLE001 - ValueError mostly; any failure means the same here
        return None


def judge(cert_pem: str | None, key_pem: str | None) -> Verdict:
    """The pair's verdict: no certificate (E050), one that cannot be read (E029), no key (E068), a key
    that is not a private key tfext can read (its own code: E023, E025, E026, E060, E061), or a key that
    belongs to another certificate (E030)."""
    from tfext import keys

    if not cert_pem or "-----BEGIN CERTIFICATE-----" not in cert_pem:
        return NO_CERTIFICATE
    cert = first_certificate(cert_pem)
    if cert is None:
        return Verdict(Code.MALFORMED_CERT, "the certificate cannot be parsed (damaged or truncated)")
    if not key_pem or not key_pem.strip():
        return NO_KEY
    try:
        key = keys.load_private_key(key_pem, "key")
    except TfextError as exc:
        problem = exc.problems[0]
        return Verdict(problem.code, f"the private key is not usable: {problem.detail}")
    try:
        matches = keys.public_key_matches(key, cert.public_key())
    except Exception:  # noqa: BLE001 - a public key cryptography cannot encode is no match either
        matches = False
    return WHOLE if matches else MISMATCH
