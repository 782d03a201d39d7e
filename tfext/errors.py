"""The error catalogue: every failure tfext reports has a stable code.

Codes never change meaning once published (CI logs and users grep them); `docs/errors.md` is checked
against this table by the tests. Messages name the input or file, the rule, and what was found - and
never contain key material: callers pass descriptions, not PEM text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Code(Enum):
    """Stable error codes. The value is (number, short title)."""

    # Protocol and query (what Terraform sent us).
    EMPTY_INPUT = (1, "empty input")
    NOT_JSON = (2, "input is not JSON")
    NOT_AN_OBJECT = (3, "input is not a JSON object")
    NOT_A_STRING = (4, "query value is not a string")
    UNKNOWN_KEY = (5, "unknown query key")
    MISSING_KEY = (6, "missing required query key")
    INVALID_VALUE = (7, "invalid query value")
    INPUT_TOO_LARGE = (8, "input too large")
    NOT_UTF8 = (9, "input is not UTF-8")
    UNKNOWN_PROGRAM = (10, "unknown program")
    INVALID_LIST = (11, "invalid list value")
    INVALID_ADDRESS = (12, "invalid address, CIDR, URL or host name")

    # Files given by path.
    FILE_MISSING = (20, "file not found")
    FILE_UNREADABLE = (21, "file cannot be read")
    FILE_EMPTY = (22, "file is empty")
    NOT_PEM = (23, "not the expected PEM")
    TOO_MANY_CERTS = (24, "more than one certificate")
    ENCRYPTED_KEY = (25, "encrypted private key")
    UNSUPPORTED_KEY = (26, "unsupported private key")
    FILE_TOO_LARGE = (27, "file too large")
    NOT_A_PATH = (28, "PEM text given where a file path is expected")
    MALFORMED_CERT = (29, "malformed certificate")

    # Relationships between key, certificate and CA.
    KEY_MISMATCH = (30, "private key does not match certificate")
    BAD_SIGNATURE = (31, "certificate not signed by the CA")
    ISSUER_MISMATCH = (32, "issuer is not the CA's subject")
    AKI_MISMATCH = (33, "authority key identifier is not the CA's")
    NOT_A_CA = (34, "CA certificate is not a CA")
    CA_CANNOT_SIGN = (35, "CA certificate lacks keyCertSign")

    # The certificate's role.
    MISSING_EKU = (36, "missing extended key usage")
    BAD_KEY_USAGE = (37, "key usage wrong for the key type or role")
    MISSING_SAN = (38, "required name missing from subjectAltName")
    CA_AS_LEAF = (39, "CA certificate used as a leaf")

    # Time.
    EXPIRED = (40, "certificate expired")
    NOT_YET_VALID = (41, "certificate not yet valid")
    OUTLIVES_CA = (42, "certificate outlives its CA")
    EXPIRES_SOON = (43, "certificate expires within the renewal window")

    # Strength.
    WEAK_RSA = (44, "RSA key too small")
    WEAK_CURVE = (45, "elliptic curve not allowed")
    WEAK_SIGNATURE = (46, "weak signature algorithm")

    # What Go's verifier refuses beyond the above.
    INVALID_SERIAL = (47, "invalid serial number")
    PATH_TOO_LONG = (48, "chain longer than a CA's path length allows")
    CRITICAL_EXTENSION = (49, "unsupported critical extension")

    # Issuing.
    PLACEHOLDER_CAPTURED = (50, "placeholder captured instead of a certificate")
    CANNOT_ISSUE = (51, "cannot issue certificate")

    INTERNAL = (90, "internal error")

    @property
    def number(self) -> int:
        return self.value[0]

    @property
    def title(self) -> str:
        return self.value[1]

    @property
    def tag(self) -> str:
        return f"TFEXT-E{self.number:03d}"


# A safety net under every message: whatever a caller passes, no PEM block, base64 run or colon-hex dump
# (how `openssl -text` prints key material) of key size reaches a user. Callers still describe, not echo.
_PEM_TEXT = re.compile(r"-----BEGIN [^-]{0,60}-----.*?(?:-----END [^-]{0,60}-----|\Z)", re.S)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
_HEX_DUMP = re.compile(r"(?:[0-9A-Fa-f]{2}:){16,}[0-9A-Fa-f]{0,2}")
MAX_ECHO = 64  # longest user value quoted back in a message
MAX_LISTED = 50  # most problems listed in one message


def redact(text: str) -> str:
    """`text` with anything shaped like key material replaced by a placeholder."""
    text = _PEM_TEXT.sub("[PEM text withheld]", text)
    text = _BASE64_RUN.sub(lambda m: m.group() if _looks_like_words(m.group()) else "[withheld]", text)
    return _HEX_DUMP.sub("[withheld]", text)


def _looks_like_words(run: str) -> bool:
    # A path such as /etc/kubernetes/pki/apiserver is a base64-alphabet run too; key material mixes cases
    # with digits or "+" within a few characters, paths and words do not.
    mixed_case = re.search(r"[A-Z]", run) and re.search(r"[a-z]", run)
    return not (mixed_case and re.search(r"[0-9+]", run))


def echo(value: object) -> str:
    """A user's value, quoted, so they see their typo - unless it is long or could be key material."""
    text = value if isinstance(value, str) else repr(value)
    if "-----BEGIN" in text:
        return f"PEM text of {len(text)} characters (not shown)"
    if len(text) > MAX_ECHO or "PRIVATE" in text or redact(text) != text:
        return f"a value of {len(text)} characters (not shown)"
    return repr(text) if isinstance(value, str) else text


@dataclass(frozen=True)
class Problem:
    """One finding: where (input or file name), which rule, and what was found."""

    code: Code
    where: str
    detail: str

    def render(self) -> str:
        return redact(f"{self.code.tag} {self.where}: {self.detail}")


class TfextError(Exception):
    """One or more problems that stop a program. Its text is safe to print (no secrets)."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(self.render())

    @classmethod
    def of(cls, code: Code, where: str, detail: str) -> TfextError:
        return cls(Problem(code, where, detail))

    def render(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0].render()
        lines = [f"{len(self.problems)} problems found:"]
        lines += [f"  {i}. {p.render()}" for i, p in enumerate(self.problems[:MAX_LISTED], 1)]
        if len(self.problems) > MAX_LISTED:  # a runaway input; the first ones say what is wrong
            lines.append(f"  ... and {len(self.problems) - MAX_LISTED} more")
        return "\n".join(lines)
