"""The error catalogue: every failure tfext reports has a stable code.

Codes never change meaning once published (CI logs and users grep them); `docs/errors.md` is checked
against this table by the tests. Messages name the input or file, the rule, and what was found - and
never contain key material: callers pass descriptions, not PEM text.
"""

from __future__ import annotations

import os
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
    PLACEHOLDER_CAPTURED = (50, "no certificate was issued for a sealed slot")
    CANNOT_ISSUE = (51, "cannot issue certificate")
    LEGACY_KEYS_IN_STATE = (52, "state holds key copies Terraform prints (tfext 0.1)")
    NO_CA_KEY = (53, "no CA key to sign with")
    GENERATING_INPUT_IGNORED = (54, "generating input ignored by a user-provided flavor")
    ROTATION_ORDER = (55, "CA rotation phase skipped or out of order")
    SIGNING_CA_NOT_FIRST = (56, "the CA key signs no certificate at the head of the CA bundle")
    BUNDLE_PHASE = (57, "CA bundle or leaves do not fit the rotation phase")
    GIVEN_CA_ROTATION = (58, "a given CA cannot be rotated by a generating flavor")
    CA_NEEDS_ROTATION = (59, "CA expires within the renewal window: rotate it")

    # Hostile input: what Go refuses beyond the above, and bounds on the work one run may do.
    BAD_RSA_EXPONENT = (60, "RSA public exponent Go refuses")
    RSA_TOO_LARGE = (61, "RSA key larger than 8192 bits")
    CHAIN_TOO_LONG = (62, "chain too long")
    TOO_MUCH_WORK = (63, "input needs more work than one run allows")
    BAD_JSON_SHAPE = (64, "JSON is not in the expected shape")
    UNSAFE_DIRECTORY = (65, "directory is a symbolic link or writable by others")
    WRITE_FAILED = (66, "files could not be written; the old ones were kept")
    CA_REPLACED = (67, "the target directory holds another CA")
    KEY_MISSING = (68, "certificate without its private key")

    # The human commands' inputs.
    NO_ROLES = (70, "no certificate of a tfext module in the input")
    AMBIGUOUS_ROLES = (71, "several modules hold the same role")
    TORN_STATE = (72, "the local state file was emptied by a killed apply")
    # The key directory and CSRs (issue 21).
    KEY_DIR_UNUSABLE = (73, "key directory missing, shared or unwritable")
    KEY_FILE_CHANGED = (74, "key file missing, changed or not its certificate's")
    CSR_REFUSED = (75, "certificate signing request refused")
    KEYS_ABSENT = (76, "the key directory is not here: key outputs are empty")
    KEYS_IN_OUTPUTS = (77, "root outputs hold private keys: move-keys cannot move them")
    KEY_UNMOVABLE = (78, "a private key in the state that is no tfext record's")

    # One identity per member and node (issue 14): what the Node authorizer and etcd check of who a
    # certificate says it is.
    NODE_NAME_MISMATCH = (80, "certificate does not name its node or member")
    NODE_GROUP_MISMATCH = (81, "kubelet certificate's organization is not exactly system:nodes")
    KUBELET_IN_MASTERS = (82, "kubelet identity in system:masters")
    MEMBER_ADDRESS_MISSING = (83, "etcd member certificate lacks the member's addresses")
    NODE_LIST_INVALID = (84, "invalid member or node list")
    CLIENT_IS_A_NODE = (85, "cluster client certificate carries a node's identity")
    # What a member's or node's names may be (issue 19): an address is an IP SAN, never a DNS one; each
    # name and address belongs to one member or node; no wildcard stands for a member or node.
    IP_AS_NAME = (86, "an IP address where a DNS name belongs, or a name shaped like a bad IP")
    SAME_NAME_TWICE = (87, "the same name or address on two members or nodes")
    WILDCARD_NAME = (88, "wildcard in a member's or node's names")
    OPTIONAL_OUTPUTS_EMPTY = (89, "a user-provided flavor's optional outputs are empty")

    INTERNAL = (90, "internal error")

    # The standard streams (issue 19): a closed or full stream is a coded line, never a traceback.
    STDIN_UNREADABLE = (91, "stdin is closed or cannot be read")
    STDOUT_UNWRITABLE = (92, "stdout is closed or cannot be written")
    DISK_FULL = (93, "no space left to write the output")
    TFEXT_NOT_FOUND = (94, "the tfext command is not on PATH")
    NODE_LAYOUT_CHANGED = (95, "node_groups differs from the one the nodes were issued with")

    # Tools short of their anchors (issue 23): what write-assets leaves behind, and the state a tool finds
    # by itself in a root module's directory.
    STALE_FILES = (96, "files of members or nodes the input no longer holds")
    NO_STATE_HERE = (97, "no state found in this directory")
    STATE_PULL_FAILED = (98, "terraform state pull failed")

    # The operator's second day at scale (issue 22).
    NODE_LAYOUT_KEPT = (99, "a workspace from before node_groups keeps a stage per node")

    @property
    def number(self) -> int:
        return self.value[0]

    @property
    def title(self) -> str:
        return self.value[1]

    @property
    def tag(self) -> str:
        return f"TFEXT-E{self.number:03d}"


# A safety net under every message: whatever a caller passes, no PEM block, base64 run, hex run or colon-hex
# dump (how `openssl -text` prints key material) of key size reaches a user. Callers still describe, not echo.
# A PEM marker alone is no secret (a hint says "expected -----BEGIN CERTIFICATE-----"): only a marker followed
# by a body (base64 or an RFC 1421 header, after real or escaped line breaks) is withheld.
_PEM_TEXT = re.compile(
    r"-----BEGIN [^-\n]{0,60}-----(?=(?:\s|\\[rn])*(?:[A-Za-z0-9+/=]{16}|[A-Za-z-]+:))"
    r".*?(?:-----END [^-]{0,60}-----|\Z)",
    re.S,
)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}")  # base64 and base64url
_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32,}")  # 128 bits and more: an Ed25519 or EC key in hex
_HEX_DUMP = re.compile(r"(?:[0-9A-Fa-f]{2}:){16,}[0-9A-Fa-f]{0,2}")
# What must never reach a terminal raw: C0 and C1 controls, DEL, line and paragraph separators, and the
# bidirectional overrides that reorder what a reader sees.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
MAX_ECHO = 64  # longest user value quoted back in a message
MAX_LISTED = 50  # most problems listed in one message
MAX_SHOWN_PATH = 256  # longest path shown in a message (a longer one is content, not a path)
MAX_NAME_BYTES = 255  # longest file name a filesystem takes (NAME_MAX)


def redact(text: str) -> str:
    """`text` with anything shaped like key material replaced by a placeholder."""
    text = _PEM_TEXT.sub("[PEM text withheld]", text)
    text = _BASE64_RUN.sub(lambda m: m.group() if _looks_like_words(m.group()) else "[withheld]", text)
    text = _HEX_RUN.sub("[withheld]", text)
    return _HEX_DUMP.sub("[withheld]", text)


def _looks_like_words(run: str) -> bool:
    # A path such as /etc/kubernetes/pki/apiserver is a base64-alphabet run too; key material mixes cases
    # with digits or "+" within a few characters, paths and words do not.
    mixed_case = re.search(r"[A-Z]", run) and re.search(r"[a-z]", run)
    return not (mixed_case and re.search(r"[0-9+]", run))


def escape_controls(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`), so that it cannot move a
    terminal's cursor, erase a line, start a new line in a report, or reorder what is displayed."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def safe_text(text: str) -> str:
    """The one redactor every message and every value a tool prints goes through: no key material, and no
    control characters (the text stays on its line and cannot rewrite the terminal)."""
    return escape_controls(redact(text))


def safe_line(text: str) -> str:
    """A message line for stderr: `safe_text` of each line, so a multi-line message keeps its shape."""
    return "\n".join(safe_text(line) for line in redact(text).split("\n"))


def echo(value: object) -> str:
    """A user's value, quoted, so they see their typo - unless it is long or could be key material."""
    text = value if isinstance(value, str) else repr(value)
    if "-----BEGIN" in text:
        return f"PEM text of {len(text)} characters (not shown)"
    if len(text) > MAX_ECHO or "PRIVATE" in text or redact(_compact(text)) != _compact(text):
        return f"a value of {len(text)} characters (not shown)"
    return repr(text) if isinstance(value, str) else text


def _compact(text: str) -> str:
    # Key material split by spaces, line breaks (real or escaped) or wrapped at 32 columns is still key
    # material: judge it joined up.
    return re.sub(r"(?:\s|\\[rnt])+", "", text)


def echo_path(path: object) -> str:
    """A path as a message may show it: as given when it is a plausible path, else described.

    Never shown: PEM text, a path longer than 256 characters or with a component over 255 bytes (no
    filesystem has one: it is content given where a path belongs), anything the redactor would withhold
    once spaces and line breaks are removed (key material split up), and control characters.
    """
    text = os.fsdecode(path) if isinstance(path, bytes | os.PathLike) else str(path)
    if "-----BEGIN" in text or "PRIVATE KEY" in text:
        return f"PEM text of {len(text)} characters (not shown)"
    too_long = len(text) > MAX_SHOWN_PATH or any(
        len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in text.split("/")
    )
    if too_long or redact(_compact(text)) != _compact(text):
        return f"a path of {len(text)} characters (not shown)"
    if _CONTROL.search(text):
        return escape_controls(repr(text))
    return text


def plausible_path(path: object) -> bool:
    """Whether `path` can be shown as it is (see `echo_path`): what a command may create or name."""
    text = os.fsdecode(path) if isinstance(path, bytes | os.PathLike) else str(path)
    return echo_path(text) == text


@dataclass(frozen=True)
class Problem:
    """One finding: where (input or file name), which rule, and what was found."""

    code: Code
    where: str
    detail: str

    def render(self) -> str:
        return safe_text(f"{self.code.tag} {self.where}: {self.detail}")


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
