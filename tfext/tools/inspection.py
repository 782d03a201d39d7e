"""`tfext inspect FILE...`: what certificates are, who signed them, and what they are good for.

Each certificate is shown once (however many files hold it), under the CA that signed it, as a tree:
subject, issuer, SANs, usages, validity, serial, fingerprint, its chain and the key files that match it.
Private keys are never shown: a key file is reported as "private key (not shown)", with its algorithm and
the certificate it belongs to. `--json` gives the same facts for machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from tfext import certinfo
from tfext.tools import clock
from tfext.tools.sources import (
    RANK_CAPTURE,
    Found,
    InputError,
    certificates_in,
    common_name,
    is_self_signed,
    issuer_of,
    merge,
    pem_blocks,
    read_bounded,
    spki_sha256,
)

CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
WRAP = 96  # width of a wrapped value (SAN lists)


@dataclass
class PrivateKeyFile:
    """A private key seen in a file: its algorithm and public half only, never the key."""

    file: str
    algorithm: str
    encrypted: bool = False
    spki: str | None = None  # SHA-256 of the public key, to find its certificate
    matches: list[str] = field(default_factory=list)  # fingerprints of the certificates it belongs to


@dataclass
class Inputs:
    """Everything read from the files given."""

    certificates: list[Found] = field(default_factory=list)  # merged, one per fingerprint; names = files
    keys: list[PrivateKeyFile] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)  # (file, PEM label) not inspected
    problems: list[str] = field(default_factory=list)


def describe_private_key(file: str, data: bytes) -> PrivateKeyFile:
    """Algorithm and public-key hash of a PEM private key; the key object is dropped at once."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # "Password was not given but private key is encrypted"
        return PrivateKeyFile(file, "encrypted", encrypted=True)
    except (ValueError, UnsupportedAlgorithm):
        return PrivateKeyFile(file, "unreadable or unsupported")
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = f"RSA {key.key_size}"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = f"ECDSA {CURVES.get(key.curve.name, key.curve.name)}"
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm = "Ed25519"
    elif isinstance(key, ed448.Ed448PrivateKey):
        algorithm = "Ed448"
    else:
        algorithm = type(key).__name__
    return PrivateKeyFile(file, algorithm, spki=spki_sha256(key.public_key()))


def _expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = (p for p in path.rglob("*") if p.is_file())
            out += sorted(p for p in files if not any(s.startswith(".") for s in p.relative_to(path).parts))
        else:
            out.append(path)
    return out


def read_inputs(paths: list[str], stdin: bytes | None = None) -> Inputs:
    """Read every file (directories recursively; `-` is stdin) and sort what is in them."""
    inputs = Inputs()
    found: list[Found] = []
    for path in _expand(paths):
        name = "stdin" if str(path) == "-" else str(path)
        try:
            data = (stdin or b"") if str(path) == "-" else read_bounded(path)
            blocks = pem_blocks(data)
            certs = certificates_in(data, der=True)
        except InputError as exc:
            message = str(exc)
            inputs.problems.append(message if message.startswith(name) else f"{name}: {message}")
            continue
        found += [
            Found(name if len(certs) == 1 else f"{name}[{i}]", c, RANK_CAPTURE) for i, c in enumerate(certs)
        ]
        for block in blocks:
            if block.is_private_key:
                inputs.keys.append(describe_private_key(name, block.data))
            elif not block.is_certificate:
                inputs.other.append((name, block.label))
        if not certs and not blocks:
            inputs.problems.append(f"{name}: neither PEM nor a DER certificate")
    # One entry per certificate; every file holding it is listed.
    inputs.certificates = merge(found)
    for item in inputs.certificates:
        spki = spki_sha256(item.cert.public_key())
        for key in inputs.keys:
            if key.spki == spki:
                key.matches.append(item.fingerprint)
    return inputs


# --- the facts of one certificate -----------------------------------------------------------------------


def _files(item: Found) -> list[str]:
    return [item.name, *item.aliases]


def _path_length(cert: x509.Certificate) -> int | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    except x509.ExtensionNotFound:
        return None


def validity_status(cert: x509.Certificate, now: dt.datetime) -> str:
    """`valid`, `expired` or `not yet valid` at `now`."""
    if now >= cert.not_valid_after_utc:
        return "expired"
    if now < cert.not_valid_before_utc:
        return "not yet valid"
    return "valid"


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


def build_tree(certificates: list[Found]) -> list[Node]:
    """Roots (self-signed CAs, and certificates whose issuer was not given), each with what it signed."""
    nodes = {c.fingerprint: Node(c, None) for c in certificates}
    for node in nodes.values():
        issuer = issuer_of(node.item, certificates)
        if issuer:
            node.parent = nodes[issuer.fingerprint]
            node.parent.children.append(node)
    order = {fp: (not n.item.is_ca, common_name(n.item.cert.subject), n.item.name) for fp, n in nodes.items()}
    for node in nodes.values():
        node.children.sort(key=lambda n: order[n.item.fingerprint])
    return sorted((n for n in nodes.values() if n.parent is None), key=lambda n: order[n.item.fingerprint])


def _title(node: Node) -> str:
    cert = node.item.cert
    marker = " [CA]" if node.item.is_ca else ""
    return f"{common_name(cert.subject)}{marker}  {', '.join(_files(node.item))}"


def _chain_text(node: Node) -> str:
    names = " -> ".join(common_name(n.item.cert.subject) for n in node.chain)
    root = node.chain[-1].item.cert
    if is_self_signed(root):
        return (
            f"{names} (self-signed root)"
            if len(node.chain) > 1 or node.item.is_ca
            else f"{names} (self-signed)"
        )
    return f"{names} -> {common_name(root.issuer)} (issuer not among the inputs)"


def fields(node: Node, inputs: Inputs, now: dt.datetime) -> list[tuple[str, str]]:
    """(label, value) lines describing one certificate; nothing secret."""
    cert, item = node.item.cert, node.item
    info = certinfo.describe(cert)
    usages = ", ".join(certinfo.usages(cert)) or "none"
    if item.is_ca:
        length = _path_length(cert)
        usages = f"CA (path length {'unlimited' if length is None else length}); {usages}"
    status = validity_status(cert, now)
    left = {
        "valid": f"{clock.residual(cert.not_valid_after_utc - now)} left",
        "expired": f"EXPIRED {clock.residual(now - cert.not_valid_after_utc)} ago",
        "not yet valid": f"NOT YET VALID, starts in {clock.residual(cert.not_valid_before_utc - now)}",
    }[status]
    issuer = "self-signed" if is_self_signed(cert) else str(info["issuer"])
    if node.parent is None and issuer != "self-signed":
        issuer += " (not among the inputs)"
    out = [("subject", str(info["subject"])), ("issuer", issuer)]
    if info["sans"]:
        out.append(("SANs", ", ".join(info["sans"])))
    out += [
        ("usages", usages),
        (
            "validity",
            f"{clock.human(cert.not_valid_before_utc)} -> {clock.human(cert.not_valid_after_utc)} ({left})",
        ),
        ("serial", str(info["serial"])),
        ("sha256", str(info["sha256_fingerprint"])),
        ("chain", _chain_text(node)),
    ]
    for key in inputs.keys:
        if item.fingerprint in key.matches:
            out.append(("key", f"{key.file} (private key, not shown)"))
    return out


def render(inputs: Inputs, now: dt.datetime) -> str:
    """The certificates as trees of who signed whom, then the key files and anything else found."""
    lines: list[str] = []

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

    roots = build_tree(inputs.certificates)
    complete = [r for r in roots if is_self_signed(r.item.cert)]
    orphans: dict[str, list[Node]] = {}  # issuer not given: group what it signed under its name
    for root in roots:
        if root not in complete:
            orphans.setdefault(root.item.cert.issuer.rfc4514_string(), []).append(root)
    for root in complete:
        if lines:
            lines.append("")
        walk(root, "", "", "")
    for issuer, children in orphans.items():
        if lines:
            lines.append("")
        lines.append(f"{common_name(children[0].item.cert.issuer)}  (not among the inputs: {issuer})")
        for i, child in enumerate(children):
            last = i == len(children) - 1
            walk(child, "", "└── " if last else "├── ", "    " if last else "│   ")
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
                    f"{common_name(by_fp[fp].cert.subject)} ({by_fp[fp].name})" for fp in key.matches
                )
                what += f"; belongs to {owners}"
            elif not key.encrypted:
                what += "; matches none of the certificates given"
            lines.append(f"  {key.file}: {what}")
    if inputs.other:
        lines += ["", "Other PEM blocks (not inspected):"]
        lines += [f"  {file}: {label}" for file, label in inputs.other]
    return "\n".join(lines) + "\n"


def to_json(inputs: Inputs, now: dt.datetime) -> dict:
    """The same facts as the tree, for machines."""
    roots = build_tree(inputs.certificates)
    nodes: list[Node] = []

    def collect(node: Node) -> None:
        nodes.append(node)
        for child in node.children:
            collect(child)

    for root in roots:
        collect(root)
    certificates = []
    for node in nodes:
        cert, item = node.item.cert, node.item
        root = node.chain[-1].item.cert
        certificates.append(
            {
                "name": common_name(cert.subject),
                "files": _files(item),
                **certinfo.describe(cert),
                "usages": certinfo.usages(cert),
                "path_length": _path_length(cert) if item.is_ca else None,
                "status": validity_status(cert, now),
                "self_signed": is_self_signed(cert),
                "signed_by": node.parent.item.fingerprint if node.parent else None,
                "chain": [n.item.fingerprint for n in node.chain],
                "chain_complete": is_self_signed(root),
                "private_keys": [k.file for k in inputs.keys if item.fingerprint in k.matches],
            }
        )
    return {
        "now": clock.rfc3339(now),
        "certificates": certificates,
        "private_keys": [
            {"file": k.file, "algorithm": k.algorithm, "encrypted": k.encrypted, "matches": k.matches}
            for k in inputs.keys
        ],
        "other_blocks": [{"file": file, "type": label} for file, label in inputs.other],
        "problems": inputs.problems,
    }


def main(argv: list[str]) -> int:
    """`tfext inspect`: parse `argv`, print the result, return the exit status."""
    parser = argparse.ArgumentParser(
        prog="tfext inspect",
        description="Show each certificate's chain, subject, SANs, usages and validity as a tree of who "
        "signed whom. Private keys are recognised and matched to their certificate, never shown.",
        epilog="FILE may be a PEM or DER file, a directory (read recursively), or - for PEM on stdin. "
        f"Set {clock.ENV_NOW}=2030-01-01T00:00:00Z to judge validity at another time. "
        "Exit status: 0 when every file was read, 1 when one could not be, 2 on wrong usage.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="certificate or key files, or directories")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the tree")
    args = parser.parse_args(argv)
    try:
        now = clock.now()
    except ValueError as exc:
        sys.stderr.write(f"{parser.prog}: {exc}\n")
        return 2
    stdin = sys.stdin.buffer.read(1 << 20) if "-" in args.files else None
    inputs = read_inputs(args.files, stdin)
    if args.json:
        sys.stdout.write(json.dumps(to_json(inputs, now), indent=2) + "\n")
    elif inputs.certificates or inputs.keys or inputs.other:
        sys.stdout.write(render(inputs, now))
    for problem in inputs.problems:
        sys.stderr.write(f"{parser.prog}: {problem}\n")
    if not (inputs.certificates or inputs.keys or inputs.other or inputs.problems):
        sys.stderr.write(f"{parser.prog}: no files found in {' '.join(args.files)}\n")
        return 1
    return 1 if inputs.problems else 0
