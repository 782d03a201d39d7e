"""The polymorphism contract, read from the configuration itself: every flavor of a module declares exactly
the same outputs with the same `sensitive` marks, so swapping `source` can never break a caller.

A flavor's variables and outputs are declared in its generated `variables.tf.json` and `outputs.tf.json`
(Terraform's JSON syntax), and nowhere in its hand-written HCL. That Terraform reads them is checked where
every flavor is initialised and run: tests/test_terraform_test_files.py."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from harness import MODULES, require

from tfext import catalog

FLAVORS = {name: tuple(f.name for f in module.flavors) for name, module in catalog.MODULES.items()}

# The outputs each module promises (issues 2, 3, 13, 14 and 21), beside `certificates`, `id` and `key_files`:
# output => sensitive, from the catalogue that writes every outputs.tf.json (and the tools' contract).
PROMISED = {
    name: {o.name: o.sensitive for o in module.outputs if o.name not in ("certificates", "id", "key_files")}
    for name, module in catalog.MODULES.items()
}

HCL_BLOCK = re.compile(r'^\s*(output|variable)\s+"([^"]+)"', re.M)


def blocks(directory, kind: str) -> dict[str, dict]:
    """The `kind` blocks (variable, output) a flavor declares: name => body, from its JSON files."""
    found: dict[str, dict] = {}
    for path in sorted(directory.glob("*.tf.json")):
        declared = json.loads(path.read_text()).get(kind, {})
        assert not set(found) & set(declared), f"{path}: declared twice"
        found.update(declared)
    return found


def outputs(directory) -> dict[str, bool]:
    """Output name => declared sensitive."""
    return {name: body.get("sensitive", False) is True for name, body in blocks(directory, "output").items()}


@pytest.mark.parametrize("module", sorted(FLAVORS))
def test_every_flavor_declares_the_same_outputs_with_the_same_sensitivity(module):
    first, second = (outputs(MODULES / module / flavor) for flavor in FLAVORS[module])
    assert first == second


@pytest.mark.parametrize("module", sorted(FLAVORS))
def test_outputs_are_the_promised_ones_and_keys_are_sensitive(module):
    for flavor in FLAVORS[module]:
        declared = outputs(MODULES / module / flavor)
        expected = dict(PROMISED[module], certificates=False, id=False, key_files=False)
        assert declared == expected, f"{module}/{flavor}"
    # every key output, and only those, is sensitive: the contract the tools read keys by
    for output in catalog.MODULES[module].outputs:
        assert output.sensitive == output.key, output.name
    keys = {o.name for o in catalog.MODULES[module].outputs if o.key}
    assert keys == {name for name, sensitive in PROMISED[module].items() if sensitive}


def test_no_other_module_directories_exist():
    found = {p.parent.relative_to(MODULES).as_posix() for p in MODULES.glob("*/*/main.tf")}
    expected = {f"{m}/{f}" for m, fl in FLAVORS.items() for f in fl} | {
        "internal/issue",
        "internal/verify",
        "internal/rotation",
    }
    assert found == expected


@pytest.mark.parametrize("flavor", [f"{m}/{f}" for m, fl in FLAVORS.items() for f in fl])
def test_every_variable_is_typed_and_described(flavor):
    declared = blocks(MODULES / flavor, "variable")
    assert declared, f"{flavor} declares no variable"
    for name, body in declared.items():
        assert body.get("type", "").strip(), f"{flavor}: variable {name} has no type"
        assert body.get("description", "").strip(), f"{flavor}: variable {name} has no description"


@pytest.mark.parametrize("flavor", [f"{m}/{f}" for m, fl in FLAVORS.items() for f in fl])
def test_variables_and_outputs_are_the_generated_ones_alone(flavor):
    """The catalogue is their one statement: a flavor's HCL (main.tf, versions.tf) declares none."""
    for tf in sorted((MODULES / flavor).glob("*.tf")):
        assert HCL_BLOCK.findall(tf.read_text()) == [], f"{tf.name} declares what the catalogue states"
    names = {i.name for i in catalog.MODULES[flavor.split("/")[0]].flavor(flavor.split("/")[1]).inputs}
    assert set(blocks(MODULES / flavor, "variable")) == names


@pytest.mark.parametrize("flavor", [f"{m}/{f}" for m, fl in FLAVORS.items() for f in fl])
def test_flavors_call_the_one_copy_of_each_building_block(flavor):
    """internal/{issue,verify,rotation} live once; flavors call them by relative path, in the package."""
    main = (MODULES / flavor / "main.tf").read_text()
    sources = re.findall(r'source\s*=\s*"([^"]+)"', main)
    assert sources, f"{flavor} calls no building block"
    assert all(re.fullmatch(r"\.\./\.\./internal/(issue|verify|rotation)", s) for s in sources), sources
    assert not (MODULES / flavor / "internal").exists(), f"{flavor} carries a copy of a building block"


def test_hcl_is_terraform_fmt_clean():
    result = subprocess.run(
        [require("terraform"), "fmt", "-check", "-recursive", str(MODULES.parent.parent)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"not fmt-clean: {result.stdout}"


def test_no_program_list_can_hold_an_empty_string():
    """hashicorp/external 2.1 panics on "" in `program`: every program list is built from validated parts."""
    for tf in MODULES.rglob("*.tf"):
        for line in tf.read_text().splitlines():
            if "program" in line and "=" in line and '""' in line:
                pytest.fail(f"{tf}: {line.strip()}")


def test_every_generated_file_is_the_committed_one():
    """variables.tf.json, outputs.tf.json, README.md and the query schemas are written from the catalogue."""
    script = MODULES.parent.parent.parent / "scripts" / "generate.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
