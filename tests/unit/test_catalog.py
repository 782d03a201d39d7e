"""The catalogue (tfext/catalog.py) is the one statement of each module, flavor, slot, output and input:
the files written from it are the committed ones, its vocabularies are the code's, and the programs and
tools read their tables from it."""

from __future__ import annotations

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
    kube = (REPO / "terraform/modules/tls/kube/self-signed/variables.tf").read_text()
    assert catalog.hcl_value(list(keys.KEY_ALGORITHMS)) in kube
    assert catalog.hcl_value(list(keys.KEY_FORMATS)) in kube
    assert catalog.hcl_value(list(catalog.rotation_phases())) in kube
    assert catalog.quoted(NODE_NAME.pattern) in kube
    assert f"length(var.nodes) <= {MAX_NODES}" in kube
    common = json.loads((REPO / "tfext/schemas/common.json").read_text())["$defs"]
    assert common["rotation_phase"]["enum"] == ["", *catalog.rotation_phases()]


def test_importing_the_catalogue_imports_no_cryptography():
    code = "import sys, tfext.catalog, tfext.programs; "
    code += "tfext.programs.MODULES; print('cryptography' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
