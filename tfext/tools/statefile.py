"""`tfext heal` and `tfext migrate-state`: two repairs computed from `terraform state pull`.

    terraform state pull | tfext heal
        prints the one `terraform apply -replace=...` command that issues again every certificate whose
        issuing apply was stopped twice (TFEXT-E050), with the real resource addresses.

    terraform state pull | tfext migrate-state | terraform state push -
        drops the copies of private keys that tfext 0.1 kept in `terraform_data.captured` (where
        Terraform prints them), once `terraform apply` with the new modules has sealed each of them in
        `terraform_data.sealed` (TFEXT-E052). Nothing else in the state changes but its serial.

Both read the state on stdin (bounded like every tool's input) and never print key material.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

from tfext.errors import Code, TfextError
from tfext.tools.cli import Parser, guarded, read_stdin, say
from tfext.tools.sources import load_json

KEY_FIELD = "key_pem"


def read_state() -> dict:
    """The state piped on stdin (bounded, coded errors like every tool's input)."""
    state = load_json(read_stdin(), "stdin")
    if (
        not isinstance(state, dict)
        or state.get("version") != 4
        or not isinstance(state.get("resources"), list)
    ):
        raise TfextError.of(
            Code.BAD_JSON_SHAPE,
            "stdin",
            "not a version 4 Terraform state (`terraform state pull` writes one)",
        )
    return state


def instances(state: dict, name: str) -> Iterator[tuple[str, str, dict]]:
    """(module address, slot, instance) of every `terraform_data.<name>` of our issuing stages."""
    for resource in state["resources"]:
        if not isinstance(resource, dict):
            continue
        if resource.get("mode") != "managed" or resource.get("type") != "terraform_data":
            continue
        if resource.get("name") != name:
            continue
        for instance in resource.get("instances") or []:
            if isinstance(instance, dict) and isinstance(instance.get("index_key"), str):
                yield str(resource.get("module", "")), instance["index_key"], instance


def _value(instance: dict, attribute: str):
    value = (instance.get("attributes") or {}).get(attribute)
    return value.get("value") if isinstance(value, dict) and "value" in value else value


def address(module: str, name: str, slot: str) -> str:
    prefix = f"{module}." if module else ""
    return f"{prefix}terraform_data.{name}[{json.dumps(slot)}]"


def stuck(state: dict) -> list[str]:
    """Marker addresses of certificates that were never sealed with a certificate."""
    sealed = {(module, slot): _value(inst, "input") for module, slot, inst in instances(state, "sealed")}
    out = []
    for module, slot, _ in instances(state, "issued"):
        seal = sealed.get((module, slot))
        if not isinstance(seal, dict) or not seal.get("cert_pem"):
            out.append(address(module, "issued", slot))
    return sorted(out)


@guarded("tfext heal")
def heal_main(argv: list[str]) -> int:
    Parser(prog="tfext heal", description=__doc__.split("\n\n")[1].strip()).parse_args(argv)
    markers = stuck(read_state())
    if not markers:
        sys.stdout.write(
            "# every certificate is sealed; nothing to heal (a plain `terraform apply` finishes the rest)\n"
        )
        return 0
    sys.stdout.write("terraform apply " + " ".join(f"-replace='{m}'" for m in markers) + "\n")
    return 0


def migrate(state: dict) -> int:
    """Drop the legacy key copies from `captured` whose key is sealed; returns how many were dropped."""
    sealed = {}
    for module, slot, inst in instances(state, "sealed"):
        triggers = _value(inst, "triggers_replace")
        sealed[(module, slot)] = isinstance(triggers, dict) and bool(triggers.get("key"))
    dropped = 0
    unsealed = []
    for module, slot, inst in instances(state, "captured"):
        attributes = inst.get("attributes") or {}
        if not any(
            isinstance(_value(inst, a), dict) and KEY_FIELD in _value(inst, a) for a in ("input", "output")
        ):
            continue
        if not sealed.get((module, slot)):
            unsealed.append(address(module, "captured", slot))
            continue
        for attribute in ("input", "output"):
            holder = attributes.get(attribute)
            if isinstance(holder, dict) and isinstance(holder.get("value"), dict):
                holder["value"].pop(KEY_FIELD, None)
                kind = holder.get("type")
                if isinstance(kind, list) and len(kind) == 2 and isinstance(kind[1], dict):
                    kind[1].pop(KEY_FIELD, None)
        inst["sensitive_attributes"] = [
            p
            for p in inst.get("sensitive_attributes") or []
            if not (
                isinstance(p, list) and any(isinstance(s, dict) and s.get("value") == KEY_FIELD for s in p)
            )
        ]
        dropped += 1
    if unsealed:
        raise TfextError.of(
            Code.LEGACY_KEYS_IN_STATE,
            "stdin",
            f"{len(unsealed)} keys are not sealed yet ({', '.join(unsealed[:3])}"
            f"{', ...' if len(unsealed) > 3 else ''}): run `terraform apply` with the new modules first",
        )
    if dropped:
        state["serial"] = int(state.get("serial", 0)) + 1
    return dropped


@guarded("tfext migrate-state")
def migrate_main(argv: list[str]) -> int:
    Parser(prog="tfext migrate-state", description=__doc__.split("\n\n")[2].strip()).parse_args(argv)
    state = read_state()
    dropped = migrate(state)
    json.dump(state, sys.stdout, indent=2)
    sys.stdout.write("\n")
    say(
        "tfext migrate-state",
        f"dropped {dropped} legacy key copies; the state's serial is now {state.get('serial')}",
    )
    return 0
