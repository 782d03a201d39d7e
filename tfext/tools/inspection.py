"""`tfext inspect FILE...`: what certificates are, who signed them, and what they are good for.

Each certificate is shown once (however many files hold it), under the CA that signed it, as a tree:
subject, issuer, SANs, usages, public-key and signature algorithms, validity, serial, fingerprint, its chain
and the key files that match it. Algorithms and the serial are in openssl's words (`tfext.tools.facts`):
`ECDSA P-256`, `ecdsa-with-SHA256`, `06F33F...`. A certificate whose issuer was not given heads a tree
named by its issuer's subject (`CN=kube-ca,O=bootkube  (the issuer: not given)`).
Private keys are never shown: a key file is reported as "private key (not shown)", with its algorithm and
the certificate it belongs to. `--json` gives the same facts for machines.

A FILE (or stdin) holding JSON - `terraform output -json` or `terraform state pull`, of any root module -
is read by role (`tfext.tools.roles`): each certificate is named `kube/apiserver`, and its key (from the
outputs, the seal, or the user-provided key file the state names; in key-directory mode, the file a
`key_files` output names, or a state record's file in `--key-dir`) is matched to it, never shown.
Validity is `tfext.verify.time_status`'s: valid, renew, expired or not yet valid.

During a CA rotation (docs/ca-rotation.md) a CA output is a bundle of two CAs and a state holds two CA
seals: both CAs are shown, each leaf says which one it chains to (`chains to  signing CA a119ae16 of
kube/ca`, checked on its signature), and each CA role its phase (`tfext.tools.bundles`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tfext import certinfo, keys
from tfext.errors import Code, Problem, TfextError, echo_path, safe_text
from tfext.profiles import DEFAULT_RENEWAL_WINDOW_HOURS
from tfext.tools import clock, facts, roles
from tfext.tools.bundles import Rotation
from tfext.tools.cli import Parser, guarded, read_stdin, refuse_content_as_path, say
from tfext.tools.pairs import HEAL, NO_KEY, judge
from tfext.tools.sources import (
    MAX_CERTIFICATES,
    MAX_CHAIN_DEPTH,
    MAX_FILE_BYTES,
    MAX_JSON_BYTES,
    RANK_CAPTURE,
    Bad,
    Found,
    Issuers,
    Reading,
    common_name,
    files_under,
    load_json,
    merge,
    pem_blocks,
    spki_sha256,
)
from tfext.verify import Report, TimeStatus, check_structure, time_status

WRAP = 96  # width of a wrapped value (SAN lists)
# Private keys looked at in one run: one per certificate a run reads (a cluster with a key per node has
# hundreds; loading one is cheap, but not free). Past it, keys are left unmatched, and the run says so.
MAX_KEYS = MAX_CERTIFICATES


@dataclass
class PrivateKeyFile:
    """A private key seen in a file: its algorithm and public half only, never the key."""

    file: str
    algorithm: str
    encrypted: bool = False
    spki: str | None = None  # SHA-256 of the public key, to find its certificate
    matches: list[str] = field(default_factory=list)  # fingerprints of the certificates it belongs to
    problem: str = ""  # `TFEXT-E030 ...`: it is given as the key of a certificate it does not belong to
    role: str = ""  # read by role from JSON: the certificate it is given for (`kube/apiserver`)


@dataclass
class Inputs:
    """Everything read from the files given."""

    certificates: list[Found] = field(default_factory=list)  # merged, one per fingerprint; names = files
    keys: list[PrivateKeyFile] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)  # (file, PEM label) not inspected
    problems: list[str] = field(default_factory=list)  # rendered, coded, redacted
    bad: list[Bad] = field(default_factory=list)  # certificates that cannot be used, with their code
    issuers: Issuers | None = None
    rotations: list[Rotation] = field(default_factory=list)  # the phase of each CA role read from JSON
    window: dt.timedelta = dt.timedelta(hours=DEFAULT_RENEWAL_WINDOW_HOURS)  # for `renew`
    keys_left_out: bool = False  # more than MAX_KEYS private keys were seen


def describe_private_key(file: str, data: bytes) -> PrivateKeyFile:
    """Algorithm and public-key hash of a PEM private key; the key object is dropped at once."""
    try:
        # No RSA consistency check: on a 16384-bit key it takes seconds, and nothing is signed here.
        key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:  # "Password was not given but private key is encrypted"
        return PrivateKeyFile(file, "encrypted", encrypted=True)
    except Exception:  # noqa: BLE001 - ValueError, UnsupportedAlgorithm and whatever a hostile key raises
        return PrivateKeyFile(file, "unreadable or unsupported")
    refusal = keys.go_refusal(key)
    if refusal:
        return PrivateKeyFile(file, f"{keys.describe(key)}, {refusal[0].tag}: Go refuses it")
    return PrivateKeyFile(file, facts.key_algorithm(key), spki=spki_sha256(key.public_key()))


def read_inputs(
    paths: list[str],
    stdin: bytes | None = None,
    window: dt.timedelta | None = None,
    key_dir: str | None = None,
) -> Inputs:
    """Read every file (directories recursively; `-` is stdin) and sort what is in them. `window` is the
    renewal window of the `renew` status (default 720 hours); `key_dir` is where a state's key-directory
    records have their key files (`--key-dir`)."""
    inputs = Inputs() if window is None else Inputs(window=window)
    reading = Reading()
    for given in paths:
        if given == "-":
            _take(inputs, reading, "stdin", stdin or b"", key_dir)
            continue
        if "-----BEGIN" in given or "PRIVATE KEY" in given:
            inputs.problems.append(
                Problem(
                    Code.NOT_A_PATH, echo_path(given), "given where a file path belongs; pass the path"
                ).render()
            )
            continue
        path = Path(given)
        if path.is_dir() and not path.is_symlink():
            files, limit = files_under(path, reading), MAX_FILE_BYTES
        else:  # a file named on the command line may be a state: read it within the JSON bound
            files, limit = [path], MAX_JSON_BYTES
        for file in files:
            data = reading.read(file, limit)
            if data is not None:
                _take(inputs, reading, str(file), data, key_dir)
    inputs.problems += [p.render() for p in reading.problems]
    inputs.bad = reading.bad
    # One entry per certificate; every file holding it is listed.
    inputs.certificates = merge(reading.found)
    inputs.issuers = Issuers(inputs.certificates)
    for item in inputs.certificates:
        spki = spki_sha256(item.cert.public_key())
        for key in inputs.keys:
            if key.spki == spki:
                key.matches.append(item.fingerprint)
    _pair_key_files(inputs)
    return inputs


KEY_SUFFIXES = (".key", "-key.pem", ".pem")  # apiserver.key, cfssl's apiserver-key.pem
CERT_SUFFIXES = (".crt", ".pem", ".cer")
FILES_REMEDY = (
    "write the pair again from the state (`terraform output -json | tfext write-assets DIR` refuses a "
    "pair that does not match); if the state holds it so too, " + HEAL
)


def _pair_key_files(inputs: Inputs) -> None:
    """A key file's certificate is the one in the same file, or in the file of the same name with a
    certificate suffix (`apiserver.key` and `apiserver.crt`, cfssl's `apiserver-key.pem` and
    `apiserver.pem`): a key that does not belong to it is a problem (E030), whatever else it matches."""
    by_name: dict[str, Found] = {}
    for item in inputs.certificates:
        for name in _files(item):
            by_name.setdefault(name.removesuffix("[0]"), item)
    for key in inputs.keys:
        if key.spki is None or key.role:
            continue  # unreadable, or read by role from JSON (judged there)
        stems = [key.file.removesuffix(s) for s in KEY_SUFFIXES if key.file.endswith(s)]
        names = [key.file] + [stem + suffix for stem in stems for suffix in CERT_SUFFIXES]
        cert = next((by_name[n] for n in names if n in by_name), None)
        if cert is None or spki_sha256(cert.cert.public_key()) == key.spki:
            continue
        key.problem = Problem(
            Code.KEY_MISMATCH,
            echo_path(key.file),
            f"the private key does not belong to the certificate in {echo_path(cert.name)}; {FILES_REMEDY}",
        ).render()
        inputs.problems.append(key.problem)


def _take(inputs: Inputs, reading: Reading, name: str, data: bytes, key_dir: str | None = None) -> None:
    if data.lstrip()[:1] == b"{":
        _take_json(inputs, reading, name, data, key_dir)
        return
    if len(data) > MAX_FILE_BYTES:
        inputs.problems.append(
            Problem(Code.FILE_TOO_LARGE, echo_path(name), f"larger than {MAX_FILE_BYTES} bytes").render()
        )
        return
    before = len(reading.found) + len(reading.bad)
    blocks = reading.certificates_in(data, name, RANK_CAPTURE, der=True)
    for block in blocks:
        if block.is_private_key:
            _add_key(inputs, name, block.data)
        elif not block.is_certificate:
            inputs.other.append((name, block.label))
    if not blocks and len(reading.found) + len(reading.bad) == before:
        inputs.problems.append(f"{safe_text(name)}: neither PEM nor a DER certificate")


def _take_json(inputs: Inputs, reading: Reading, name: str, data: bytes, key_dir: str | None = None) -> None:
    """A state or `terraform output -json`: certificates by role, each key matched to its certificate
    (read from its file where the input names one: a `key_files` output, a key directory's record)."""
    shown = echo_path(name) if name != "stdin" else name
    try:
        document = load_json(data, shown)
        items = roles.locate(document, key_dir)
    except TfextError as exc:
        inputs.problems += [p.render() for p in exc.problems]
        return
    elsewhere = roles.key_dir_problem(items)
    if elsewhere:
        inputs.problems.append(elsewhere.render())
    if not items:
        inputs.problems.append(roles.nothing_found(shown).render())
        return
    for rotation in roles.parse(items, reading):
        fingerprints = {f.fingerprint for f in rotation.cas}
        if not any({f.fingerprint for f in r.cas} == fingerprints for r in inputs.rotations):
            inputs.rotations.append(rotation)  # the same CAs in two inputs: the first one read says
    for item in items:
        if item.given:
            continue
        text = roles.key_text(item, reading)
        if text is None:
            if (item.key_expected or item.heal) and not item.key_path and not item.key_elsewhere:
                problem = Problem(Code.KEY_MISSING, item.name, f"{NO_KEY.detail}; {HEAL}")
                inputs.problems.append(problem.render())
            continue
        verdict = judge(item.cert_pem, text)
        blocks = [b for b in pem_blocks_or_none(text) if b.is_private_key]
        if blocks and _add_key(inputs, f"{item.name} key", blocks[0].data):
            inputs.keys[-1].role = item.name
        if not verdict.of_key:
            continue
        if item.key_source == "file":
            from tfext.tools.keyfiles import RESTORE, shown

            remedy = f"its key file ({shown(item.key_path)}) is not the certificate's: {RESTORE}"
        elif item.key_path:
            remedy = "give the key file that belongs to the certificate (the user-provided module checks it)"
        else:
            remedy = HEAL
        problem = Problem(verdict.code, f"{item.name} key", f"{verdict.detail} ({item.name}); {remedy}")
        if blocks and inputs.keys and inputs.keys[-1].role == item.name:
            inputs.keys[-1].problem = problem.render()
        inputs.problems.append(problem.render())


def _add_key(inputs: Inputs, name: str, data: bytes) -> bool:
    """Describe one more private key, up to MAX_KEYS (whether it was); the first one past it is reported
    (E063)."""
    if len(inputs.keys) < MAX_KEYS:
        inputs.keys.append(describe_private_key(name, data))
        return True
    if not inputs.keys_left_out:
        inputs.keys_left_out = True
        inputs.problems.append(
            Problem(
                Code.TOO_MUCH_WORK,
                echo_path(name),
                f"more than {MAX_KEYS} private keys; the rest are not matched to their certificates",
            ).render()
        )
    return False


def pem_blocks_or_none(text: str) -> list:
    try:
        return pem_blocks(text.encode("utf-8", "replace"))
    except TfextError:
        return []


# --- the facts of one certificate -----------------------------------------------------------------------


def _files(item: Found) -> list[str]:
    return [item.name, *item.aliases]


def _path_length(cert: x509.Certificate) -> int | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    except x509.ExtensionNotFound:
        return None


@dataclass
class Node:
    """A certificate in the tree: the CA node that signed it (if given) and what it signed."""

    item: Found
    parent: Node | None
    children: list[Node] = field(default_factory=list)

    @property
    def chain(self) -> list[Node]:
        """This node, its issuer, and so on up to the root given."""
        node, out = self, []
        while node:
            out.append(node)
            node = node.parent
        return out


def build_tree(certificates: list[Found], issuers: Issuers | None = None) -> list[Node]:
    """Roots (self-signed CAs, and certificates whose issuer was not given), each with what it signed.

    No certificate is put below one it signed (two CAs that cross-signed each other would make a loop),
    nor deeper than MAX_CHAIN_DEPTH under its root: such a certificate is a root of its own.
    """
    issuers = issuers or Issuers(certificates)
    nodes = {c.fingerprint: Node(c, None) for c in certificates}
    for node in nodes.values():
        issuer = issuers.issuer_of(node.item)
        if issuer:
            node.parent = nodes[issuer.fingerprint]
            node.parent.children.append(node)
    _cut_loops_and_long_chains(list(nodes.values()))
    order = {fp: (not n.item.is_ca, common_name(n.item.cert.subject), n.item.name) for fp, n in nodes.items()}
    for node in nodes.values():
        node.children.sort(key=lambda n: order[n.item.fingerprint])
    return sorted((n for n in nodes.values() if n.parent is None), key=lambda n: order[n.item.fingerprint])


def _detach(node: Node) -> None:
    if node.parent is not None:
        node.parent.children.remove(node)
        node.parent = None


def _cut_loops_and_long_chains(nodes: list[Node]) -> None:
    """Walk down from the roots (linear): a node deeper than MAX_CHAIN_DEPTH becomes a root of its own, and
    so does one node of each loop (CAs that cross-signed each other), which no walk from a root reaches."""
    seen: set[int] = set()
    for start in [n for n in nodes if n.parent is None] + nodes:
        if id(start) in seen:
            continue
        _detach(start)
        level, depth = [start], 0
        while level:
            seen.update(id(n) for n in level)
            depth += 1
            below = [c for n in level for c in n.children if id(c) not in seen]
            if depth >= MAX_CHAIN_DEPTH:
                for child in below:
                    _detach(child)  # walked again later, as a root
                break
            level = below


def _issuers(inputs: Inputs) -> Issuers:
    if inputs.issuers is None:
        inputs.issuers = Issuers(inputs.certificates)
    return inputs.issuers


def _cn(name: x509.Name) -> str:
    return safe_text(common_name(name))


def rotation_of(inputs: Inputs, fingerprint: str) -> Rotation | None:
    """The rotation (CA role and phase) a CA belongs to, if it was read from JSON."""
    return next((r for r in inputs.rotations if r.part(fingerprint)), None)


def chains_to(node: Node, inputs: Inputs) -> tuple[Rotation, str] | None:
    """(rotation, part) of the CA that signed this leaf (its parent in the tree, a signature checked)."""
    if node.item.is_ca or node.parent is None:
        return None
    rotation = rotation_of(inputs, node.parent.item.fingerprint)
    return (rotation, rotation.part(node.parent.item.fingerprint)) if rotation else None


def _rotation_fields(node: Node, inputs: Inputs) -> list[tuple[str, str]]:
    fingerprint = node.item.fingerprint
    if node.item.is_ca:
        rotation = rotation_of(inputs, fingerprint)
        if rotation is None:
            return []
        age = rotation.age(fingerprint)
        part = rotation.part(fingerprint)
        part += " CA" + (f" ({age})" if age and part != age else "")
        generation = "" if rotation.generation is None else f", generation {rotation.generation}"
        return [("rotation", f"{part} of {rotation.name}, phase {rotation.phase}{generation}")]
    found = chains_to(node, inputs)
    if found is None:
        return []
    rotation, part = found
    out = [("chains to", f"{rotation.label(node.parent.item.fingerprint)} of {rotation.name}")]
    if part == "outgoing":  # phase reissue: every leaf is issued again by the incoming CA
        out.append(
            (
                "problem",
                f"{Code.BUNDLE_PHASE.tag} signed by the outgoing CA, but in phase {rotation.phase} every "
                "leaf is signed by the incoming CA: issue it again",
            )
        )
    return out


def _title(node: Node) -> str:
    cert = node.item.cert
    marker = " [CA]" if node.item.is_ca else ""
    return f"{_cn(cert.subject)}{marker}  {safe_text(', '.join(_files(node.item)))}"


def missing_issuer(item: Found, issuers: Issuers) -> str:
    """Why a certificate heads a tree without being self-signed: its issuer was not given (the usual
    case: one file alone), a CA of that name was given but did not sign it, or the chain was cut (a loop
    of cross-signed CAs, or deeper than MAX_CHAIN_DEPTH)."""
    if issuers.issuer_of(item) is not None:
        return f"chain cut here: a loop, or more than {MAX_CHAIN_DEPTH} deep"
    if issuers.candidates(item):
        return "a CA of that name was given, but did not sign it"
    return "not given"


def _chain_text(node: Node, issuers: Issuers) -> str:
    names = " -> ".join(_cn(n.item.cert.subject) for n in node.chain)
    root = node.chain[-1].item
    if issuers.is_self_signed(root):
        return (
            f"{names} (self-signed root)"
            if len(node.chain) > 1 or node.item.is_ca
            else f"{names} (self-signed)"
        )
    return f"{names} -> {_cn(root.cert.issuer)} (issuer {missing_issuer(root, issuers)})"


def go_refusals(cert: x509.Certificate) -> list[str]:
    """What Go's verifier (and so etcd and Kubernetes) refuses in this certificate itself: an RSA key of a
    size or exponent Go's TLS refuses, a serial that is not positive or is over 20 octets (TFEXT-E047), a
    critical extension it does not handle; the rules the user-provided flavors refuse files by."""
    report = Report()
    refusal = keys.go_refusal(cert.public_key())
    if refusal:
        report.error(refusal[0], "", refusal[1])
    check_structure(cert, "", report)
    return [safe_text(f"{p.code.tag} {p.detail}") for p in report.errors]


def fields(node: Node, inputs: Inputs, now: dt.datetime) -> list[tuple[str, str]]:
    """(label, value) lines describing one certificate; nothing secret, nothing that moves the cursor."""
    cert, item = node.item.cert, node.item
    issuers = _issuers(inputs)
    info = certinfo.describe(cert)
    usages = ", ".join(certinfo.usages(cert)) or "none"
    if item.is_ca:
        length = _path_length(cert)
        usages = f"CA (path length {'unlimited' if length is None else length}); {usages}"
    status = time_status(cert, now, inputs.window)
    left = {
        TimeStatus.VALID: f"{clock.residual(cert.not_valid_after_utc - now)} left",
        TimeStatus.RENEW: f"RENEW, {clock.residual(cert.not_valid_after_utc - now)} left",
        TimeStatus.EXPIRED: f"EXPIRED {clock.residual(now - cert.not_valid_after_utc)} ago",
        TimeStatus.NOT_YET_VALID: (
            f"NOT YET VALID, starts in {clock.residual(cert.not_valid_before_utc - now)}"
        ),
    }[status]
    issuer = "self-signed" if issuers.is_self_signed(item) else safe_text(str(info["issuer"]))
    if node.parent is None and issuer != "self-signed":
        note = missing_issuer(item, issuers)
        issuer += " (not given: its signature is not checked)" if note == "not given" else f" ({note})"
    out = [("subject", safe_text(str(info["subject"]))), ("issuer", issuer)]
    if info["sans"]:
        out.append(("SANs", safe_text(", ".join(info["sans"]))))
    out += [
        ("usages", usages),
        ("key type", facts.public_key_algorithm(cert)),
        ("signature", facts.signature_algorithm(cert)),
        (
            "validity",
            f"{clock.human(cert.not_valid_before_utc)} -> {clock.human(cert.not_valid_after_utc)} ({left})",
        ),
        ("serial", facts.serial_text(cert.serial_number)),
        ("sha256", str(info["sha256_fingerprint"])),
        ("chain", _chain_text(node, issuers)),
        *_rotation_fields(node, inputs),
    ]
    out += [("problem", text) for text in go_refusals(cert)]
    for key in inputs.keys:
        if item.fingerprint in key.matches:
            out.append(("key", f"{safe_text(key.file)} (private key, not shown)"))
    return out


def render(inputs: Inputs, now: dt.datetime) -> str:
    """The certificates as trees of who signed whom, then the key files, anything else found, and the
    certificates that could not be used (each with its code)."""
    lines: list[str] = []
    issuers = _issuers(inputs)

    def walk(node: Node, prefix: str, connector: str, child_prefix: str) -> None:
        lines.append(f"{prefix}{connector}{_title(node)}")
        body = child_prefix + ("│   " if node.children else "    ")
        for label, value in fields(node, inputs, now):
            # Only lists (SANs) are wrapped: a path or a date is never split.
            wrapped = textwrap.wrap(value, WRAP, break_on_hyphens=False) if label == "SANs" else [value]
            lines.append(f"{body}{label:<9} {wrapped[0]}")
            lines.extend(f"{body}{'':<9} {more}" for more in wrapped[1:])
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            walk(child, child_prefix, "└── " if last else "├── ", child_prefix + ("    " if last else "│   "))

    roots = build_tree(inputs.certificates, issuers)
    complete = [r for r in roots if issuers.is_self_signed(r.item)]
    orphans: dict[tuple[str, str], list[Node]] = {}  # issuer not given: what it signed under its name
    for root in roots:
        if root not in complete:
            why = missing_issuer(root.item, issuers)
            orphans.setdefault((root.item.cert.issuer.rfc4514_string(), why), []).append(root)
    for root in complete:
        if lines:
            lines.append("")
        walk(root, "", "", "")
    for (issuer, why), children in orphans.items():
        if lines:
            lines.append("")
        lines.append(f"{safe_text(issuer or '(empty name)')}  (the issuer: {why})")
        for i, child in enumerate(children):
            last = i == len(children) - 1
            walk(child, "", "└── " if last else "├── ", "    " if last else "│   ")
    if inputs.rotations:
        lines += ["", "CA rotation (docs/ca-rotation.md):"]
        for rotation in inputs.rotations:
            also = f" (also {', '.join(rotation.names[1:])})" if rotation.names[1:] else ""
            lines.append(f"  {safe_text(rotation.name)}{safe_text(also)}: {rotation.describe()}")
    if inputs.keys:
        lines += ["", "Private keys (never shown):"]
        by_fp = {c.fingerprint: c for c in inputs.certificates}
        for key in inputs.keys:
            what = (
                "encrypted private key (not shown)"
                if key.encrypted
                else f"private key (not shown), {key.algorithm}"
            )
            if key.matches:
                owners = ", ".join(
                    f"{_cn(by_fp[fp].cert.subject)} ({safe_text(by_fp[fp].name)})" for fp in key.matches
                )
                what += f"; belongs to {owners}"
            elif not key.encrypted:
                what += "; matches none of the certificates given"
            if key.problem:
                what += f"; {key.problem.split(';', 1)[0]}"
            lines.append(f"  {safe_text(key.file)}: {what}")
    if inputs.other:
        lines += ["", "Other PEM blocks (not inspected):"]
        lines += [f"  {safe_text(file)}: {label}" for file, label in inputs.other]
    if inputs.bad:
        lines += ["", "Unusable certificates (not inspected):"]
        lines += [f"  {safe_text(b.name)}: {b.text}" for b in inputs.bad]
    return "\n".join(lines) + "\n"


def to_json(inputs: Inputs, now: dt.datetime) -> dict:
    """The same facts as the tree, for machines."""
    issuers = _issuers(inputs)
    roots = build_tree(inputs.certificates, issuers)
    nodes: list[Node] = []
    pending = list(reversed(roots))
    while pending:  # depth first, in order, without recursion
        node = pending.pop()
        nodes.append(node)
        pending.extend(reversed(node.children))
    certificates = []
    for node in nodes:
        cert, item = node.item.cert, node.item
        root = node.chain[-1].item
        info = certinfo.describe(cert)
        info["serial"] = facts.serial_text(cert.serial_number)
        info["subject"] = safe_text(str(info["subject"]))
        info["issuer"] = safe_text(str(info["issuer"]))
        info["sans"] = [safe_text(n) for n in info["sans"]]
        certificates.append(
            {
                "name": _cn(cert.subject),
                "files": [safe_text(f) for f in _files(item)],
                **info,
                "usages": certinfo.usages(cert),
                "public_key_algorithm": facts.public_key_algorithm(cert),
                "signature_algorithm": facts.signature_algorithm(cert),
                "path_length": _path_length(cert) if item.is_ca else None,
                "status": str(time_status(cert, now, inputs.window)),
                "self_signed": issuers.is_self_signed(item),
                "signed_by": node.parent.item.fingerprint if node.parent else None,
                "chain": [n.item.fingerprint for n in node.chain],
                "chain_complete": issuers.is_self_signed(root),
                "private_keys": [safe_text(k.file) for k in inputs.keys if item.fingerprint in k.matches],
                "problems": go_refusals(cert),
                **_rotation_json(node, inputs),
            }
        )
    problem = issuers.problem()
    return {
        "now": clock.rfc3339(now),
        "window_hours": inputs.window.total_seconds() / 3600,
        "certificates": certificates,
        "private_keys": [
            {
                "file": safe_text(k.file),
                "algorithm": k.algorithm,
                "encrypted": k.encrypted,
                "matches": k.matches,
                **({"problem": k.problem} if k.problem else {}),
            }
            for k in inputs.keys
        ],
        "rotations": [r.to_json() for r in inputs.rotations],
        "other_blocks": [{"file": safe_text(file), "type": label} for file, label in inputs.other],
        "unusable": [{"file": safe_text(b.name), "problem": b.text} for b in inputs.bad],
        "problems": inputs.problems + ([problem.render()] if problem else []),
    }


def _rotation_json(node: Node, inputs: Inputs) -> dict:
    """`rotation` of a CA in a rotation ({ca, part, phase}); `chains_to` of a leaf ({ca, part,
    fingerprint}, the CA that signed it); neither where the input said nothing of a CA role."""
    if node.item.is_ca:
        rotation = rotation_of(inputs, node.item.fingerprint)
        if rotation is None:
            return {}
        part = rotation.part(node.item.fingerprint)
        return {"rotation": {"ca": rotation.name, "part": part, "phase": rotation.phase}}
    found = chains_to(node, inputs)
    if found is None:
        return {}
    rotation, part = found
    return {
        "chains_to": {
            "ca": rotation.name,
            "part": part,
            "fingerprint": node.parent.item.fingerprint,
            "phase": rotation.phase,
        }
    }


@guarded("tfext inspect")
def main(argv: list[str]) -> int:
    """`tfext inspect`: parse `argv`, print the result, return the exit status."""
    parser = Parser(
        prog="tfext inspect",
        description="Show each certificate's chain, subject, SANs, usages, public-key and signature "
        "algorithms, validity and serial (as openssl prints them) as a tree of who signed whom. Private keys "
        "are recognised and matched to their certificate, never shown.",
        epilog="FILE may be a PEM or DER file, a directory (read recursively), a terraform.tfstate or "
        "`terraform output -json` file, or - for stdin (PEM, `terraform state pull` or "
        "`terraform output -json`). "
        f"Set {clock.ENV_NOW}=2030-01-01T00:00:00Z to judge validity at another time. "
        "Exit status: 0 when every file was read, 1 when one could not be, 2 on wrong usage.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="certificate or key files, or directories")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the tree")
    parser.add_argument(
        "--key-dir",
        metavar="KEY_DIR",
        help="the root module's key_dir, where a `terraform state pull` in key-directory mode has its keys",
    )
    parser.add_argument(
        "--window-hours",
        type=float,
        default=DEFAULT_RENEWAL_WINDOW_HOURS,
        help=f"renewal window in hours: a certificate expiring within it is `renew` "
        f"(default {DEFAULT_RENEWAL_WINDOW_HOURS})",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.window_hours <= 1e7:  # also refuses nan and inf
        parser.error("--window-hours must not be negative (and at most 10000000)")
    try:
        now = clock.now()
    except ValueError as exc:
        say(parser.prog, str(exc))
        return 2
    if args.key_dir is not None:
        refuse_content_as_path(args.key_dir, "--key-dir")
    stdin = read_stdin(MAX_JSON_BYTES) if "-" in args.files else None
    inputs = read_inputs(args.files, stdin, dt.timedelta(hours=args.window_hours), args.key_dir)
    if args.json:
        sys.stdout.write(json.dumps(to_json(inputs, now), indent=2) + "\n")
    elif inputs.certificates or inputs.keys or inputs.other or inputs.bad:
        sys.stdout.write(render(inputs, now))
    problem = _issuers(inputs).problem()
    for text in inputs.problems + ([problem.render()] if problem else []):
        say(parser.prog, text)
    if not (inputs.certificates or inputs.keys or inputs.other or inputs.problems or inputs.bad):
        say(parser.prog, f"no files found in {' '.join(echo_path(f) for f in args.files)}")
        return 1
    return 1 if inputs.problems or inputs.bad or problem else 0
