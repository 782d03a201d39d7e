"""`tfext heal` and `tfext migrate-state`: two repairs computed from `terraform state pull`.

    terraform state pull | tfext heal
        prints the one `terraform apply -replace=...` command that issues again every certificate whose
        issuing apply was stopped twice (TFEXT-E050), with the real resource addresses.

    terraform state pull | tfext migrate-state | terraform state push -
        drops the copies of private keys that tfext 0.1 kept in `terraform_data.captured` (where
        Terraform prints them), once `terraform apply` with the new modules has sealed each of them in
        `terraform_data.sealed` (TFEXT-E052). Nothing else in the state changes but its serial.

Both read the state on stdin (at most 64 MiB) and never print key material.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

from tfext.errors import redact

MAX_STATE = 64 << 20
KEY_FIELD = "key_pem"


class StateError(Exception):
    """A state we cannot work on; the text is safe to print."""


def read_state(stream) -> dict:
    data = stream.buffer.read(MAX_STATE + 1) if hasattr(stream, "buffer") else stream.read(MAX_STATE + 1)
    if len(data) > MAX_STATE:
        raise StateError(f"the state on stdin is larger than {MAX_STATE >> 20} MiB")
    try:
        state = json.loads(data)
    except (ValueError, RecursionError):
        raise StateError(
            "stdin is not a Terraform state (expected the JSON of `terraform state pull`)"
        ) from None
    if (
        not isinstance(state, dict)
        or state.get("version") != 4
        or not isinstance(state.get("resources"), list)
    ):
        raise StateError("stdin is not a version 4 Terraform state (`terraform state pull` writes one)")
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


def heal_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tfext heal", description=__doc__.split("\n\n")[1].strip())
    parser.parse_args(argv)
    try:
        state = read_state(sys.stdin)
    except StateError as exc:
        sys.stderr.write(f"tfext heal: {redact(str(exc))}\n")
        return 2
    markers = stuck(state)
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
        raise StateError(
            f"{len(unsealed)} keys are not sealed yet ({', '.join(unsealed[:3])}"
            f"{', ...' if len(unsealed) > 3 else ''}): run `terraform apply` with the new modules first"
        )
    if dropped:
        state["serial"] = int(state.get("serial", 0)) + 1
    return dropped


def migrate_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tfext migrate-state", description=__doc__.split("\n\n")[2].strip())
    parser.parse_args(argv)
    try:
        state = read_state(sys.stdin)
        dropped = migrate(state)
    except StateError as exc:
        sys.stderr.write(f"tfext migrate-state: {redact(str(exc))}\n")
        return 2
    json.dump(state, sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.stderr.write(
        f"tfext migrate-state: dropped {dropped} legacy key copies; the state's serial is now "
        f"{state.get('serial')}\n"
    )
    return 0
