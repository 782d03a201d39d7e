"""The polymorphism contract, read from the HCL itself: every flavor of a module declares exactly the same
outputs with the same `sensitive` marks, so swapping `source` can never break a caller."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from harness import MODULES, require

from tfext import catalog

FLAVORS = {name: tuple(f.name for f in module.flavors) for name, module in catalog.MODULES.items()}

# The outputs each module promises (issues 2, 3, 13, 14 and 21), beside `certificates`, `id` and `key_files`:
# output => sensitive, from the catalogue that writes every outputs.tf (and the tools' contract).
PROMISED = {
    name: {o.name: o.sensitive for o in module.outputs if o.name not in ("certificates", "id", "key_files")}
    for name, module in catalog.MODULES.items()
}

BLOCK = re.compile(r'^(output|variable) "([^"]+)" \{(.*?)^\}', re.S | re.M)


def blocks(directory, kind: str) -> dict[str, str]:
    text = "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))
    return {name: body for k, name, body in BLOCK.findall(text) if k == kind}


def outputs(directory) -> dict[str, bool]:
    """Output name => declared sensitive."""
    return {
        name: bool(re.search(r"^\s*sensitive\s*=\s*true", body, re.M))
        for name, body in blocks(directory, "output").items()
    }


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
    for name, body in blocks(MODULES / flavor, "variable").items():
        assert re.search(r"^\s*type\s*=", body, re.M), f"{flavor}: variable {name} has no type"
        assert re.search(r'^\s*description\s*=\s*"\S', body, re.M), (
            f"{flavor}: variable {name} has no description"
        )


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
    """variables.tf, outputs.tf, README.md and the query schemas are written from tfext/catalog.py."""
    script = MODULES.parent.parent.parent / "scripts" / "generate.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
