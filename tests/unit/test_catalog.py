"""The catalogue (tfext/catalog.py) is the one statement of each module, flavor, slot, output and input:
the files written from it are the committed ones, its vocabularies are the code's, and the programs and
tools read their tables from it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tfext import catalog, keys
from tfext.programs import MODULES, PROGRAMS
from tfext.programs.inputs import MAX_NODES, NODE_NAME
from tfext.tools import roles

REPO = Path(__file__).resolve().parents[2]
FLAVORS = [(m, f) for m in catalog.MODULES.values() for f in m.flavors]
IDS = [f"{m.name}/{f.name}" for m, f in FLAVORS]


def test_every_generated_file_is_the_committed_one():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "generate.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_the_programs_are_the_catalogues_modules_and_flavors():
    assert {p: m.name for m in catalog.MODULES.values() for p in m.programs} == PROGRAMS
    for name, module in catalog.MODULES.items():
        engine = MODULES[name]
        assert [(s.name, s.profile) for s in engine.slots] == [(s.name, s.profile) for s in module.slots]
        assert [(r.prefix, r.profile, r.source) for r in engine.per_node] == [
            (r.prefix, r.profile, r.source) for r in module.per_node
        ]
        assert engine.service_hosts == module.service_hosts


def test_the_tools_read_the_catalogues_output_contract():
    assert catalog.output_contract() == roles.CONTRACT
    assert catalog.per_node_contract() == roles.PER_NODE
    for name, module in catalog.MODULES.items():
        assert list(roles.CONTRACT[name]) == [s.name for s in module.slots]
        assert set(roles.PER_NODE.get(name, {})) == {r.prefix for r in module.per_node}


@pytest.mark.parametrize(("module", "flavor"), FLAVORS, ids=IDS)
def test_a_user_provided_flavor_accepts_every_generating_input_it_does_not_take(module, flavor):
    generating = module.flavors[0]
    assert generating.generating and not any(f.generating for f in module.flavors[1:])
    if flavor.generating:
        assert not any(i.ignored for i in flavor.inputs)
        return
    names = [i.name for i in flavor.inputs]
    assert len(names) == len(set(names))
    assert {i.name for i in generating.inputs} <= set(names)
    for i in flavor.inputs:
        if i.ignored:  # null unless set, so that internal/verify can tell it was (TFEXT-E054)
            assert i.default is None and i.nullable and not i.rules and i.query is None


@pytest.mark.parametrize(("module", "flavor"), FLAVORS, ids=IDS)
def test_every_query_key_an_input_becomes_is_in_the_programs_schema(module, flavor):
    schema = json.loads((REPO / "tfext" / "schemas" / f"{module.name}-{flavor.name}.json").read_text())
    for i in flavor.inputs:
        if i.query:
            assert i.query.name in schema["properties"], i.name
            assert schema["properties"][i.query.name]["description"] == i.query.description


def test_vocabularies_are_the_codes():
    declared = json.loads((REPO / "terraform/modules/tls/kube/self-signed/variables.tf.json").read_text())
    kube = "\n".join(
        rule["condition"] for v in declared["variable"].values() for rule in v.get("validation", [])
    )
    assert catalog.hcl_value(list(keys.KEY_ALGORITHMS)) in kube
    assert catalog.hcl_value(list(keys.KEY_FORMATS)) in kube
    assert catalog.hcl_value(list(catalog.rotation_phases())) in kube
    # node names: the program's pattern, over the names joined by commas (one regex at every plan)
    core = NODE_NAME.pattern.removeprefix("^").removesuffix("$")
    assert catalog.quoted(f"^(?:{core})(?:,(?:{core}))*$") in kube
    assert f"length(var.nodes) <= {MAX_NODES}" in kube


def _generate():
    spec = importlib.util.spec_from_file_location("generate", REPO / "scripts" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("quoted", "template"),
    [
        # literal text: the HCL string's escapes resolved (JSON escapes it again)
        (r"e.g. [\"tfext\"] or a \\ back", 'e.g. ["tfext"] or a \\ back'),
        # the template's own escapes are the same in both syntaxes
        (r"$${not} %%{not} $$ %", r"$${not} %%{not} $$ %"),
        # an interpolation is an expression: its strings keep their escapes, nested templates included
        (
            r'got ${join(", ", [for n in var.x : can(regex("^a\\.b$", n)) ? "${n}}" : "(\"no\")"])}.',
            r'got ${join(", ", [for n in var.x : can(regex("^a\\.b$", n)) ? "${n}}" : "(\"no\")"])}.',
        ),
        (r"%{if var.x}\"x\"%{endif}", '%{if var.x}"x"%{endif}'),
    ],
)
def test_a_message_is_the_same_template_in_json(quoted, template):
    """The generator writes a Rule's message (what stands between the quotes of an HCL string) into a JSON
    string: the same template, as tests/validation's messages and a plan on a state written by the HCL
    modules confirm with Terraform."""
    assert _generate().template(quoted) == template


VARIABLE_ARGUMENTS = {"description", "type", "default", "nullable", "sensitive", "validation"}


def test_every_generated_module_file_is_terraform_json():
    """Each flavor's variables.tf.json and outputs.tf.json: what Terraform's JSON syntax takes, with every
    expression a "${...}" template and every literal where Terraform wants one (`terraform test` in each
    flavor, tests/test_terraform_test_files.py, has Terraform read them)."""
    for module, flavor in FLAVORS:
        directory = REPO / "terraform/modules/tls" / module.name / flavor.name
        variables = json.loads((directory / "variables.tf.json").read_text())
        outputs = json.loads((directory / "outputs.tf.json").read_text())
        assert set(variables) <= {"//", "variable", "locals"} and set(outputs) == {"//", "output"}
        for name, body in variables["variable"].items():
            assert set(body) <= VARIABLE_ARGUMENTS, name
            assert isinstance(body["description"], str) and isinstance(body["type"], str), name
            for rule in body.get("validation", []):
                assert rule["condition"].startswith("${") and rule["condition"].endswith("}"), name
        for name, body in outputs["output"].items():
            assert set(body) <= {"description", "value", "sensitive", "precondition"}, name
            assert body["value"].startswith("${") and body["value"].endswith("}"), name
        assert (directory / "main.tf").exists() and not (directory / "variables.tf").exists()
        assert not (directory / "outputs.tf").exists()
    common = json.loads((REPO / "tfext/schemas/common.json").read_text())["$defs"]
    assert common["rotation_phase"]["enum"] == ["", *catalog.rotation_phases()]


def _for_expressions(text: str):
    """Each for-expression of an HCL template: (its collection, its body after the first ':')."""
    for start in range(len(text)):
        if text[start] in "[{" and text[start + 1 :].startswith("for "):
            depth, end = 0, start
            for end in range(start, len(text)):
                depth += {"[": 1, "{": 1, "(": 1, "]": -1, "}": -1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            inner = text[start + 5 : end]
            collection, _, body = inner.partition(" in ")[2].partition(" : ")
            yield collection, body


def _loops_over_a_variable_in_such_a_loop(text: str) -> list[str]:
    """The collections of for-expressions over a variable whose body loops over a variable again."""
    return [
        collection
        for collection, body in _for_expressions(text)
        if "var." in collection and any("var." in c for c, _ in _for_expressions(body))
    ]


def test_no_validation_rule_is_quadratic_in_the_nodes():
    """Terraform evaluates every rule's condition and message at every plan, even when the rule holds
    (measured with Terraform 1.11). Its distinct() compares each item with every other, and so does a
    for-expression over every node inside one over every node: at 1000 nodes the kubelet_serving rules
    took 4 minutes of each plan. Each rule and message is linear in the nodes (sets, grouping maps)."""
    found = []
    for module, flavor in FLAVORS:
        directory = REPO / "terraform/modules/tls" / module.name / flavor.name
        variables = json.loads((directory / "variables.tf.json").read_text())
        for name, body in variables["variable"].items():
            for rule in body.get("validation", []):
                for part in (rule["condition"], rule["error_message"]):
                    if "distinct(" in part:
                        found.append(f"{module.name}/{flavor.name} var.{name}: distinct()")
                    for collection in _loops_over_a_variable_in_such_a_loop(part):
                        found.append(f"{module.name}/{flavor.name} var.{name}: {collection} in a loop")
    assert not found, found
    # The test sees a quadratic rule when there is one.
    quadratic = "${[for n in var.nodes : n if length([for x in var.nodes : x if x == n]) > 1]}"
    assert _loops_over_a_variable_in_such_a_loop(quadratic) == ["var.nodes"]


def test_no_map_output_is_tomap_of_a_whole_collection():
    """cty's type unification compares every element's type with every other's, so tomap() of a `for`
    over every certificate or node grows with their square (the certificates' facts: ~1 s of a
    1000-node plan). Map outputs are small maps merged (catalog.as_map); tomap() is only ever applied
    to one group's merge, or to the merged map."""
    sources = [REPO / "terraform/modules/tls/internal/rotation/outputs.tf"]
    for module, flavor in FLAVORS:
        sources.append(REPO / "terraform/modules/tls" / module.name / flavor.name / "outputs.tf.json")
    whole = "tomap({ for "
    found = [f"{path.relative_to(REPO)}" for path in sources if whole in path.read_text()]
    assert not found, found
    grouped = [path for path in sources if "tomap(merge([for g in values({ for k, v in " in path.read_text()]
    assert len(grouped) == len(sources)
    # The test sees the quadratic form, and as_map never makes it.
    assert whole in "${tomap({ for n in var.nodes : n => local.certs[n].cert_pem })}"
    assert whole not in catalog.as_map("{ for n in var.nodes : n => n }")


def test_importing_the_catalogue_imports_no_cryptography():
    code = "import sys, tfext.catalog, tfext.programs; "
    code += "tfext.programs.MODULES; print('cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
