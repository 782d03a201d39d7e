"""Which certificate is which: tfext's certificates found by role (`kube/apiserver`) in any root module.

The human commands read one of three shapes, all of the same applied root module:

- flat outputs, `<prefix>_<module output>`, as the tectonic example names them
  (`kube_certs_apiserver_cert_pem`); the prefix is anything, the module is told by its outputs;
- module-object outputs, `output "kube" { value = module.kube_certs }`, at any depth (a `for_each` of
  modules too): an object holding a module's outputs;
- `terraform state pull`, outputs or none: the resources our modules keep, read by `tfext.tools.state`.
  Generating flavors keep each certificate with its key and role in `terraform_data.kept[slot]` (or
  `healed[slot]`), and up to tfext 0.4 in `sealed[slot]` (`captured[slot]` in tfext 0.1); user-provided
  flavors keep `<slot>_cert_pem` and `<slot>_key_path` in `data.external.verify`, whose program names
  the module.

`CONTRACT` is the per-module output contract (tfext/catalog.py, which writes every outputs.tf): one table
for every shape. identity and ingress are given their CA (the kube CA): where a state does not hold it,
it is the CA that signed their leaves. Key text is kept only to be written (write-assets) or matched to
its certificate (inspect); it is never printed, and the objects holding it never show it in a repr.

In key-directory mode (issue 21) a root module outputs no key: a module's `key_files` output (certificate
name => its key's file) says where each key is, wherever a key output is absent or empty, and a state's
records name each key's file relative to the module's key directory, which `locate(..., key_dir)` joins
(`tfext.tools.keyfiles` reads them, bounded, and checks each record's hash).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes

from tfext import catalog
from tfext.errors import Code, Problem, TfextError, echo, echo_path
from tfext.nodes import is_node_name
from tfext.tools import state
from tfext.tools.bundles import Candidate, Rotation, resolve
from tfext.tools.pairs import first_certificate
from tfext.tools.sources import (
    MAX_FILE_BYTES,
    RANK_CAPTURE,
    RANK_PASSED_ON,
    Found,
    InputError,
    Issuers,
    Reading,
)

# module => slot => (certificate output, key output or None), and module => per-node role => (certificate
# map output, key map output), outputs keyed by member or node name (docs/per-node.md): the output contract
# of every flavor, from the catalogue that writes each outputs.tf. The role of one entry of a map is
# `<module>/<role>:<name>` (`kube/kubelet:w1`), as the slot `terraform_data.kept["kubelet:w1"]` and the
# result keys `kubelet:w1_cert_pem` name it.
CONTRACT: dict[str, dict[str, tuple[str, str | None]]] = catalog.output_contract()
PER_NODE: dict[str, dict[str, tuple[str, str]]] = catalog.per_node_contract()
MAP_OUTPUTS = {output for roles in PER_NODE.values() for pair in roles.values() for output in pair}
KINDS = tuple(CONTRACT)
# Outputs of a CA rotation (docs/ca-rotation.md): the signing CA alone (the head of the CA bundle, so not a
# certificate of its own) and `ca_rotation` = { generation, phase, signing_ca, trusted_cas }.
SIGNING_CA = {"kube": "signing_ca_cert_pem", "etcd": "etcd_signing_ca_crt_pem"}
ROTATION_OUTPUT = "ca_rotation"
GIVEN_CA = ("identity", "ingress")  # modules whose `ca` is the kube CA, given to them
ROLES = tuple(f"{kind}/{slot}" for kind, slots in CONTRACT.items() for slot in slots) + tuple(
    f"{kind}/{role}:<{'member' if kind == 'etcd' else 'node'}>"
    for kind, roles in PER_NODE.items()
    for role in roles
)
MAX_OBJECT_DEPTH = 4  # module objects nested in outputs: `{"tls": {"a": module.kube_certs}}` is depth 2

EXPECTED = (
    "expected `terraform output -json` or `terraform state pull` of a root module calling the tfext modules: "
    'module outputs (`output "kube" { value = module.kube_certs }`), flat outputs named '
    "<prefix>_<module output> (kube_certs_apiserver_cert_pem, etcd_certs_etcd_server_crt_pem, ...), "
    "or the state's terraform_data.kept (or .sealed) and data.external.verify, outputs or none. Roles: "
    + ", ".join(ROLES)
)


@dataclass
class Located:
    """One certificate of a role, where it was found, and how to reach its key."""

    kind: str  # etcd, kube, identity, ingress
    slot: str  # ca, apiserver, ...
    instance: str  # the module call (`kube_certs`), output (`kube`) or flat prefix it belongs to
    cert_pem: str = field(repr=False)
    where: str  # an output or resource address, for messages
    key_pem: str | None = field(default=None, repr=False)  # never printed
    key_path: str | None = None  # a user-provided key file, named by the state
    name: str = ""  # `kube/apiserver`, or `kube/apiserver@kube_b` when two modules have one
    found: list[Found] = field(default_factory=list, repr=False)
    rotation: dict | None = None  # a CA's `ca_rotation` output (or, from a state, its generation)
    ordered: bool = True  # a CA bundle lists the signing CA first (outputs do; a state's seals do not)
    pairs: list[tuple[str, str | None]] = field(default_factory=list, repr=False)  # (cert, key) per CA seal
    seals: list[Located] = field(default_factory=list, repr=False)  # each CA record, where its key is
    # The input says there is a key for this certificate (a state's record of an issuing stage, an output
    # or key file named for it), so a missing one is a loss, not a certificate given alone.
    key_expected: bool = False
    heal: bool = False  # held by an issuing stage's record: `tfext heal` re-issues it
    # Where `key_path` comes from: "given" (the key file a user-provided flavor was given, named by its
    # data source), "file" (a key directory's file, or one a module's `key_files` output names).
    key_source: str = ""
    key_sha256: str = ""  # the hash a state's record holds for its key file (checked when read)
    # A state's record whose key is a key directory's file, read without --key-dir: the file's name.
    key_dir_needed: str = ""
    csr: bool = False  # issued for a CSR: the key is the node's own, never ours

    @property
    def role(self) -> str:
        return f"{self.kind}/{self.slot}"

    @property
    def given(self) -> bool:
        """A CA this module was given (identity's and ingress's kube CA), not one it owns."""
        return self.slot == "ca" and self.kind in GIVEN_CA

    @property
    def has_key(self) -> bool:
        return bool(self.key_pem or self.key_path)

    @property
    def key_elsewhere(self) -> bool:
        """Its key is not in the input and is not lost: a file not read here, or a CSR's (the node's)."""
        return bool(self.key_dir_needed or self.csr)


def per_node_slot(kind: str, slot: object) -> bool:
    """`kubelet:w1` of kube, `peer:etcd-0` of etcd: a per-node role of the module, for a valid node name."""
    if not isinstance(slot, str) or ":" not in slot:
        return False
    role, _, node = slot.partition(":")
    return role in PER_NODE.get(kind, {}) and is_node_name(node)


def is_slot(kind: str, slot: object) -> bool:
    """A slot of module `kind`: one of its contract's, or one of its per-node roles'."""
    return kind in CONTRACT and (slot in CONTRACT[kind] or per_node_slot(kind, slot))


# --- flat outputs and module objects --------------------------------------------------------------------


def _contract_outputs(kind: str) -> dict[str, tuple[str, bool]]:
    """output name => (slot or per-node role, is_key) of one module."""
    out = {}
    for slot, (cert, key) in [*CONTRACT[kind].items(), *PER_NODE.get(kind, {}).items()]:
        out[cert] = (slot, False)
        if key:
            out[key] = (slot, True)
    return out


OUTPUTS = {kind: _contract_outputs(kind) for kind in KINDS}


def kind_of_object(value: dict) -> str | None:
    """The module whose outputs an object holds (most of its certificate outputs present), or None."""
    best, score = None, 0
    for kind in KINDS:
        names = set(value) & set(OUTPUTS[kind])
        has_cert = any(not OUTPUTS[kind][n][1] for n in names)
        if has_cert and len(names) > score:
            best, score = kind, len(names)
    return best


def _from_values(
    kind: str,
    instance: str,
    values: dict[str, object],
    where: str,
    rotation: object = None,
    key_files: object = None,
    facts: object = None,
) -> list[Located]:
    """`values` by contract output name => one Located per slot with a certificate, then one per entry of
    each per-node map output (`node_kubelet_client_cert_pem = {w1 = ...}` is slot `kubelet:w1`); the CA
    gets the module's `ca_rotation` output. Where a key output is absent or empty, the module's
    `key_files` output (certificate name => its key's file) says where the key is, and its `certificates`
    output (`facts`) which were issued for a CSR (`key_from_csr`: the key is the node's own)."""
    out = []
    facts = facts if isinstance(facts, dict) else {}

    def _csr(found: Located) -> None:
        entry = facts.get(found.slot)
        if isinstance(entry, dict) and entry.get("key_from_csr") is True and not found.has_key:
            found.csr, found.key_expected = True, False

    for slot, (cert_output, key_output) in CONTRACT[kind].items():
        key = values.get(key_output) if key_output else None
        cert_where, key_where = f"{where}{cert_output}", f"{where}{key_output}"
        found = _located(kind, slot, instance, values.get(cert_output), key, cert_where, key_where)
        if found is not None:
            found.rotation = rotation if slot == "ca" and isinstance(rotation, dict) else None
            _key_file_of(found, key_files)
            _csr(found)
            out.append(found)
    for role, (cert_output, key_output) in PER_NODE.get(kind, {}).items():
        certs, keys = values.get(cert_output), values.get(key_output)
        certs = certs if isinstance(certs, dict) else {}
        absent = "" if isinstance(keys, dict) else None  # a key map without this entry has lost its key
        keys = keys if isinstance(keys, dict) else {}
        for node in sorted({*certs, *keys}):
            if not is_node_name(node):
                raise InputError.of(
                    Code.NODE_LIST_INVALID,
                    f"{where}{cert_output if node in certs else key_output}",
                    f"{echo(node)} is not a node name (lowercase letters, digits, '-' and '.'), so it names "
                    "no file or role; nothing was written",
                )
            entry = f'["{node}"]'
            cert_where, key_where = f"{where}{cert_output}{entry}", f"{where}{key_output}{entry}"
            slot = f"{role}:{node}"
            key = keys.get(node, absent)
            found = _located(kind, slot, instance, certs.get(node), key, cert_where, key_where)
            if found is not None:
                _key_file_of(found, key_files)
                _csr(found)
                out.append(found)
    return out


KEY_FILES = "key_files"  # every module's output: certificate name => the file its key is in, if any


def _key_file_of(found: Located, key_files: object) -> None:
    """Take the key of `found` from the file the module's `key_files` output names for it, when the key
    output is absent or empty (a root module that keeps keys out of its outputs, issue 21)."""
    if found.key_pem or not isinstance(key_files, dict):
        return
    path = key_files.get(found.slot)
    if not isinstance(path, str) or not path.strip():
        return
    found.key_path, found.key_source, found.key_expected = path, "file", True


def _located(
    kind: str, slot: str, instance: str, cert: object, key: object, cert_where: str, key_where: str
) -> Located | None:
    """One certificate and its key as outputs hold them, or None where the module fills no certificate
    (etcd's server in external mode, a member's in a map of ""). A key without its certificate, which no
    tool could place or check, is refused: nothing is lost."""
    if not isinstance(cert, str) or not cert.strip():
        if isinstance(key, str) and key.strip():
            raise InputError.of(
                Code.BAD_JSON_SHAPE,
                key_where,
                f"a private key without its certificate ({cert_where}); nothing was written",
            )
        return None
    key_pem = key if isinstance(key, str) and key else None
    # A CA's key output is empty where the module was given its CA without the key (kube/user-provided
    # without ca_key_pem_path): only a leaf's empty key output is a key lost.
    expected = isinstance(key, str) and slot != "ca"
    return Located(kind, slot, instance, cert, cert_where, key_pem=key_pem, key_expected=expected)


def _signing_output(name: str) -> bool:
    """`kube_certs_signing_ca_cert_pem`, `etcd_certs_etcd_signing_ca_crt_pem`: the head of a CA bundle
    output again, not a certificate of a role (nor a module called `kube_certs_signing`)."""
    return any(name == output or name.endswith("_" + output) for output in SIGNING_CA.values())


def from_flat(values: dict[str, object]) -> list[Located]:
    """Outputs named `<prefix>_<module output>`: grouped by prefix and module, largest groups first, so
    `kube_certs_ca_cert_pem` is the kube module's CA (a group of seven) and never an ingress module called
    `kube_certs_ca` (a group of one); every output belongs to one group at most."""
    # strings, and the per-node maps (`kube_certs_node_kubelet_client_cert_pem = {w1 = ...}`)
    strings = {
        k: v
        for k, v in values.items()
        if (isinstance(v, str) and not _signing_output(k)) or isinstance(v, dict)
    }
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for name, value in strings.items():
        for kind in KINDS:
            for output in OUTPUTS[kind]:
                if (output in MAP_OUTPUTS) is not isinstance(value, dict):
                    continue  # `..._node_kubelet_client_cert_pem` is no identity `client_cert_pem`
                if name == output or name.endswith("_" + output):
                    prefix = name[: -len(output)].removesuffix("_")
                    groups.setdefault((prefix, kind), {})[output] = name
    order = sorted(groups.items(), key=lambda g: (-len(g[1]), len(g[0][0]), KINDS.index(g[0][1])))
    claimed: set[str] = set()
    out: list[Located] = []
    for (prefix, kind), outputs in order:
        free = {output: name for output, name in outputs.items() if name not in claimed}
        if not any(not OUTPUTS[kind][o][1] for o in free):
            continue  # no certificate of its own left
        claimed.update(free.values())
        chosen = {output: strings[name] for output, name in free.items()}
        where = f"output {prefix}_" if prefix else "output "
        rotation = values.get(f"{prefix}_{ROTATION_OUTPUT}" if prefix else ROTATION_OUTPUT)
        key_files = values.get(f"{prefix}_{KEY_FILES}" if prefix else KEY_FILES)
        facts = values.get(f"{prefix}_certificates" if prefix else "certificates")
        out += _from_values(kind, prefix or kind, chosen, where, rotation, key_files, facts)
    return out


def module_objects(values: dict[str, object]) -> Iterator[tuple[str, str, dict]]:
    """(path, module, object) of each module object anywhere in the outputs (`{"kube": {"ca_cert_pem": ...,
    ...}}`, at most MAX_OBJECT_DEPTH deep), in document order; the path names it (`tls.a`)."""
    stack: list[tuple[tuple[str, ...], object]] = [((k,), v) for k, v in reversed(list(values.items()))]
    while stack:
        path, value = stack.pop()
        if not isinstance(value, dict):
            continue
        kind = kind_of_object(value)
        if kind:
            yield ".".join(path), kind, value
        elif len(path) < MAX_OBJECT_DEPTH:
            stack.extend(((*path, str(k)), v) for k, v in reversed(list(value.items())))


def from_objects(values: dict[str, object]) -> list[Located]:
    """Module objects anywhere in the outputs (`{"kube": {"ca_cert_pem": ..., ...}}`), named by path."""
    out: list[Located] = []
    for instance, kind, value in module_objects(values):
        facts = value.get("certificates")
        rotation, key_files = value.get(ROTATION_OUTPUT), value.get(KEY_FILES)
        out += _from_values(kind, instance, value, f"output {instance}.", rotation, key_files, facts)
    return out


def from_outputs(outputs: dict[str, object]) -> list[Located]:
    """`terraform output -json` (values wrapped in `{"value": ...}` or not): module objects, then flat."""
    wrapped = outputs and all(isinstance(item, dict) and "value" in item for item in outputs.values())
    values = {name: item["value"] for name, item in outputs.items()} if wrapped else outputs
    return from_objects(values) + from_flat(values)


# --- the state ------------------------------------------------------------------------------------------


def from_state(document: dict, key_dir: str | None = None) -> list[Located]:
    """Our modules' certificates in a state's resources (its outputs are not needed), read by
    `tfext.tools.state`: each issuing stage's records (whatever their layout), and each user-provided
    flavor's `data.external.verify`. A record whose key is a key directory's file (`key_file`) is read
    from `key_dir` (`--key-dir`, the root module's `key_dir`); without it, its key is not read and the
    tools say where it is."""
    held: dict[tuple[str, str], Located] = {}
    seals: dict[tuple[str, str], list[tuple[str, Located]]] = {}  # every CA record: one per CA generation
    for record in state.records(document):
        if "CERTIFICATE" not in record.cert_pem or not is_slot(record.kind, record.slot):
            continue
        place = (record.owner, record.slot)
        item = Located(
            record.kind,
            record.slot,
            record.owner,
            record.cert_pem,
            record.where,
            key_pem=record.key_pem or None,
            key_expected=True,  # an issuing stage keeps every certificate with its key
            heal=True,
        )
        _key_of_record(item, record, key_dir)
        held[place] = item
        seals.setdefault(place, []).append((record.module, item))
    for (owner, slot), stages in seals.items():
        if slot == "ca" and len(stages) > 1:  # a CA rotation: one CA stage per generation
            stages.sort(key=lambda s: s[0])
            first = stages[0][1]
            both = Located(first.kind, slot, owner, "".join(s[1].cert_pem for s in stages), first.where)
            both.where = ", ".join(s[1].where for s in stages)
            both.ordered = False  # which one signs is told by the leaves (tfext.tools.bundles)
            both.pairs = [(s[1].cert_pem, s[1].key_pem) for s in stages]
            both.seals = [s[1] for s in stages]
            both.key_expected = both.heal = True
            held[(owner, slot)] = both
    settings = state.rotation_settings(document)
    for (owner, slot), item in held.items():
        generation = settings.get(owner, {}).get("generation")
        if slot == "ca" and generation is not None:
            item.rotation = {"generation": generation}  # the phase is read off the certificates
    return list(held.values()) + _verified(document)


def _key_of_record(item: Located, record: state.Record, key_dir: str | None) -> None:
    """Where a record's key is when the record holds no key text: a key directory's file, a given key
    file, or nowhere of ours (a certificate issued for a CSR)."""
    if item.key_pem:
        return
    if record.key_file:
        if key_dir is None:
            item.key_dir_needed = record.key_file
        else:
            from tfext.tools.keyfiles import in_key_dir

            item.key_path = in_key_dir(key_dir, record.key_file, record.where)
            item.key_source, item.key_sha256 = "file", record.key_sha256
    elif record.key_path:
        item.key_path, item.key_source = record.key_path, "file"
    elif record.csr:
        item.csr, item.key_expected = True, False


def _verified(document: dict) -> list[Located]:
    """The certificates a user-provided flavor passed through, and the key files it names."""
    out = []
    for verify in state.verified(document):
        kind, result = verify.kind, verify.result
        if kind not in CONTRACT:
            continue
        per_node = sorted(
            k.removesuffix("_cert_pem")
            for k in result
            if k.endswith("_cert_pem") and per_node_slot(kind, k.removesuffix("_cert_pem"))
        )
        for slot_name in [*CONTRACT[kind], *per_node]:
            cert = result.get(f"{slot_name}_cert_pem")
            if not isinstance(cert, str) or "CERTIFICATE" not in cert:
                continue
            path = result.get(f"{slot_name}_key_path")
            out.append(
                Located(
                    kind,
                    slot_name,
                    verify.owner,
                    cert,
                    f"{verify.where}.result.{slot_name}_cert_pem",
                    key_path=path if isinstance(path, str) and path else None,
                    key_expected=slot_name != "ca",  # a given CA may come without its key
                    key_source="given" if isinstance(path, str) and path else "",
                )
            )
    return out


# --- any input ------------------------------------------------------------------------------------------


is_state = state.is_state
kind_of_slots = state.kind_of_slots  # also what `certificates` output's modules are (tfext summary)


def locate(document: object, key_dir: str | None = None) -> list[Located]:
    """Every certificate of a role in a state or `terraform output -json` (or one output's value), once per
    role and certificate, each named (`kube/apiserver`, or `kube/apiserver@<instance>` when two modules have
    the same role). `key_dir` is where a state's key-directory records have their key files."""
    if not isinstance(document, dict):
        return []
    if is_state(document):
        outputs = document.get("outputs")
        items = from_state(document, key_dir) + from_outputs(outputs if isinstance(outputs, dict) else {})
    else:  # `terraform output -json`, or one output's value (`terraform output -json kube`)
        items = from_outputs(document)
    unique: dict[tuple[str, frozenset[str]], Located] = {}
    for item in items:
        kept = unique.setdefault((item.role, _blocks_of(item.cert_pem)), item)
        if kept is not item:  # the same certificates twice: a seal and an output; keep what each knows
            if isinstance(item.rotation, dict) and (kept.rotation is None or "phase" in item.rotation):
                kept.rotation = item.rotation
            if item.ordered and not kept.ordered:
                kept.cert_pem, kept.ordered = item.cert_pem, True
            if not kept.key_pem and item.key_pem:
                kept.key_pem, kept.key_path, kept.key_dir_needed = item.key_pem, None, ""
            elif not kept.has_key and item.key_path:
                kept.key_path, kept.key_source, kept.key_sha256 = (
                    item.key_path,
                    item.key_source,
                    item.key_sha256,
                )
                kept.key_dir_needed = ""
            kept.key_expected = kept.key_expected or item.key_expected
            kept.heal = kept.heal or item.heal
            kept.pairs = kept.pairs or item.pairs
            kept.seals = kept.seals or item.seals
    items = list(unique.values())
    per_role: dict[str, int] = {}
    for item in items:
        per_role[item.role] = per_role.get(item.role, 0) + 1
    for item in items:
        item.name = item.role if per_role[item.role] == 1 else f"{item.role}@{item.instance}"
    return items


def _blocks_of(pem: str) -> frozenset[str]:
    """The certificate blocks of a PEM text, whatever their order and spacing."""
    return frozenset(" ".join(b.split()) for b in pem.split("-----END CERTIFICATE-----") if b.strip())


def parse(items: list[Located], reading: Reading) -> list[Rotation]:
    """Parse each located certificate into `reading` (bounded like every certificate the tools read),
    under its role's name; then give identity and ingress the CA that signed their leaves where the input
    does not hold it (a state of generating flavors keeps only the kube module's copy); then resolve the
    phase of each CA role (`resolve_rotations`) and return it."""
    start = len(reading.found)
    for item in items:
        before = len(reading.found)
        bad = len(reading.bad)
        reading.certificates_in(item.cert_pem.encode("utf-8", "replace"), item.name, _rank(item))
        item.found = reading.found[before:]
        if not item.found and len(reading.bad) == bad:
            reading.problems.append(
                Problem(Code.NOT_PEM, item.where, f"holds no certificate for {item.name}")
            )
    cas = [f for item in items if item.slot == "ca" for f in item.found]
    by_fingerprint = {f.fingerprint: item for item in items if item.slot == "ca" for f in item.found}
    issuers = Issuers(cas)
    have = {(item.kind, item.instance) for item in items if item.slot == "ca"}
    for item in list(items):
        if item.kind not in GIVEN_CA or (item.kind, item.instance) in have or not item.found:
            continue
        ca = issuers.issuer_of(item.found[0])
        owner = by_fingerprint.get(ca.fingerprint) if ca else None
        if owner is None:
            continue
        name = f"{item.kind}/ca" if item.name == item.role else f"{item.kind}/ca@{item.instance}"
        given = Located(item.kind, "ca", item.instance, owner.cert_pem, f"the CA that signed {item.name}")
        given.name = name
        # the whole bundle of the CA that signed them: identity and ingress trust what kube trusts
        given.found = [Found(name, f.cert, RANK_PASSED_ON) for f in owner.found]
        reading.found += given.found
        items.append(given)
        have.add((item.kind, item.instance))
    return resolve_rotations(items, reading, start)


def resolve_rotations(items: list[Located], reading: Reading, start: int = 0) -> list[Rotation]:
    """The phase of each CA role (tfext.tools.bundles), its CAs renamed as the `certificates` output names
    them (`kube/ca` signs, `kube/ca_incoming` / `kube/ca_outgoing` is the other CA of a rotation), a
    state's two CA seals ordered signing first, with the signing CA's key. Only this input's certificates
    (`reading.found[start:]`) are looked at, so that many inputs cost no more than one each."""
    candidates = [
        Candidate(item.name, item.found, item.ordered, item.rotation, item.given)
        for item in items
        if item.slot == "ca" and item.found and all(f.is_ca for f in item.found)
    ]
    if not candidates:
        return []
    mine = reading.found[start:]
    rotations, problems = resolve(candidates, mine, Issuers(mine))
    reading.problems += problems
    by_name = {r_name: rotation for rotation in rotations for r_name in rotation.names}
    for item in items:
        rotation = by_name.get(item.name) if item.slot == "ca" else None
        if rotation is None:
            continue
        role, _, instance = item.name.partition("@")
        at = f"@{instance}" if instance else ""
        for found in item.found:
            part = rotation.part(found.fingerprint)
            found.name = item.name if part == "signing" else f"{role}_{part}{at}"
        # a state's seals, one certificate each, in the order parsed: the bundle as the outputs give it
        seals = _by_fingerprint(item.pairs)
        item.found.sort(key=lambda f: rotation.part(f.fingerprint) != "signing")
        if seals and all(f.fingerprint in seals for f in item.found):
            if not item.ordered and len(item.found) > 1:
                item.cert_pem = "".join(seals[f.fingerprint][0] for f in item.found)
            # the signing CA's key, also where an output gave the bundle in order but not the key (etcd)
            item.key_pem = item.key_pem or seals[item.found[0].fingerprint][1]
            if not item.has_key:  # a key directory's: the signing CA record's key file
                _key_location_of_seal(item, item.found[0].fingerprint)
        if not item.ordered and len(item.found) > 1:
            item.ordered = True
    return rotations


def _key_location_of_seal(item: Located, fingerprint: str) -> None:
    """Where the key of the CA record whose certificate has `fingerprint` is, as `item`'s key."""
    for seal in item.seals:
        cert = first_certificate(seal.cert_pem)
        if cert is not None and cert.fingerprint(hashes.SHA256()).hex() == fingerprint:
            item.key_path, item.key_source, item.key_sha256 = seal.key_path, seal.key_source, seal.key_sha256
            item.key_dir_needed, item.csr = seal.key_dir_needed, seal.csr
            return


def _by_fingerprint(pairs: list[tuple[str, str | None]]) -> dict[str, tuple[str, str | None]]:
    """A state's CA records, (certificate, key) by the certificate's SHA-256 fingerprint."""
    out = {}
    for cert_pem, key_pem in pairs:
        cert = first_certificate(cert_pem)
        if cert is not None:
            out[cert.fingerprint(hashes.SHA256()).hex()] = (cert_pem, key_pem)
    return out


def _rank(item: Located) -> int:
    return RANK_PASSED_ON if item.given else RANK_CAPTURE


def key_text(item: Located, reading: Reading) -> str | None:
    """The key of `item`: its text, or the key file the input names (a user-provided flavor's, a key
    directory's, one a `key_files` output names), read within the tools' bounds (a regular file, at most
    1 MiB) and checked against the hash its record holds. None when there is none or it cannot be read
    (recorded: a key file missing or changed is E074, each naming the file and never the key). A key in
    a key directory not given is not read (`key_dir_problem` says so once for all)."""
    if item.key_pem:
        return item.key_pem
    if item.key_dir_needed or not item.key_path:
        return None
    if item.key_source == "file":
        from tfext.tools.keyfiles import read_key_file

        if not reading.count_file():
            return None
        try:
            return read_key_file(item.key_path, item.name, item.key_sha256)
        except TfextError as exc:
            reading.problems += exc.problems
            return None
    data = reading.read(item.key_path, MAX_FILE_BYTES)
    if data is None:
        return None
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        reading.problems.append(
            Problem(Code.NOT_PEM, echo_path(item.key_path), f"the key file of {item.name} is not PEM text")
        )
        return None


def key_dir_problem(items: list[Located]) -> Problem | None:
    """E076, once: a state's records keep these certificates' keys in a key directory, and no --key-dir
    says where it is. Names the certificates and their files (never a key)."""
    from tfext.tools.keyfiles import shown

    needed = [item for item in items if item.key_dir_needed]
    if not needed:
        return None
    names = ", ".join(f"{item.name} ({shown(item.key_dir_needed)})" for item in needed[:3])
    more = f" and {len(needed) - 3} more" if len(needed) > 3 else ""
    return Problem(
        Code.KEYS_ABSENT,
        "input",
        f"the private keys of {len(needed)} certificates are in a key directory, and the state holds only "
        f"their files' names: {names}{more}. Pass --key-dir DIR, the root module's key_dir (a relative one "
        "from the root module's directory, where Terraform reads it)",
    )


def nothing_found(where: str) -> Problem:
    """E070: the input holds no certificate of a role; says what was expected and how to get it."""
    return Problem(Code.NO_ROLES, where, f"no certificate of a tfext module found; {EXPECTED}")
