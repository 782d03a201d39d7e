"""The one engine every module program runs: issue, adopt or verify each certificate slot.

A module is a CA slot (maybe) and leaf slots, each bound to a role profile (`tfext.programs.slots`). For
each slot the query says what to do, by which keys it carries:

- `<slot>_issued_at` (+ `plan_time`): the issue-time gate. When they are equal, this plan creates or
  replaces the slot's capture in Terraform state, so we issue (the CA slot adopts a given CA instead when
  `ca_cert_pem` or `ca_cert_path` is set). Otherwise the capture already holds the material and we answer
  with empty placeholders, without generating keys or importing `cryptography`.
- `<slot>_cert_path` (+ `<slot>_key_path`): a user-provided file, verified against the profile and the CA
  on every run, then passed through unchanged.

Result keys per slot: `<slot>_cert_pem`, `<slot>_key_pem` (a key generated in this run),
`<slot>_key_path` (instead of the text of a key read from a file: the module reads it itself, so that it
never sits unmarked in state), `<slot>_info` (the facts for the `certificates` output: a JSON object, or
with `facts_as = list` a JSON list in `tfext.certinfo.FACT_ORDER`); the CA slot also gives `ca_key_alg`.
Verified runs add `warnings` (JSON list).

The engine decides which slots to issue, adopt or verify; `material.py` does it, imported only when
there is work, and it never imports the engine back.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tfext.errors import Code, TfextError
from tfext.profiles import NODE_USER_PREFIX, Inputs
from tfext.programs.inputs import certificate_inputs, listing, options, path
from tfext.programs.slots import Module, Slot


def placeholder(slot: Slot) -> dict[str, str]:
    out = {f"{slot.name}_{part}": "" for part in ("cert_pem", "key_pem", "key_path", "info")}
    if slot.name == "ca":
        out["ca_key_alg"] = ""
    return out


def run(module: Module, query: dict[str, str], now: dt.datetime | None = None) -> dict[str, str]:
    """Answer one query for `module`."""
    plan_time = query.get("plan_time", "")
    # Parse every input even when there is nothing to issue: a typo fails the plan that introduced it.
    inputs = certificate_inputs(query, module.service_hosts)
    opts = options(query)
    slots = module.slots_for(inputs)
    check_slot_keys(module, slots, query)
    gated = [s for s in slots if f"{s.name}_issued_at" in query]
    issuing = [s for s in gated if query[f"{s.name}_issued_at"] == plan_time]
    given = [s for s in slots if f"{s.name}_cert_path" in query and s not in gated]
    if not gated:  # a run that checks files: every member or node listed needs its own
        bare = sorted({s.node.name for s in slots if s.node is not None and s not in given})
        if bare:
            raise TfextError.of(
                Code.NODE_LIST_INVALID,
                "query",
                f"{listing(bare, quoted=False)} listed, but no certificate of theirs is given, and this run "
                "issues none: a user-provided flavor reads them from member_certs_dir or node_certs_dir, "
                "and an external etcd has no CA key to sign them with (docs/per-node.md)",
            )
    for slot in given:
        needed = [f"{slot.name}_cert_path"] + ([] if slot is module.ca else [f"{slot.name}_key_path"])
        for key in needed:
            if not path(query, key):
                raise TfextError.of(Code.MISSING_KEY, f"query.{key}", "a PEM file path is required here")
    result: dict[str, str] = {}
    for slot in gated:
        result |= placeholder(slot)
    if not issuing and not given:
        return result
    if issuing and not plan_time:
        raise TfextError.of(
            Code.MISSING_KEY, "query.plan_time", "required with *_issued_at (plantimestamp())"
        )
    check_common_names(issuing, inputs)
    if module.ca in issuing and not (query.get("ca_cert_pem") or path(query, "ca_cert_path")):
        from tfext.programs.torn_state import refuse_torn_local_state

        refuse_torn_local_state(Path.cwd(), f"{module.name}/ca")

    from tfext.programs import material  # the only place that pulls in cryptography

    now = now or dt.datetime.now(dt.UTC)
    work = material.Work(module=module, query=query, inputs=inputs, opts=opts, now=now)
    result |= work.produce(issuing=issuing, given=given)
    return result


SLOT_KEY_SUFFIXES = ("_issued_at", "_cert_path", "_key_path", "_csr_path")


def check_slot_keys(module: Module, slots: tuple[Slot, ...], query: dict[str, str]) -> None:
    """A per-node key (`kubelet:worker-9_issued_at`) must name a member or node the query lists: the
    schema can only check its shape, and a key for no one would otherwise be ignored without a word."""
    prefixes = {f"{role.prefix}:" for role in module.per_node}
    known = {s.name for s in slots}
    stray = sorted(
        key
        for key in query
        if any(key.startswith(p) for p in prefixes)
        and not any(key.endswith(x) and key[: -len(x)] in known for x in SLOT_KEY_SUFFIXES)
    )
    if stray:
        raise TfextError.of(
            Code.NODE_LIST_INVALID,
            "query",
            f"{listing(stray, quoted=False)}: no such member or node in this query's members, nodes or "
            "kubelet_serving",
        )


# RFC 5280's ub-common-name: `cryptography` refuses a longer CN, and so would the program, with E090.
MAX_COMMON_NAME = 64


def check_common_names(issuing: list[Slot], inputs: Inputs) -> None:
    """A per-node CN holds the node's name (`system:node:<node>`, `<member>`), and a node name may be
    longer (253 characters) than a CN (64): refuse those nodes by name before any key is generated."""
    names = {
        slot.name: slot.profile.common_name(slot.inputs(inputs)) for slot in issuing if slot.node is not None
    }
    long = [f"{name} (CN {len(cn)} characters)" for name, cn in names.items() if len(cn) > MAX_COMMON_NAME]
    if long:
        raise TfextError.of(
            Code.NODE_LIST_INVALID,
            "query",
            f"{listing(long, quoted=False)}: a certificate's CN holds at most {MAX_COMMON_NAME} characters "
            "(RFC 5280), "
            f"and a kubelet's is system:node:<node>: node names of at most "
            f"{MAX_COMMON_NAME - len(NODE_USER_PREFIX)} characters, member names of at most "
            f"{MAX_COMMON_NAME}",
        )
