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

import contextlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization

from tfext import certinfo

MAX_FILE_BYTES = 1 << 20  # certificates are small; a bigger file is not one of ours
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.S)
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


class InputError(Exception):
    """An input the tools cannot use; the message says which and why (never any file content)."""


@dataclass
class Found:
    """One certificate, under its best name, with every other name it was found under."""

    name: str
    cert: x509.Certificate
    rank: int = RANK_OTHER
    aliases: list[str] = field(default_factory=list)

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()

    @property
    def is_ca(self) -> bool:
        return certinfo.is_ca(self.cert)


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
    """Every PEM block in `data`, in order."""
    return [PemBlock(m.group(1).decode("ascii"), m.group(0)) for m in PEM_BLOCK.finditer(data)]


def certificates_in(data: bytes, der: bool = False) -> list[x509.Certificate]:
    """The certificates in PEM text (with `der`, also a lone DER certificate). Raises InputError when a
    CERTIFICATE block is damaged. Other blocks (keys, requests) are left alone."""
    blocks = pem_blocks(data)
    certs = []
    for block in blocks:
        if block.is_certificate:
            try:
                certs.append(x509.load_pem_x509_certificate(block.data.replace(b"X509 CERT", b"CERT")))
            except ValueError:
                raise InputError("a CERTIFICATE block cannot be parsed (damaged or truncated)") from None
    if der and not blocks and data[:1] == b"\x30":
        with contextlib.suppress(ValueError):
            certs.append(x509.load_der_x509_certificate(data))
    return certs


def read_bounded(path: Path) -> bytes:
    """A file's bytes, refusing files larger than any certificate bundle; raises InputError."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB, not a certificate file")
    return data


def _numbered(name: str, certs: list[x509.Certificate]) -> Iterator[tuple[str, x509.Certificate]]:
    if len(certs) == 1:
        yield name, certs[0]
    else:
        yield from ((f"{name}[{i}]", c) for i, c in enumerate(certs))


# --- directories ----------------------------------------------------------------------------------------


def from_directory(directory: Path) -> list[Found]:
    """Certificates in every file under `directory` (recursively; hidden files are skipped), named by their
    path relative to it. Files without certificates, such as keys, are skipped."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts):
            continue  # e.g. write-assets' temporary files
        data = read_bounded(path)
        try:
            certs = certificates_in(data, der=path.suffix.lower() in DER_SUFFIXES)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        found += [Found(name, c, RANK_CAPTURE) for name, c in _numbered(relative.as_posix(), certs)]
    return found


# --- Terraform state and outputs ------------------------------------------------------------------------


def _strings(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string in a JSON value with its path of keys and indexes."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, str(index)))


def _json_certificates(value: object) -> Iterator[tuple[tuple[str, ...], list[x509.Certificate]]]:
    for path, text in _strings(value):
        if "-----BEGIN" in text and "CERTIFICATE-----" in text:
            try:
                certs = certificates_in(text.encode("utf-8", "replace"))
            except InputError:
                continue  # a damaged value in someone else's resource is not ours to judge
            if certs:
                yield path, certs


def _module_names(module: str) -> list[str]:
    """`module.etcd_certs.module.certs[0]` -> `["etcd_certs", "certs[0]"]`."""
    return re.findall(r"module\.([^.\[]+(?:\[[^\]]*\])?)", module or "")


def _resource_address(resource: dict, instance: dict) -> str:
    prefix = f"{resource['module']}." if resource.get("module") else ""
    mode = "data." if resource.get("mode") == "data" else ""
    key = instance.get("index_key")
    index = "" if key is None else (f'["{key}"]' if isinstance(key, str) else f"[{key}]")
    return f"{prefix}{mode}{resource.get('type')}.{resource.get('name')}{index}"


def _slot_name(modules: list[str], slot: str) -> str:
    """Our modules keep certificates in `<flavor module>.module.<ca|certs|verify...>`: name them
    `<flavor module>.<slot>` (e.g. `kube_certs.apiserver`), as the `certificates` output does."""
    owner = modules[:-1] if len(modules) > 1 else modules
    return ".".join([*(re.sub(r"\[.*\]$", "", m) for m in owner), slot])


def _name_in_state(resource: dict, instance: dict, path: tuple[str, ...]) -> tuple[int, str] | None:
    """(rank, name) of a certificate at `path` in an instance's attributes; None to skip it."""
    modules = _module_names(resource.get("module", ""))
    address = _resource_address(resource, instance)
    attributes = instance.get("attributes") or {}
    if resource.get("type") == "terraform_data" and path[-1] == "cert_pem" and modules:
        if path[0] == "output":
            return None  # the same value as `input`
        key = instance.get("index_key")
        return RANK_CAPTURE, _slot_name(modules, str(key) if key is not None else path[0])
    if resource.get("mode") == "data" and path[0] == "result" and path[-1].endswith("_cert_pem"):
        slot = path[-1].removesuffix("_cert_pem")
        if not modules:
            return RANK_RESULT, f"{address}.{slot}"
        program = attributes.get("program") or [""]
        given = slot == "ca" and str(program[-1]).startswith(PASSES_CA_ON)
        return (RANK_PASSED_ON if given else RANK_RESULT), _slot_name(modules, slot)
    return RANK_OTHER, ".".join([address, *path])


def from_state(state: dict) -> list[Found]:
    """Certificates held anywhere in a Terraform state (format version 4), named after the module and
    certificate they belong to (`kube_certs.apiserver`) where that is known, else by address."""
    found: list[Found] = []
    for resource in state.get("resources") or []:
        for instance in resource.get("instances") or []:
            for path, certs in _json_certificates(instance.get("attributes") or {}):
                named = _name_in_state(resource, instance, path)
                if named:
                    found += [Found(n, c, named[0]) for n, c in _numbered(named[1], certs)]
    for output, item in (state.get("outputs") or {}).items():
        value = item.get("value") if isinstance(item, dict) else None
        for path, certs in _json_certificates(value):
            name = ".".join(["output", output, *path])
            found += [Found(n, c, RANK_OUTPUT) for n, c in _numbered(name, certs)]
    return found


def from_json(document: object) -> list[Found]:
    """Certificates in a Terraform state, in `terraform output -json`, or anywhere in other JSON."""
    if isinstance(document, dict) and isinstance(document.get("resources"), list) and "version" in document:
        return from_state(document)
    outputs = isinstance(document, dict) and document
    if outputs and all(isinstance(v, dict) and "value" in v for v in document.values()):
        document = {name: item["value"] for name, item in document.items()}  # `terraform output -json`
    found = []
    for path, certs in _json_certificates(document):
        found += [Found(n, c, RANK_OUTPUT) for n, c in _numbered(".".join(path) or "-", certs)]
    return found


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


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` issued `cert`: names match and the signature verifies with its key."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return signed_by(cert, cert)


def issuer_of(item: Found, candidates: Iterable[Found]) -> Found | None:
    """The CA among `candidates` that signed `item` (not itself), or None."""
    issuer = item.cert.issuer
    for ca in candidates:
        # Names first: cheap, and it spares a signature check per candidate.
        if (
            ca.cert.subject == issuer
            and ca.is_ca
            and ca.fingerprint != item.fingerprint
            and signed_by(item.cert, ca.cert)
        ):
            return ca
    return None


def spki_sha256(public_key: object) -> str:
    """SHA-256 of a public key's SubjectPublicKeyInfo: matches a key to its certificate."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()


def common_name(name: x509.Name) -> str:
    """The CN of a name, or its whole RFC 4514 string when it has none."""
    cns = name.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else name.rfc4514_string()
