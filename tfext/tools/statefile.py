"""`tfext heal` and `tfext migrate-state`: two repairs computed from `terraform state pull`.

    terraform state pull | tfext heal
        reports, on stderr, every certificate slot whose record holds no certificate, no key, a key that is
        not a usable private key, or a key that does not belong to its certificate (stopped applies, a
        state pushed by hand), and prints on stdout the one `terraform apply -replace=...` command, with the
        real marker addresses, that issues exactly those certificates again. In key-directory mode,
        `--key-dir DIR` reads each key's file too (missing or changed: TFEXT-E074).

    terraform state pull | tfext migrate-state | terraform state push -
        drops the copies of private keys that tfext 0.1 kept in `terraform_data.captured` (where
        Terraform prints them), once `terraform apply` with the new modules has sealed each of them in
        `terraform_data.sealed` (TFEXT-E052). Nothing else in the state changes but its serial.

Both read the state on stdin (bounded like every tool's input) through `tfext.tools.state`, and never
print key material: a pair is judged by `tfext.tools.pairs`, and only its verdict is shown.
"""

from __future__ import annotations

import json
import sys

from tfext.errors import Code, Problem, TfextError
from tfext.tools import state as states
from tfext.tools.cli import Parser, guarded, read_stdin, refuse_content_as_path, say
from tfext.tools.pairs import Verdict, judge
from tfext.tools.sources import load_json

KEY_FIELD = "key_pem"


def read_state() -> dict:
    """The state piped on stdin (bounded, coded errors like every tool's input)."""
    state = load_json(read_stdin(), "stdin")
    if not isinstance(state, dict) or state.get("version") != 4 or not states.is_state(state):
        raise TfextError.of(
            Code.BAD_JSON_SHAPE,
            "stdin",
            "not a version 4 Terraform state (`terraform state pull` writes one)",
        )
    return state


def diagnose(state: dict, key_dir: str | None = None) -> list[tuple[states.Record, Verdict]]:
    """Every slot of the state's issuing stages whose certificate or key is missing, unusable or not a
    pair, with its verdict; sorted by marker address. A key kept as a file (key-directory mode) is read
    from `key_dir` and must have the hash its record holds; without `key_dir`, only its certificate is
    judged (`unchecked` counts those). A certificate issued for a CSR has no key of ours."""
    out = []
    for record in states.records(state):
        verdict = _verdict(record, key_dir)
        if verdict is not None and not verdict.whole:
            out.append((record, verdict))
    return sorted(out, key=lambda found: found[0].marker)


def unchecked(state: dict, key_dir: str | None) -> int:
    """How many records keep their key in a key directory that `key_dir` does not give."""
    return 0 if key_dir is not None else sum(1 for r in states.records(state) if r.key_file and not r.key_pem)


def _verdict(record: states.Record, key_dir: str | None) -> Verdict | None:
    if record.key_pem or not (record.key_in_file or record.csr):
        return judge(record.cert_pem, record.key_pem)
    alone = judge(record.cert_pem, None)  # the certificate's own verdict (NO_KEY when it is whole)
    if alone.code is not Code.KEY_MISSING:
        return alone
    if record.csr and not record.key_in_file:
        return None  # the node holds the key
    if record.key_file and key_dir is None:
        return None  # not checked here (`unchecked`); the module checks it at every plan (E074)
    from tfext.tools.keyfiles import in_key_dir, read_key_file, shown

    try:
        path = in_key_dir(key_dir, record.key_file, record.where) if record.key_file else record.key_path
        key = read_key_file(path, record.role or record.slot, record.key_sha256)
    except TfextError as exc:
        problem = exc.problems[0]
        if problem.code is Code.KEY_FILE_CHANGED:
            return Verdict(
                problem.code,
                f"its key file {shown(path)} is missing or is not the one issued with the certificate "
                "(restore the file from the key directory's backup instead, if there is one)",
            )
        return Verdict(problem.code, f"its key file: {problem.detail}")
    verdict = judge(record.cert_pem, key)
    if verdict.code is Code.KEY_MISMATCH:
        return Verdict(verdict.code, f"the private key in {shown(path)} does not belong to the certificate")
    return verdict


def stuck(state: dict) -> list[str]:
    """Marker addresses of the certificates to issue again (see `diagnose`)."""
    return sorted({record.marker for record, _ in diagnose(state)})


def explain(record: states.Record, verdict: Verdict) -> str:
    """`TFEXT-E030 kube/apiserver (module....kept["apiserver"]): the private key does not belong ...`."""
    role = record.role or (f"{record.kind}/{record.slot}" if record.kind else record.slot)
    where = record.where if record.layout != states.NONE else f"{record.marker}, with no record"
    return Problem(
        verdict.code or Code.INTERNAL, f"{role} ({where})", f"{verdict.detail}; the command re-issues it"
    ).render()


@guarded("tfext heal")
def heal_main(argv: list[str]) -> int:
    parser = Parser(prog="tfext heal", description=__doc__.split("\n\n")[1].strip())
    parser.add_argument(
        "--key-dir",
        metavar="KEY_DIR",
        help="the root module's key_dir: check the keys a key-directory state keeps there too",
    )
    args = parser.parse_args(argv)
    if args.key_dir is not None:
        refuse_content_as_path(args.key_dir, "--key-dir")
    state = read_state()
    found = diagnose(state, args.key_dir)
    elsewhere = unchecked(state, args.key_dir)
    if elsewhere:
        say(
            "tfext heal",
            f"{Code.KEYS_ABSENT.tag} {elsewhere} certificates keep their private key in a key directory, "
            "and their keys were not checked (the modules check each file at every plan, TFEXT-E074): pass "
            "--key-dir DIR, the root module's key_dir, to check them here too",
        )
    if not found:
        sys.stdout.write(
            "# every certificate is sealed; nothing to heal (a plain `terraform apply` finishes the rest)\n"
        )
        return 0
    for record, verdict in found:
        say("tfext heal", explain(record, verdict))
    markers = sorted({record.marker for record, _ in found})
    sys.stdout.write("terraform apply " + " ".join(f"-replace='{m}'" for m in markers) + "\n")
    return 0


def _captured(state: dict):
    """(module, slot, instance) of every `terraform_data.captured` of an issuing stage."""
    for resource, instance in states.instances(state):
        if states.is_record(resource, instance) and resource.get("name") == states.CAPTURED:
            yield states.module_of(resource), instance["index_key"], instance


def migrate(state: dict) -> int:
    """Drop the legacy key copies from `captured` whose key is sealed; returns how many were dropped."""
    sealed = {}
    for resource, inst in states.instances(state):
        if states.is_record(resource, inst) and resource.get("name") == states.SEALED:
            triggers = states.attribute(inst, "triggers_replace")
            key = triggers.get("key") if isinstance(triggers, dict) else None
            sealed[(states.module_of(resource), inst["index_key"])] = bool(key)
    dropped = 0
    unsealed = []
    for module, slot, inst in _captured(state):
        attributes = inst["attributes"]
        if not any(
            isinstance(states.attribute(inst, a), dict) and KEY_FIELD in states.attribute(inst, a)
            for a in ("input", "output")
        ):
            continue
        if not sealed.get((module, slot)):
            unsealed.append(states.record_address(module, states.CAPTURED, slot))
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
