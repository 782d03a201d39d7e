"""Reading a Terraform state: one implementation, which every tool calls.

A state is `terraform state pull` (or a `terraform.tfstate`), format version 4. An attribute is held as it
is, or wrapped as `{"value": ..., "type": ...}` (a `terraform_data`'s `input` and `triggers_replace`);
`attribute` reads either.

Each issuing stage (terraform/modules/tls/internal/issue, e.g. `module.kube_certs.module.certs`,
`module.etcd_certs.module.member["etcd-0"]`) keeps each certificate slot (`apiserver`, `kubelet:w1`) in
one of three layouts, and `records` gives one `Record` per stage and slot, whichever it is:

- `terraform_data.kept[slot]` (tfext 0.5 on; its marker `issued[slot]` holds the plan's time as a number,
  `YYYYMMDDhhmmss`, or `{at = ...}` in 0.5's pre-releases): the certificate, its facts and its key, all
  elements of `triggers_replace` (`marker`, `at`, `cert_pem`, `info`, and as the mode and slot have them
  `key_alg`, `key_pem`, `key_file`, `key_path`, `key_sha256`, `csr`: a missing one reads as ""; `role`
  only in records written before 0.5.0, else told by the stage's slots). `info` is the facts as a JSON
  list in `tfext.certinfo.FACT_ORDER` (an object before 0.5.0): `tfext.certinfo.facts_of` reads both.
  When its `cert_pem` is "", the certificate was healed and `terraform_data.healed[slot]`, of the same
  shape, holds it.
- `terraform_data.sealed[slot]` (tfext 0.2 and 0.3; the marker holds a bare timestamp): `input` holds
  `role`, `cert_pem`, `info`, `key_alg`, and `triggers_replace` holds `marker` and the key as `key`.
- `terraform_data.captured[slot]` alone (tfext 0.1, whose `input` also holds `key_pem`; or a capture of a
  later release whose seal was never made: then without its key).

`FIELDS` is where each layout keeps each of a Record's fields, read by `records` and by the tools that
change a record (`tfext move-keys`, through `holder_of`). A slot with a marker and none of these has a
Record without a certificate. Key text is kept only for the tools that write it or match it to its
certificate; no Record shows it in a repr.

In key-directory mode (a module with `key_dir`, or a state moved by `tfext move-keys`) a `kept`, `healed`
or `sealed` record holds no key text: `key_file` names the key's file relative to the module's key
directory and `key_sha256` its hash; a CA key the module was given as a file is `key_path` (absolute).
A certificate issued for a CSR has `csr` set and no key at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

MARKER = "issued"
KEPT, HEALED, SEALED, CAPTURED = "kept", "healed", "sealed", "captured"
RECORDS = (MARKER, KEPT, HEALED, SEALED, CAPTURED)  # `terraform_data` names of an issuing stage
NONE = "none"  # the layout of a slot that has a marker and no record
KINDS = ("etcd", "kube", "identity", "ingress")  # what a record's role starts with


def is_state(document: object) -> bool:
    """A Terraform state (format 4, or one that looks like it), as opposed to `terraform output -json`."""
    return (
        isinstance(document, dict) and isinstance(document.get("resources"), list) and "version" in document
    )


def instances(state: dict) -> Iterator[tuple[dict, dict]]:
    """(resource, instance) of every resource instance that has attributes; anything else is skipped."""
    resources = state.get("resources")
    for resource in resources if isinstance(resources, list) else []:
        if not isinstance(resource, dict):
            continue
        found = resource.get("instances")
        for instance in found if isinstance(found, list) else []:
            if isinstance(instance, dict) and isinstance(instance.get("attributes"), dict):
                yield resource, instance


def attribute(instance: dict, name: str) -> object:
    """An attribute's value, unwrapped from `{"value": ..., "type": ...}` where it is wrapped."""
    value = instance.get("attributes", {}).get(name)
    return value.get("value") if isinstance(value, dict) and "value" in value else value


def module_of(resource: dict) -> str:
    """`module.kube_certs.module.certs`, or "" for the root module."""
    module = resource.get("module")
    return module if isinstance(module, str) else ""


def address(resource: dict, instance: dict | None = None) -> str:
    """`module.kube_certs.module.certs.terraform_data.kept["apiserver"]`, `data.external.verify`, ..."""
    module = module_of(resource)
    prefix = f"{module}." if module else ""
    mode = "data." if resource.get("mode") == "data" else ""
    key = instance.get("index_key") if instance else None
    return f"{prefix}{mode}{resource.get('type')}.{resource.get('name')}{index(key)}"


def index(key: object) -> str:
    """`["apiserver"]`, `[0]`, or "" (no index), for a name in a message."""
    if key is None:
        return ""
    return f'["{key}"]' if isinstance(key, str) else f"[{key}]"


def record_address(module: str, name: str, slot: str) -> str:
    """The address of `terraform_data.<name>[slot]` of the issuing stage `module`, quoted as Terraform
    reads it (for a command: `-replace=...`)."""
    return f"{module + '.' if module else ''}terraform_data.{name}[{json.dumps(slot)}]"


def module_calls(module: str) -> list[str]:
    """`module.etcd_certs.module.certs[0]` -> `["etcd_certs", "certs[0]"]`."""
    return re.findall(r"module\.([^.\[]+(?:\[[^\]]*\])?)", module or "")


def owner(module: str) -> str:
    """The module call a flavor's stage belongs to: `module.kube_certs.module.certs` -> `kube_certs`,
    `module.etcd_certs.module.ca["0"]` -> `etcd_certs`, `module.a.module.kube.module.given` -> `a.kube`."""
    calls = module_calls(module)
    return ".".join(calls[:-1] if len(calls) > 1 else calls)


def kind_of_slots(slots: set[str]) -> str | None:
    """The module that has these slots (a tfext 0.1 state names no role)."""
    if "peer" in slots:
        return "etcd"
    if slots & {"apiserver", "kubelet"}:
        return "kube"
    if "ingress" in slots:
        return "ingress"
    if slots & {"server", "client"}:
        return "identity"
    return None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


@dataclass
class Record:
    """One certificate slot of one issuing stage, as the state holds it now."""

    module: str  # the issuing stage, `module.kube_certs.module.node["w1"]`
    slot: str  # `kubelet:w1`
    layout: str  # KEPT, HEALED, SEALED, CAPTURED, or NONE (a marker alone)
    where: str  # the address of the record holding the certificate (the marker's when there is none)
    role: str = ""  # `kube/kubelet:w1`; "" in a tfext 0.1 capture
    cert_pem: str = field(default="", repr=False)
    key_pem: str = field(default="", repr=False)  # never printed
    info: str = field(default="", repr=False)  # the facts as the program answered them (certinfo.facts_of)
    key_alg: str = ""
    marked: bool = False  # the stage has this slot's marker
    kind: str = ""  # etcd, kube, identity or ingress: the role's, or told by the stage's slots
    # Key-directory mode (issue 21): the key is a file, and the record holds its name instead of its text.
    key_file: str = ""  # relative to the module's key_dir: `kube/apiserver.<serial hex>.key`
    key_sha256: str = ""  # the SHA-256 of that file's bytes when it was written
    key_path: str = ""  # a given key's own file (absolute): a CA key the module signs with
    csr: str = field(default="", repr=False)  # set when the certificate was issued for a CSR's key

    @property
    def key_in_file(self) -> bool:
        """Whether the key is a file (a key directory's, or a given one) rather than text in the record."""
        return bool(self.key_file or self.key_path)

    @property
    def marker(self) -> str:
        """The address whose `-replace` issues this certificate again."""
        return record_address(self.module, MARKER, self.slot)

    @property
    def owner(self) -> str:
        return owner(self.module)


# Where each layout keeps what a Record holds: field => (attribute, element of it). `kept` and `healed` keep
# everything in `triggers_replace`; `sealed` the certificate in `input` and the key in `triggers_replace`
# (as `key`); a tfext 0.1 `captured`, everything in `input`.
_IN_KEPT = ("role", "cert_pem", "key_pem", "info", "key_alg", "key_file", "key_sha256", "key_path", "csr")
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    KEPT: {name: ("triggers_replace", name) for name in _IN_KEPT},
    HEALED: {name: ("triggers_replace", name) for name in _IN_KEPT},
    SEALED: {
        **{name: ("input", name) for name in ("role", "cert_pem", "info", "key_alg")},
        "key_pem": ("triggers_replace", "key"),
        # moved into a key directory by `tfext move-keys` (the module reads them so too)
        "key_file": ("triggers_replace", "key_file"),
        "key_sha256": ("triggers_replace", "key_sha256"),
    },
    CAPTURED: {name: ("input", name) for name in ("cert_pem", "key_pem", "info", "key_alg")},
}


def holder_of(instance: dict, layout: str, name: str) -> tuple[dict, str]:
    """(the map, its element) where a record of `layout` keeps field `name` (`FIELDS`); the map is {} when
    the record has none. The map is the state's own: a tool that moves a key changes it in place."""
    attribute_name, element = FIELDS[layout][name]
    value = attribute(instance, attribute_name)
    return (value if isinstance(value, dict) else {}), element


def _record(module: str, slot: str, layout: str, resource: dict, instance: dict) -> Record:
    values = {}
    for name in FIELDS[layout]:
        holder, element = holder_of(instance, layout, name)
        values[name] = _text(holder.get(element))
    return Record(module, slot, layout, address(resource, instance), **values)


def is_record(resource: dict, instance: dict) -> bool:
    """Whether this is one of an issuing stage's records (`terraform_data.kept["apiserver"]`, ...)."""
    return (
        resource.get("mode") == "managed"
        and resource.get("type") == "terraform_data"
        and resource.get("name") in RECORDS
        and isinstance(instance.get("index_key"), str)
    )


def records(state: dict) -> list[Record]:
    """One Record per issuing stage and slot, in the order the state lists them: the certificate and key
    the stage's `certs` output holds (terraform/modules/tls/internal/issue, `local.records`)."""
    found: dict[tuple[str, str], dict[str, tuple[dict, dict]]] = {}
    for resource, instance in instances(state):
        if is_record(resource, instance):
            place = (module_of(resource), instance["index_key"])
            found.setdefault(place, {})[resource["name"]] = (resource, instance)
    out = []
    for (module, slot), held in found.items():
        marker = held.get(MARKER)
        stamp = attribute(marker[1], "input") if marker else None
        # A bare timestamp: tfext 0.4 or earlier (0.5 holds a number, its pre-releases `{at = ...}`).
        legacy = marker is not None and isinstance(stamp, str)
        if KEPT in held and not (legacy and (SEALED in held or CAPTURED in held)):
            record = _record(module, slot, KEPT, *held[KEPT])
            if not record.cert_pem and HEALED in held:
                record = _record(module, slot, HEALED, *held[HEALED])
        elif SEALED in held:
            record = _record(module, slot, SEALED, *held[SEALED])
        elif CAPTURED in held:
            record = _record(module, slot, CAPTURED, *held[CAPTURED])
        elif HEALED in held:  # its `kept` removed by hand: what the stage would heal it with
            record = _record(module, slot, HEALED, *held[HEALED])
        else:
            record = Record(module, slot, NONE, record_address(module, MARKER, slot))
        record.marked = marker is not None
        out.append(record)
    slots_of: dict[str, set[str]] = {}
    for record in out:
        slots_of.setdefault(record.owner, set()).add(record.slot)
    for record in out:
        named = record.role.split("/", 1)[0]
        record.kind = named if named in KINDS else kind_of_slots(slots_of[record.owner]) or ""
        if not record.role and record.layout in (KEPT, HEALED) and record.kind:
            record.role = f"{record.kind}/{record.slot}"  # 0.5.0 on: told by the stage, not written
    return out


@dataclass
class Verified:
    """The result of a user-provided flavor's `data.external.verify`: certificates and key file paths."""

    module: str
    kind: str  # told by its program (`kube-user-provided`)
    result: dict = field(repr=False)
    where: str

    @property
    def owner(self) -> str:
        return owner(self.module)


def verified(state: dict) -> list[Verified]:
    """Every `data.external.verify` of a known program (`issue` and `heal` results repeat what the records
    hold, so they are not read)."""
    out = []
    for resource, instance in instances(state):
        if resource.get("mode") != "data" or resource.get("type") != "external":
            continue
        if resource.get("name") != "verify":
            continue
        program = attribute(instance, "program")
        last = program[-1] if isinstance(program, list) and program else ""
        result = attribute(instance, "result")
        if isinstance(result, dict):
            kind = str(last).split("-", 1)[0]
            out.append(Verified(module_of(resource), kind, result, address(resource, instance)))
    return out


def rotation_settings(state: dict) -> dict[str, dict]:
    """owner => its CA rotation's record (`{generation, phase, at}` of internal/rotation's `setting`)."""
    out = {}
    for resource, instance in instances(state):
        module = module_of(resource)
        if resource.get("type") == "terraform_data" and resource.get("name") == "setting":
            given = attribute(instance, "input")
            if module.endswith(".module.rotation") and isinstance(given, dict):
                out[owner(module)] = given
    return out
