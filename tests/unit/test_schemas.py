"""The query schemas: valid, closed, described, in step with the programs; and the error catalogue's docs."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tfext import keys, protocol
from tfext.errors import Code
from tfext.programs import MODULES, PROGRAMS

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = resources.files("tfext.schemas")
SCHEMA_FILES = sorted(p.name for p in SCHEMA_DIR.iterdir() if p.name.endswith(".json"))
PROGRAM_SCHEMAS = [f[: -len(".json")] for f in SCHEMA_FILES if f != "common.json"]
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def load(filename: str) -> dict:
    return json.loads(SCHEMA_DIR.joinpath(filename).read_text("utf-8"))


def resolved(schema: dict, prop: str) -> dict:
    """A property's schema with its common.json $ref merged in."""
    node = dict(schema["properties"][prop])
    ref = node.pop("$ref", None)
    if ref:
        file, _, pointer = ref.partition("#")
        target = load(file)
        for part in pointer.strip("/").split("/"):
            target = target[part]
        node = {**target, **node}
    return node


@pytest.mark.parametrize("filename", SCHEMA_FILES)
def test_every_schema_file_is_a_valid_draft_2020_12_schema(filename):
    schema = load(filename)
    assert schema.get("$schema") == DRAFT_2020_12
    assert schema.get("$id") == filename
    Draft202012Validator.check_schema(schema)
    assert schema.get("title")


@pytest.mark.parametrize("program", PROGRAM_SCHEMAS)
def test_every_program_schema_is_a_closed_object_of_strings(program):
    schema = load(f"{program}.json")
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["properties"]
    for prop in schema["properties"]:
        assert resolved(schema, prop).get("type") == "string", f"{program}.{prop} is not a string"


@pytest.mark.parametrize("program", PROGRAM_SCHEMAS)
def test_every_property_has_a_description(program):
    schema = load(f"{program}.json")
    undescribed = [
        p for p, node in schema["properties"].items() if not str(node.get("description", "")).strip()
    ]
    assert undescribed == []


def test_every_shared_definition_has_a_description():
    defs = load("common.json")["$defs"]
    assert [name for name, node in defs.items() if not node.get("description", "").strip()] == []


@pytest.mark.parametrize("program", PROGRAM_SCHEMAS)
def test_every_ref_resolves_and_required_keys_are_properties(program):
    schema = protocol.load_schema(program)
    validator = Draft202012Validator(schema, registry=protocol._common_registry())
    props = set(schema["properties"])
    for prop in props:  # validating a value forces its $ref to resolve
        list(validator.iter_errors({prop: "x"}))
    assert set(schema.get("required", [])) <= props
    for owner, needed in schema.get("dependentRequired", {}).items():
        assert owner in props and set(needed) <= props, owner


def test_every_program_has_a_schema_and_every_schema_a_program():
    assert sorted(PROGRAMS) == sorted(PROGRAM_SCHEMAS)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_slot_keys_in_a_schema_name_slots_of_the_programs_module(program):
    schema = load(f"{program}.json")
    slots = {s.name for s in MODULES[PROGRAMS[program]].slots}
    # the shortest slot first: ca_cert_path is slot ca, apiserver_kubelet_client_cert_path that slot
    pattern = re.compile(r"^(?P<slot>[a-z_]+?)_(issued_at|cert_path|key_path)$")
    for prop in schema["properties"]:
        m = pattern.match(prop)
        if m:
            assert m["slot"] in slots, f"{program}: {prop} names no slot of module {PROGRAMS[program]}"
    if any(p.endswith("_issued_at") for p in schema["properties"]):
        assert "plan_time" in schema["properties"]


# Leaves beyond Tectonic's that a user-provided set may leave out (a Tectonic set has none of them); given,
# each needs its key too.
OPTIONAL_LEAVES = {"kube": ("apiserver_kubelet_client", "admin")}  # a tuple: every xdist worker, one order


@pytest.mark.parametrize("program", [p for p in PROGRAMS if p.endswith("user-provided")])
def test_user_provided_schemas_require_every_leaf_pair_and_the_ca(program):
    schema = load(f"{program}.json")
    required = set(schema["required"])
    assert "ca_cert_path" in required
    optional = OPTIONAL_LEAVES.get(PROGRAMS[program], set())
    for slot in MODULES[PROGRAMS[program]].leaves:
        if slot.name in optional:
            continue
        assert {f"{slot.name}_cert_path", f"{slot.name}_key_path"} <= required


@pytest.mark.parametrize(
    ("program", "slot"),
    [
        (p, slot)
        for p in PROGRAMS
        if p.endswith("user-provided")
        for slot in OPTIONAL_LEAVES.get(PROGRAMS[p], ())
    ],
)
def test_an_optional_user_provided_leaf_needs_its_key_when_given(program, slot):
    schema = load(f"{program}.json")
    assert {f"{slot}_cert_path", f"{slot}_key_path"} <= set(schema["properties"])
    assert not {f"{slot}_cert_path", f"{slot}_key_path"} & set(schema["required"])
    assert f"{slot}_key_path" in schema["dependentRequired"][f"{slot}_cert_path"]


def _pattern_prefixes(schema: dict, suffix: str) -> set[str]:
    """The per-node slot prefixes a schema's patterns take with `suffix`: `^(server|peer):..._issued_at$`."""
    out: set[str] = set()
    for pattern in schema.get("patternProperties", {}):
        found = re.fullmatch(rf"\^\(([a-z|]+)\):.*_{suffix}\$", pattern)
        if found:
            out |= set(found.group(1).split("|"))
    return out


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_per_node_key_patterns_name_exactly_the_modules_per_node_roles(program):
    module = MODULES[PROGRAMS[program]]
    schema = load(f"{program}.json")
    prefixes = {role.prefix for role in module.per_node}
    if not prefixes:
        assert schema.get("patternProperties", {}) == {}
    elif program.endswith("user-provided"):  # checks the files of every member or node, issues none
        assert _pattern_prefixes(schema, "cert_path") == _pattern_prefixes(schema, "key_path") == prefixes
        assert _pattern_prefixes(schema, "issued_at") == set()
    else:  # issues them (etcd-signed's external mode has none to check: it refuses members, E084)
        assert _pattern_prefixes(schema, "issued_at") == prefixes
        assert _pattern_prefixes(schema, "cert_path") == set()
    for pattern, rule in schema.get("patternProperties", {}).items():
        assert rule.get("description", "").strip(), pattern
        # JSON Schema applies a pattern to named properties too; the fast path assumes none does
        assert not [p for p in schema["properties"] if re.search(pattern, p)], pattern


@pytest.mark.parametrize("program", [p for p in PROGRAMS if not p.endswith("user-provided")])
def test_issuing_schemas_gate_every_leaf(program):
    props = load(f"{program}.json")["properties"]
    for slot in MODULES[PROGRAMS[program]].leaves:
        assert f"{slot.name}_issued_at" in props


def test_key_vocabularies_in_the_schema_are_the_ones_keys_defines():
    defs = load("common.json")["$defs"]
    assert defs["key_algorithm"]["enum"] == ["", *keys.KEY_ALGORITHMS]
    assert defs["key_format"]["enum"] == ["", *keys.KEY_FORMATS]


OPTIONAL_NON_TIMESTAMP = [
    pytest.param(program, prop, id=f"{program}-{prop}")
    for program in PROGRAM_SCHEMAS
    for prop, node in load(f"{program}.json")["properties"].items()
    if prop not in load(f"{program}.json").get("required", []) and "timestamp" not in node.get("$ref", "")
]


@pytest.mark.parametrize(("program", "prop"), OPTIONAL_NON_TIMESTAMP)
def test_an_optional_key_sent_as_an_empty_string_is_accepted_like_a_missing_one(program, prop):
    # external provider 2.3.1 sends null query values as "" (external-protocol.md section 1)
    schema = protocol.load_schema(program)
    validator = Draft202012Validator(schema, registry=protocol._common_registry())
    # presence-only rules (required, dependentRequired) are not about the value
    errors = [
        e for e in validator.iter_errors({prop: ""}) if e.validator not in ("required", "dependentRequired")
    ]
    assert [e.message for e in errors] == []


# --- the error catalogue ------------------------------------------------------------------------------------


def test_error_codes_have_unique_numbers_tags_and_titles():
    numbers = [c.number for c in Code]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"TFEXT-E0\d\d", c.tag) for c in Code)
    assert all(c.title and c.title == c.title.strip() for c in Code)


def test_docs_errors_md_lists_every_code_tag():
    errors_md = REPO / "docs" / "errors.md"
    if not errors_md.exists():
        pytest.skip(
            "docs/errors.md does not exist yet; this test checks it lists every TFEXT-E code once written"
        )
    text = errors_md.read_text("utf-8")
    missing = [c.tag for c in Code if c.tag not in text]
    assert missing == []
    unknown = sorted(set(re.findall(r"TFEXT-E\d{3}", text)) - {c.tag for c in Code})
    assert unknown == [], "docs/errors.md mentions codes tfext does not have"
