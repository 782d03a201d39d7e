"""Where the tools find certificates, what they call them, and who signed whom.

Inputs: PEM (or DER) files, directories of them (as `tfext write-assets` writes), a Terraform state
(`terraform.tfstate` or `terraform state pull`), or `terraform output -json`. Only certificates are
parsed here; private keys are recognised by their PEM label and left alone (only `tfext inspect` loads
one, to match it to its certificate). Nothing read here is ever printed but certificate facts.

The same certificate often appears several times (a CA in its own module and as the identity and ingress
CA; a captured certificate and the data source result it came from). `merge` keeps one entry per
fingerprint, under its best name, with the other names as aliases.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tfext import certinfo
from tfext.errors import Code, Problem, TfextError, echo_path, safe_text
from tfext.files import MAX_PEM_FILE_BYTES, read_regular_file
from tfext.tools import state
from tfext.verify import parse_fully, signed_by

MAX_FILE_BYTES = MAX_PEM_FILE_BYTES  # certificates are small; a bigger file is not one of ours
MAX_JSON_BYTES = 16 << 20  # a Terraform state or `terraform output -json`
MAX_JSON_DEPTH = 64  # a state nests about 10 deep; deeper JSON is refused before it is walked
# Bounds on one run's work, so that any input within the size limits is judged in well under 2 s.
MAX_FILES = 1000  # files read by one run (a directory tree, or many FILE arguments)
MAX_CERTIFICATES = 1000  # certificates parsed by one run
MAX_PEM_BLOCKS = 10000  # PEM blocks looked at in one file
MAX_SIGNATURE_CHECKS = 500  # signature checks of one run (a P-521 check takes about 1 ms)
MAX_CANDIDATES = 16  # issuers tried for one certificate (same subject and key identifier)
MAX_CHAIN_DEPTH = 10  # certificates above a leaf (Go stops at 100; real chains have 2 or 3)
PEM_MARKER = re.compile(rb"-----(BEGIN|END) ([A-Z0-9 ]{1,64})-----")
CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE"}
DER_SUFFIXES = (".der", ".cer", ".crt")

# How good a name is (lower is better) when one certificate is found in several places.
RANK_CAPTURE = 0  # terraform_data.captured["slot"] of our modules, or a file in a directory
RANK_RESULT = 1  # a data source result `<slot>_cert_pem` (user-provided flavors live only there)
RANK_PASSED_ON = 2  # the `ca` result of identity/ingress: they are given the kube CA, they don't own it
RANK_OUTPUT = 3  # a root module output
RANK_OTHER = 4  # any other attribute holding a certificate (e.g. a CA passed in a query)
# Programs whose `ca` slot is a CA they were given (tfext/programs: they never issue one).
PASSES_CA_ON = ("identity-", "ingress-")


class InputError(TfextError):
    """An input the tools cannot use; the message has a code and says which and why (never content)."""


@dataclass
class Found:
    """One certificate, under its best name, with every other name it was found under."""

    name: str
    cert: x509.Certificate
    rank: int = RANK_OTHER
    aliases: list[str] = field(default_factory=list)

    @functools.cached_property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()

    @functools.cached_property
    def is_ca(self) -> bool:
        return certinfo.is_ca(self.cert)

    @functools.cached_property
    def subject_der(self) -> bytes:
        return self.cert.subject.public_bytes()

    @functools.cached_property
    def issuer_der(self) -> bytes:
        return self.cert.issuer.public_bytes()

    @functools.cached_property
    def key_id(self) -> str | None:
        """subjectKeyIdentifier in hex (`certinfo.key_ids`); None where there is none (or an empty one, which
        Go ignores too)."""
        return certinfo.key_ids(self.cert)[0] or None

    @functools.cached_property
    def authority_key_id(self) -> str | None:
        """authorityKeyIdentifier's key id in hex (`certinfo.key_ids`); None where there is none."""
        return certinfo.key_ids(self.cert)[1] or None


@dataclass(frozen=True)
class Bad:
    """A certificate that cannot be used (damaged, or refused when fully parsed): a row with its code."""

    name: str
    problem: Problem

    @property
    def text(self) -> str:
        """`TFEXT-E029 the certificate has a duplicate extension; Go refuses it`: the row's cell."""
        return safe_text(f"{self.problem.code.tag} {self.problem.detail}")


@dataclass(frozen=True)
class PemBlock:
    """One PEM block of a file. `data` goes to a loader, never to any output or message."""

    label: str
    data: bytes

    @property
    def is_certificate(self) -> bool:
        return self.label in CERT_LABELS

    @property
    def is_private_key(self) -> bool:
        return "PRIVATE KEY" in self.label


def pem_blocks(data: bytes) -> list[PemBlock]:
    """Every PEM block in `data`, in order, in one pass (a BEGIN without its END is dropped, as OpenSSL
    does). Raises InputError past MAX_PEM_BLOCKS blocks."""
    blocks: list[PemBlock] = []
    begin: re.Match | None = None
    for marker in PEM_MARKER.finditer(data):
        if marker.group(1) == b"BEGIN":
            begin = marker
        elif begin is not None and marker.group(2) == begin.group(2):
            blocks.append(PemBlock(begin.group(2).decode("ascii"), data[begin.start() : marker.end()]))
            begin = None
            if len(blocks) > MAX_PEM_BLOCKS:
                raise InputError.of(
                    Code.TOO_MUCH_WORK, "input", f"more than {MAX_PEM_BLOCKS} PEM blocks in one file"
                )
    return blocks


def load_certificate(data: bytes, der: bool = False) -> x509.Certificate:
    """One certificate (PEM block, or DER), parsed fully: every part the tools show is read now, so that
    a certificate that fails only when fully parsed is refused here, with its code, and nowhere later."""
    try:
        if der:
            cert = x509.load_der_x509_certificate(data)
        else:
            cert = x509.load_pem_x509_certificate(data.replace(b"X509 CERT", b"CERT"))
    except Exception:  # noqa: BLE001 - ValueError mostly; any failure means the same to the user
        raise TfextError.of(
            Code.NOT_PEM, "certificate", "a CERTIFICATE block cannot be parsed (damaged or truncated)"
        ) from None
    parse_fully(cert, "the certificate", "certificate")
    try:
        certinfo.describe(cert)
        certinfo.usages(cert)
        cert.subject.public_bytes()
        cert.issuer.public_bytes()
    except Exception:  # noqa: BLE001 - a name or extension value that does not render
        raise TfextError.of(
            Code.MALFORMED_CERT, "certificate", "the certificate has a malformed name or extension"
        ) from None
    return cert


class Reading:
    """Everything one run reads, within its bounds: certificates found, certificates refused (rows with a
    code), and problems with whole inputs. Past MAX_FILES files or MAX_CERTIFICATES certificates, the rest is
    not read and one E063 problem says so."""

    def __init__(self) -> None:
        self.found: list[Found] = []
        self.bad: list[Bad] = []
        self.problems: list[Problem] = []
        self.files = 0
        self.certificates = 0
        self.stopped = False
        self.json = False  # the input was JSON (a state or outputs), where certificates are found by role
        self.rotations: list = []  # tfext.tools.bundles.Rotation of each CA role found in JSON

    def _stop(self, why: str) -> None:
        if not self.stopped:
            self.stopped = True
            self.problems.append(Problem(Code.TOO_MUCH_WORK, "input", f"{why}; the rest was not read"))

    def count_file(self) -> bool:
        """Count one more file read by this run; False (recorded once) past MAX_FILES."""
        if self.stopped:
            return False
        self.files += 1
        if self.files > MAX_FILES:
            self._stop(f"more than {MAX_FILES} files")
            return False
        return True

    def read(self, path: Path | str, limit: int = MAX_FILE_BYTES) -> bytes | None:
        """A file's bytes (bounded, never waiting), or None with the problem recorded."""
        if not self.count_file():
            return None
        try:
            return read_regular_file(path, limit, echo_path(path))
        except TfextError as exc:
            self.problems += exc.problems
            return None

    def certificates_in(
        self, data: bytes, name: str, rank: int = RANK_OTHER, der: bool = False
    ) -> list[PemBlock]:
        """Add the certificates in `data` (PEM, or with `der` a lone DER certificate) under `name`
        (`name[i]` when there are several); returns all of its PEM blocks."""
        try:
            blocks = pem_blocks(data)
        except TfextError as exc:
            self.problems += [Problem(p.code, name, p.detail) for p in exc.problems]
            return []
        sources = [(b.data, False) for b in blocks if b.is_certificate]
        if der and not blocks and data[:1] == b"\x30":
            sources = [(data, True)]
        for i, (raw, is_der) in enumerate(sources):
            label = name if len(sources) == 1 else f"{name}[{i}]"
            if self.stopped:
                break
            self.certificates += 1
            if self.certificates > MAX_CERTIFICATES:
                self._stop(f"more than {MAX_CERTIFICATES} certificates")
                break
            try:
                self.found.append(Found(label, load_certificate(raw, der=is_der), rank))
            except TfextError as exc:
                if is_der and exc.problems[0].code is Code.NOT_PEM:
                    continue  # binary that is not a certificate: reported as "neither PEM nor DER"
                self.bad += [Bad(label, Problem(p.code, label, p.detail)) for p in exc.problems]
        return blocks


def _numbered(name: str, certs: list[x509.Certificate]) -> Iterator[tuple[str, x509.Certificate]]:
    if len(certs) == 1:
        yield name, certs[0]
    else:
        yield from ((f"{name}[{i}]", c) for i, c in enumerate(certs))


# --- directories ----------------------------------------------------------------------------------------


def files_under(directory: Path, reading: Reading) -> list[Path]:
    """Regular files under `directory`, recursively, sorted; hidden files and symbolic links are skipped
    (a link could lead out of the tree, or round in a loop). At most MAX_FILES."""
    out: list[Path] = []
    pending = [directory]
    seen = 0
    while pending and len(out) <= MAX_FILES and seen <= 10 * MAX_FILES:
        current = pending.pop()
        try:
            entries = []
            for entry in current.iterdir():  # bounded: a directory of a million entries is not read whole
                seen += 1
                entries.append(entry)
                if seen > 10 * MAX_FILES:
                    reading._stop(f"more than {10 * MAX_FILES} directory entries")
                    break
            entries.sort()
        except OSError as exc:
            reading.problems.append(
                Problem(Code.FILE_UNREADABLE, echo_path(current), exc.strerror or "cannot be read")
            )
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.is_symlink():
                continue  # e.g. write-assets' temporary files
            if entry.is_dir():
                pending.append(entry)
            elif entry.is_file():
                out.append(entry)
    return sorted(out)


def from_directory(directory: Path, reading: Reading) -> None:
    """Certificates in every file under `directory`, named by their path relative to it. Files without
    certificates, such as keys, are skipped."""
    for path in files_under(directory, reading):
        data = reading.read(path)
        if data is not None:
            name = path.relative_to(directory).as_posix()
            reading.certificates_in(data, name, RANK_CAPTURE, der=path.suffix.lower() in DER_SUFFIXES)


# --- JSON -----------------------------------------------------------------------------------------------


def load_json(data: bytes, where: str) -> object:
    """Decode JSON input (a state, `terraform output -json`), refusing what is not JSON or nests deeper than
    MAX_JSON_DEPTH; raises InputError."""
    if len(data) > MAX_JSON_BYTES:
        raise InputError.of(Code.INPUT_TOO_LARGE, where, f"larger than {MAX_JSON_BYTES >> 20} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.of(Code.NOT_UTF8, where, f"invalid UTF-8 at byte {exc.start}") from None
    if not text.strip():
        raise InputError.of(
            Code.EMPTY_INPUT, where, "empty; pipe `terraform state pull` or `terraform output -json`"
        )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError.of(
            Code.NOT_JSON,
            where,
            f"not JSON ({exc.msg}, line {exc.lineno}); pipe `terraform state pull` or "
            "`terraform output -json`",
        ) from None
    except RecursionError:
        raise InputError.of(Code.NOT_JSON, where, "not JSON we read: nested too deeply") from None
    except ValueError:  # an integer of more digits than Python converts
        raise InputError.of(Code.NOT_JSON, where, "holds a value JSON decoding refuses") from None
    check_depth(document, where)
    return document


def check_depth(document: object, where: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than `limit` (walked without recursion)."""
    stack: list[tuple[object, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= limit:
                raise InputError.of(Code.BAD_JSON_SHAPE, where, f"nested more than {limit} levels deep")
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)


# --- Terraform state and outputs ------------------------------------------------------------------------


def _strings(value: object) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in a JSON value with its path of keys and indexes, in document order (no recursion)."""
    stack: list[tuple[tuple[str, ...], object]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            yield path, item
        elif isinstance(item, dict):
            stack.extend(((*path, str(k)), v) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend(((*path, str(i)), v) for i, v in reversed(list(enumerate(item))))


def _json_certificates(value: object) -> Iterator[tuple[tuple[str, ...], str]]:
    for path, text in _strings(value):
        if "-----BEGIN" in text and "CERTIFICATE-----" in text:
            yield path, text


def _slot_name(module: str, slot: str) -> str:
    """Our modules keep certificates in `<flavor module>.module.<ca|certs|verify...>`: name them
    `<flavor module>.<slot>` (e.g. `kube_certs.apiserver`), as the `certificates` output does."""
    modules = state.module_calls(module)
    owner = modules[:-1] if len(modules) > 1 else modules
    return ".".join([*(re.sub(r"\[.*\]$", "", m) for m in owner), slot])


def _name_in_state(resource: dict, instance: dict, path: tuple[str, ...]) -> tuple[int, str] | None:
    """(rank, name) of a certificate at `path` in an instance's attributes; None to skip it."""
    module = state.module_of(resource)
    address = state.address(resource, instance)
    if resource.get("type") == "terraform_data" and path[-1] == "cert_pem" and module:
        if path[0] == "output":
            return None  # the same value as `input`
        key = instance.get("index_key")
        return RANK_CAPTURE, _slot_name(module, str(key) if key is not None else path[0])
    if resource.get("mode") == "data" and path[0] == "result" and path[-1].endswith("_cert_pem"):
        slot = path[-1].removesuffix("_cert_pem")
        if not module:
            return RANK_RESULT, f"{address}.{slot}"
        program = state.attribute(instance, "program")
        last = program[-1] if isinstance(program, list) and program else ""
        given = slot == "ca" and str(last).startswith(PASSES_CA_ON)
        return (RANK_PASSED_ON if given else RANK_RESULT), _slot_name(module, slot)
    return RANK_OTHER, ".".join([address, *path])


def from_state(document: dict, reading: Reading) -> None:
    """Certificates held anywhere in a Terraform state (format version 4), named after the module and
    certificate they belong to (`kube_certs.apiserver`) where that is known, else by address. The issuing
    stages' records are read by `tfext.tools.state` (one certificate per slot, whatever the layout)."""
    for record in state.records(document):
        if record.module and record.cert_pem:
            text = record.cert_pem.encode("utf-8", "replace")
            reading.certificates_in(text, _slot_name(record.module, record.slot), RANK_CAPTURE)
    for resource, instance in state.instances(document):
        if state.is_record(resource, instance) and state.module_of(resource):
            continue  # read above
        for path, text in _json_certificates(instance["attributes"]):
            named = _name_in_state(resource, instance, path)
            if named:
                reading.certificates_in(text.encode("utf-8", "replace"), named[1], named[0])
    outputs = document.get("outputs")
    for output, item in (outputs if isinstance(outputs, dict) else {}).items():
        value = item.get("value") if isinstance(item, dict) else None
        for path, text in _json_certificates(value):
            name = ".".join(["output", output, *path])
            reading.certificates_in(text.encode("utf-8", "replace"), name, RANK_OUTPUT)


def from_json(document: object, reading: Reading) -> None:
    """Certificates in a Terraform state, in `terraform output -json`, or anywhere in other JSON."""
    if state.is_state(document):
        from_state(document, reading)
        return
    outputs = isinstance(document, dict) and document
    if outputs and all(isinstance(v, dict) and "value" in v for v in document.values()):
        document = {name: item["value"] for name, item in document.items()}  # `terraform output -json`
    for path, text in _json_certificates(document):
        reading.certificates_in(text.encode("utf-8", "replace"), ".".join(path) or "-", RANK_OUTPUT)


# --- one entry per certificate, and who signed whom ----------------------------------------------------


def merge(found: Iterable[Found]) -> list[Found]:
    """One entry per certificate (by fingerprint), named by its best name; sorted by name."""
    groups: dict[str, list[Found]] = {}
    for item in found:
        groups.setdefault(item.fingerprint, []).append(item)
    merged = []
    for items in groups.values():
        items.sort(key=lambda f: (f.rank, f.name))
        # Aliases are the other meaningful names; internal places (a CA inside a query) are left out.
        aliases = dict.fromkeys(f.name for f in items[1:] if f.rank < RANK_OTHER and f.name != items[0].name)
        merged.append(Found(items[0].name, items[0].cert, items[0].rank, list(aliases)))
    return sorted(merged, key=lambda f: f.name)


class Issuers:
    """Who signed whom among a run's certificates, with bounded work.

    Candidates are the CAs whose subject is the certificate's issuer (byte for byte, as Go matches) and
    whose subjectKeyIdentifier, when both are present, is the certificate's authorityKeyIdentifier; at most
    MAX_CANDIDATES are tried. Each pair is checked at most once, and at most MAX_SIGNATURE_CHECKS signatures
    are checked in a run: past that, `exhausted` is set and the remaining answers are "not found". A
    signature is judged by `tfext.verify.signed_by`, as the programs judge it.
    """

    def __init__(self, certificates: Iterable[Found], limit: int = MAX_SIGNATURE_CHECKS):
        self._by_subject: dict[bytes, list[Found]] = {}
        for item in certificates:
            if item.is_ca:
                self._by_subject.setdefault(item.subject_der, []).append(item)
        self._verdicts: dict[tuple[str, str], bool] = {}
        self.limit = limit
        self.checks = 0
        self.exhausted = False

    def _signed(self, child: Found, parent: Found) -> bool:
        pair = (child.fingerprint, parent.fingerprint)
        if pair not in self._verdicts:
            if self.checks >= self.limit:
                self.exhausted = True
                return False
            self.checks += 1
            self._verdicts[pair] = signed_by(child.cert, parent.cert)
        return self._verdicts[pair]

    def candidates(self, item: Found) -> list[Found]:
        aki = item.authority_key_id
        out: list[Found] = []
        for ca in self._by_subject.get(item.issuer_der, ()):
            if ca.fingerprint != item.fingerprint and (aki is None or ca.key_id is None or ca.key_id == aki):
                out.append(ca)
                if len(out) == MAX_CANDIDATES:  # stop looking: a thousand twins cost no more than 16
                    break
        return out

    def issuer_of(self, item: Found) -> Found | None:
        """The CA that signed `item` (not itself), or None."""
        return next((ca for ca in self.candidates(item) if self._signed(item, ca)), None)

    def is_self_signed(self, item: Found) -> bool:
        if item.subject_der != item.issuer_der:
            return False
        aki = item.authority_key_id
        if aki is not None and item.key_id is not None and aki != item.key_id:
            return False
        return self._signed(item, item)

    def problem(self) -> Problem | None:
        """E063 when the signature budget ran out, else None."""
        if not self.exhausted:
            return None
        return Problem(
            Code.TOO_MUCH_WORK,
            "signatures",
            f"stopped after {self.limit} signature checks; some issuers are shown as not found",
        )


def spki_sha256(public_key: object) -> str:
    """SHA-256 of a public key's SubjectPublicKeyInfo: matches a key to its certificate."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()


def common_name(name: x509.Name) -> str:
    """The CN of a name, or its whole RFC 4514 string when it has none."""
    cns = name.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    value = cns[0].value if cns else name.rfc4514_string()
    return value if isinstance(value, str) else value.hex()
