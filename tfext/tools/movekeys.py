"""`tfext move-keys`: the private keys of an existing workspace, moved from Terraform's state into a key
directory (issue 21), or back, keeping every certificate and serial.

    terraform state pull | tfext move-keys --to-dir keys > moved.tfstate
    terraform state push moved.tfstate
        writes each key a record holds (`terraform_data.kept`/`healed`, the `sealed` of earlier releases)
        to its own new file in the key directory, `<kind>/<slot>.<serial>.key` (0600, never overwriting one:
        tfext.keydir, as the modules write a new key), and leaves in the record only the file's name and
        SHA-256, as a module with `key_dir` records a key it generated. The `data.external` instances of
        the tfext modules are dropped (their query or result may hold keys; Terraform reads them again
        when it needs them). Then set `key_dir` on each generating module: the next plan is quiet.

    terraform state pull | tfext move-keys --to-state --key-dir keys > moved.tfstate
        the reverse: each key read back from its file (its SHA-256 checked against the record's), put in
        its record, the file's name and hash cleared. Then remove `key_dir` from the modules.

Nothing is written to stdout, and no key file is left behind, when anything would be lost: keys that a
tfext 0.1 state still keeps in `terraform_data.captured` (TFEXT-E052), root outputs that hold keys
(TFEXT-E077: they are the root module's, and only removing them from it empties them), a record whose key
is not its certificate's (TFEXT-E030, or the code of what is wrong: `tfext heal` names it), a key anywhere
else in the state (TFEXT-E078), or a key file missing or changed (TFEXT-E074). The state's serial is
bumped, so `terraform state push` takes it, and its lineage is kept, so it takes no other workspace's.
Keys never reach stderr; stdout carries the state, which holds keys only after `--to-state`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import sys
from dataclasses import dataclass

from tfext.errors import Code, Problem, TfextError, echo_path
from tfext.tools import state as states
from tfext.tools.cli import Parser, guarded, refuse_content_as_path, say
from tfext.tools.keyfiles import in_key_dir, read_key_file, sha256_text, shown
from tfext.tools.pairs import HEAL, Verdict, first_certificate, judge
from tfext.tools.statefile import read_state

PROG = "tfext move-keys"
KEY_MARK = "PRIVATE KEY"  # in every PEM private key's header, whatever its format
# Where each record keeps its key text (`tfext.tools.state.FIELDS`): `kept`/`healed` as `key_pem`, tfext
# 0.2-0.4's `sealed` as `key`, each in `triggers_replace`.
KEY_FIELD = {
    layout: states.FIELDS[layout]["key_pem"][1] for layout in (states.KEPT, states.HEALED, states.SEALED)
}


@dataclass
class Holder:
    """One `kept`, `healed` or `sealed` instance of an issuing stage: where its key is or goes."""

    resource: dict
    instance: dict
    kind: str  # etcd, kube, identity, ingress

    @property
    def record(self) -> str:
        return self.resource["name"]

    @property
    def slot(self) -> str:
        return self.instance["index_key"]

    @property
    def address(self) -> str:
        return states.address(self.resource, self.instance)

    @property
    def role(self) -> str:
        return f"{self.kind}/{self.slot}"

    @property
    def triggers(self) -> dict:
        """The record's `triggers_replace` map (its key, or its key file's name and hash), to read and change
        in place."""
        return states.holder_of(self.instance, self.record, "key_pem")[0]

    @property
    def key_field(self) -> str:
        return KEY_FIELD[self.record]

    def text(self, name: str) -> str:
        """A field of the record (`tfext.tools.state.FIELDS`) as text, "" when it holds none."""
        holder, element = states.holder_of(self.instance, self.record, name)
        value = holder.get(element)
        return value if isinstance(value, str) else ""

    @property
    def key(self) -> str:
        return self.text("key_pem")

    @property
    def key_file(self) -> str:
        return self.text("key_file")

    @property
    def cert_pem(self) -> str:
        return self.text("cert_pem")


def holders(state: dict) -> list[Holder]:
    """Every `kept`, `healed` and `sealed` instance of the state's issuing stages, with its module's kind
    (from its role; a record of tfext 0.2 without one, from its stage's slots)."""
    kinds = {(r.module, r.slot): r.kind for r in states.records(state)}
    out = []
    for resource, instance in states.instances(state):
        if not states.is_record(resource, instance) or resource.get("name") not in KEY_FIELD:
            continue
        module, slot = states.module_of(resource), instance["index_key"]
        holder = Holder(resource, instance, "")
        named = holder.text("role").split("/", 1)[0]
        holder.kind = named if named in states.KINDS else kinds.get((module, slot), "")
        out.append(holder)
    return out


def _holds_key(value: object) -> bool:
    return KEY_MARK in json.dumps(value)


def refusals_before_moving(state: dict, moving: list[Holder]) -> list[Problem]:
    """What must be done before keys can leave the state, each naming where, never what."""
    problems = []
    for resource, instance in states.instances(state):
        if states.is_record(resource, instance) and resource.get("name") == states.CAPTURED:
            held = [states.attribute(instance, a) for a in ("input", "output")]
            if any(isinstance(h, dict) and h.get("key_pem") for h in held):
                problems.append(
                    Problem(
                        Code.LEGACY_KEYS_IN_STATE,
                        states.address(resource, instance),
                        "holds a private key as tfext 0.1 kept it: run `terraform apply` with these modules "
                        "(it seals each key), then `terraform state pull | tfext migrate-state | terraform "
                        "state push -` (docs/upgrading.md), then move the keys",
                    )
                )
    outputs = state.get("outputs")
    held = sorted(
        name
        for name, item in (outputs if isinstance(outputs, dict) else {}).items()
        if isinstance(item, dict) and _holds_key(item.get("value"))
    )
    if held:
        problems.append(
            Problem(
                Code.KEYS_IN_OUTPUTS,
                "outputs",
                f"the root outputs {', '.join(held)} hold private keys, and a root output is the root "
                "module's to change, not the key directory's: remove them from the root module (or leave "
                "the keys out of them, as terraform/examples/key-dir does: "
                '`{ for name, value in module.kube_certs : name => value if !endswith(name, "key_pem") }`), '
                "run `terraform apply`, then move the keys",
            )
        )
    for holder in moving:
        verdict = judge(holder.cert_pem, holder.key)
        if holder.kind not in states.KINDS:  # no role and no slot a module has: no file name to give it
            problems.append(
                Problem(
                    Code.BAD_JSON_SHAPE,
                    holder.address,
                    "names no module (etcd, kube, identity, ingress) by its role or its stage's slots, so "
                    "its key has no key-directory file name; nothing was moved",
                )
            )
        elif not verdict.whole:
            problems.append(_not_its_key(holder, holder.address, verdict, moved=True))
    return problems


def _not_its_key(holder: Holder, where: str, verdict: Verdict, *, moved: bool) -> Problem:
    """A record whose key is not its certificate's (`judge`), or is missing: which, and how to heal it."""
    detail = verdict.detail + (": moved, it would be a key file of no certificate" if moved else "")
    return Problem(verdict.code or Code.INTERNAL, f"{holder.role} ({where})", f"{detail}; {HEAL}")


def our_data_sources(state: dict) -> list[dict]:
    """The `data.external` resources of the tfext modules (`issue`, `heal`, `verify`): their query or
    result may hold keys, and Terraform reads them again whenever it needs them."""
    from tfext import catalog

    programs = {program for module in catalog.MODULES.values() for program in module.programs}
    out = []
    for resource in state.get("resources") or []:
        if (
            not isinstance(resource, dict)
            or resource.get("mode") != "data"
            or resource.get("type") != "external"
        ):
            continue
        instances = resource.get("instances")
        called = [states.attribute(i, "program") for i in instances or [] if isinstance(i, dict)]
        if states.module_of(resource) and any(
            isinstance(p, list) and p and p[-1] in programs for p in called
        ):
            out.append(resource)
    return out


def drop_data_sources(state: dict) -> int:
    dropped = our_data_sources(state)
    state["resources"] = [r for r in state.get("resources") or [] if not any(r is d for d in dropped)]
    return len(dropped)


def leftover_keys(state: dict) -> list[str]:
    """Addresses (and root outputs) that still hold key text: what the move could not place."""
    out = []
    for resource in state.get("resources") or []:
        for instance in (resource.get("instances") or []) if isinstance(resource, dict) else []:
            if isinstance(instance, dict) and _holds_key(instance):
                out.append(states.address(resource, instance))
    outputs = state.get("outputs")
    for name, item in (outputs if isinstance(outputs, dict) else {}).items():
        if _holds_key(item):
            out.append(f"output.{name}")
    return out


@dataclass
class Planned:
    """One key file to write: the holders whose key it is."""

    name: str  # relative to the key directory
    digest: str
    key: str
    kind: str
    slot: str
    serial: int


def to_dir(state: dict, key_dir: str) -> tuple[int, int, int]:
    """Move every key into `key_dir`; returns (keys moved, files written, data sources dropped). Raises
    TfextError (nothing written, or what was written removed again) while anything would be lost."""
    from tfext.keydir import key_file_name

    every = holders(state)
    moving = [h for h in every if h.key.strip()]
    problems = refusals_before_moving(state, moving)
    if problems:
        raise TfextError(problems)
    planned: dict[str, Planned] = {}
    names: dict[int, Planned] = {}  # index in `every` => its key's file
    for index, holder in enumerate(every):
        if not holder.key.strip():
            continue
        cert = first_certificate(holder.cert_pem)  # judged whole above: it parses
        serial = cert.serial_number
        name = key_file_name(holder.kind, holder.slot, serial)
        item = planned.setdefault(
            name, Planned(name, sha256_text(holder.key), holder.key, holder.kind, holder.slot, serial)
        )
        if item.digest != sha256_text(holder.key):  # two records, one serial, two keys: never by our modules
            raise TfextError.of(
                Code.KEY_MISMATCH,
                f"{holder.role} ({holder.address})",
                f"another record has a certificate of the same serial with another key; {HEAL}",
            )
        names[index] = item
    moved = copy.deepcopy(state)  # the state after the move, checked before any file is written
    after = holders(moved)  # the same instances, in the same order
    for index, item in names.items():
        after[index].triggers.update(
            {after[index].key_field: "", "key_file": item.name, "key_sha256": item.digest}
        )
    dropped = drop_data_sources(moved)
    left = leftover_keys(moved)
    if left:
        raise TfextError.of(
            Code.KEY_UNMOVABLE,
            ", ".join(left[:5]) + (", ..." if len(left) > 5 else ""),
            "holds a private key that is no tfext record's, so it cannot be moved and would stay in the "
            "state: remove it from the root module (or the state), apply, then move the keys",
        )
    written = write_files(key_dir, list(planned.values()))
    state.clear()
    state.update(moved)
    if names or dropped:
        state["serial"] = int(state.get("serial", 0)) + 1
    return len(names), written, dropped


def write_files(key_dir: str, planned: list[Planned]) -> int:
    """Write each planned key file (tfext.keydir: 0600, never overwriting); one that is there already
    with the same bytes (a move back and forth) is kept. On any failure the files written by this run
    are removed again, and the error raised."""
    from tfext.keydir import write_key

    created: list[str] = []
    try:
        for item in planned:
            path = os.path.join(key_dir, item.name)
            if os.path.lexists(path) and not os.path.islink(path):
                with contextlib.suppress(TfextError):
                    read_key_file(path, f"{item.kind}/{item.slot}", item.digest)
                    continue  # the same key, moved out before
            name, digest = write_key(key_dir, item.kind, item.slot, item.serial, item.key)
            created.append(os.path.join(key_dir, name))
            if (name, digest) != (item.name, item.digest):  # what the modules would read back
                raise TfextError.of(Code.INTERNAL, shown(path), "was written under another name or hash")
    except BaseException:
        for path in created:
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    return len(created)


def to_state(state: dict, key_dir: str) -> tuple[int, int]:
    """Put every key a record names by file in `key_dir` back into its record; returns (keys moved,
    data sources dropped). Raises TfextError, changing nothing, when a file is missing or changed or its
    key is not the certificate's."""
    moving = [h for h in holders(state) if h.key_file and not h.key.strip()]
    problems, keys = [], {}
    for holder in moving:
        try:
            path = in_key_dir(key_dir, holder.key_file, holder.address)
            key = read_key_file(path, holder.role, str(holder.triggers.get("key_sha256", "")))
        except TfextError as exc:
            problems += exc.problems
            continue
        verdict = judge(holder.cert_pem, key)
        if not verdict.whole:
            problems.append(_not_its_key(holder, shown(path), verdict, moved=False))
            continue
        keys[id(holder)] = key
    if problems:
        raise TfextError(problems)
    for holder in moving:
        triggers = holder.triggers
        triggers[holder.key_field] = keys[id(holder)]
        if holder.record == states.SEALED:  # as tfext 0.2-0.4 made it: the marker and the key alone
            triggers.pop("key_file", None)
            triggers.pop("key_sha256", None)
        else:
            triggers.update({"key_file": "", "key_sha256": ""})
        _keep_sensitive(holder)
    dropped = drop_data_sources(state)
    if moving or dropped:
        state["serial"] = int(state.get("serial", 0)) + 1
    return len(moving), dropped


def _keep_sensitive(holder: Holder) -> None:
    """The key element stays marked sensitive, as Terraform marks it (`sensitive(...)` in the module)."""
    path = [
        {"type": "get_attr", "value": "triggers_replace"},
        {"type": "index", "value": {"value": holder.key_field, "type": "string"}},
    ]
    marks = holder.instance.setdefault("sensitive_attributes", [])
    if isinstance(marks, list) and path not in marks:
        marks.append(path)


@guarded(PROG)
def main(argv: list[str]) -> int:
    parser = Parser(
        prog=PROG,
        description="Move the private keys of `terraform state pull` (stdin) into a key directory, or back "
        "into the state; the new state is printed on stdout for `terraform state push`. Every certificate "
        "and serial is kept.",
        epilog="terraform state pull | tfext move-keys --to-dir keys > moved.tfstate && terraform state "
        'push moved.tfstate; then set key_dir = "keys" on each generating module. Back: --to-state --key-dir '
        "keys, then remove key_dir. A relative DIR is taken from the directory tfext runs in: run it in "
        "the root module's, where Terraform reads key_dir from (docs/day-two.md, docs/upgrading.md).",
    )
    way = parser.add_mutually_exclusive_group(required=True)
    way.add_argument("--to-dir", metavar="DIR", help="the key directory (it must exist, mode 0700)")
    way.add_argument("--to-state", action="store_true", help="put the keys back into the state")
    parser.add_argument("--key-dir", metavar="DIR", help="with --to-state: the key directory the keys are in")
    args = parser.parse_args(argv)
    if args.to_state and not args.key_dir:
        parser.error("--to-state needs --key-dir DIR, the key directory the state's records name files in")
    if args.to_dir is not None and args.key_dir is not None:
        parser.error("--key-dir goes with --to-state; --to-dir names the key directory itself")
    directory = args.to_dir if args.to_dir is not None else args.key_dir
    refuse_content_as_path(directory, "--to-dir" if args.to_dir is not None else "--key-dir")
    state = read_state()
    if args.to_dir is not None:
        moved, written, dropped = to_dir(state, os.path.abspath(directory))
        summary = (
            f"moved {moved} keys into {echo_path(directory)} ({written} files written), dropped {dropped} "
            f"data sources of the tfext modules; the state's serial is now {state.get('serial')}. Push it "
            f'(`terraform state push`), then set key_dir = "{echo_path(directory)}" on each generating module'
        )
    else:
        moved, dropped = to_state(state, directory)
        summary = (
            f"moved {moved} keys into the state, dropped {dropped} data sources of the tfext modules; the "
            f"state's serial is now {state.get('serial')}. Push it (`terraform state push`), then remove "
            "key_dir from the modules; the key files stay where they are"
        )
    json.dump(state, sys.stdout, indent=2)
    sys.stdout.write("\n")
    say(PROG, summary)
    return 0
