"""`tfext node-groups N`: the `moved` blocks that put a workspace's kube nodes in N stages (or back in one
each), from a state on stdin. What Terraform does with them is tests/test_node_groups.py's; here, which
records move where, what stays, and what the tool refuses. The stage formula must be the module's."""

from __future__ import annotations

import hashlib
import io
import json
import re
import sys
from pathlib import Path

import pytest

from tfext.tools import nodegroups

KUBE_MAIN = Path(__file__).resolve().parents[2] / "terraform/modules/tls/kube/self-signed/main.tf"
KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIF4k\n-----END EC PRIVATE KEY-----\n"


def stage(owner: str, key: str, slots: list[str], call: str = "node") -> list[dict]:
    """An issuing stage's marker and kept records for `slots`, as `terraform state pull` holds them."""
    module = f'{owner}.module.{call}["{key}"]'
    return [
        {
            "module": module,
            "mode": "managed",
            "type": "terraform_data",
            "name": name,
            "provider": 'provider["terraform.io/builtin/terraform"]',
            "instances": [
                {"index_key": slot, "attributes": {"triggers_replace": {"key_pem": KEY} if kept else "h"}}
                for slot in slots
            ],
        }
        for name, kept in (("issued", False), ("kept", True))
    ]


def state_of(*resources: list[dict], layout: bool = False) -> dict:
    found = [r for group in resources for r in group]
    if layout:
        found.append(
            {
                "module": "module.kube",
                "mode": "managed",
                "type": "terraform_data",
                "name": "node_layout",
                "instances": [{"attributes": {"input": {"groups": 0}}}],
            }
        )
    return {"version": 4, "serial": 7, "lineage": "l", "terraform_version": "1.11.4", "resources": found}


def run(monkeypatch, capsys, state: dict | str, *argv: str) -> tuple[int, str, str]:
    text = state if isinstance(state, str) else json.dumps(state)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code = nodegroups.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


PER_NODE = state_of(
    stage("module.kube", "w1", ["kubelet:w1", "serving:w1"]),
    stage("module.kube", "w2", ["kubelet:w2"]),
    # etcd's members never move
    stage("module.etcd", "m0", ["server:m0", "peer:m0"], call="member"),
    layout=True,
)


def test_the_stage_formula_is_the_modules():
    text = KUBE_MAIN.read_text()
    assert 'format("group-%03d", parseint(substr(sha256(n), 0, 8), 16) % local.node_groups)' in text
    for node in ("w1", "node-0001", "a.b-c"):
        expected = int(hashlib.sha256(node.encode()).hexdigest()[:8], 16) % 64
        assert nodegroups.group_of(node, 64) == f"group-{expected:03d}"


def test_each_record_of_a_node_stage_moves_to_its_group_and_the_apply_is_named(monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, PER_NODE, "3")
    assert code == 0
    blocks = re.findall(r"moved \{\n  from = (.+)\n  to   = (.+)\n\}", out)
    assert len(blocks) == 6  # 3 slots, a marker and a kept record each
    for source, target in blocks:
        node = re.search(r'\["(?:kubelet|serving):([^"]+)"\]$', source)[1]
        group = nodegroups.group_of(node, 3)
        assert source.startswith(f'module.kube.module.node["{node}"].terraform_data.')
        assert target == source.replace(f'node["{node}"]', f'node["{group}"]')
    assert "-replace='module.kube.terraform_data.node_layout'" in err
    assert "PRIVATE KEY" not in out + err


def test_a_workspace_already_in_those_groups_moves_nothing_and_back_to_zero_moves_all(monkeypatch, capsys):
    grouped = state_of(
        *[
            stage("module.kube", nodegroups.group_of(n, 3), slots)
            for n, slots in (("w1", ["kubelet:w1", "serving:w1"]), ("w2", ["kubelet:w2"]))
        ]
    )
    code, out, err = run(monkeypatch, capsys, grouped, "3")
    assert code == 0 and "nothing moves" in out and "moved {" not in out
    code, out, err = run(monkeypatch, capsys, grouped, "0")
    assert code == 0 and out.count("moved {") == 6
    assert 'to   = module.kube.module.node["w1"].terraform_data.kept["serving:w1"]' in out
    assert "-replace" not in err  # no node_layout in this state: a plain apply records it


@pytest.mark.parametrize("bad", ["-1", "257", "x", "2.5"])
def test_a_count_out_of_range_is_refused(monkeypatch, capsys, bad):
    with pytest.raises(SystemExit) as stop:
        run(monkeypatch, capsys, PER_NODE, "--", bad)
    assert stop.value.code == 2
    assert "N must be a whole number from 0 to 256" in capsys.readouterr().err


def test_what_is_no_state_is_refused_with_a_code(monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, '{"not": "a state"}', "3")
    assert code == 2 and out == "" and "TFEXT-E064" in err


def test_nothing_but_a_node_name_reaches_the_hcl_written(monkeypatch, capsys):
    for owner, node in (("module.kube", 'x"] } evil {'), ('module.kube"] } evil { x = ["', "w1")):
        forged = state_of(stage(owner, node, [f"kubelet:{node}"]))
        code, out, err = run(monkeypatch, capsys, forged, "3")
        assert code == 0 and "moved {" not in out and "evil" not in out + err


def test_nothing_to_move_under_a_record_of_another_value_names_the_replace(monkeypatch, capsys):
    # A workspace that recorded 0 before any node was issued (a first apply stopped early): no record
    # moves, and the apply that records N is named; one already recording N needs nothing.
    empty = state_of(stage("module.kube", "unused", []), layout=True)
    code, out, err = run(monkeypatch, capsys, empty, "64")
    assert code == 0 and "nothing moves" in out and "moved {" not in out
    assert "terraform apply -replace='module.kube.terraform_data.node_layout'" in err, err
    code, out, err = run(monkeypatch, capsys, empty, "0")
    assert code == 0 and "nothing moves" in out and err == ""


def test_the_default_layout_is_the_catalogues():
    # the default kube/self-signed records is the one its variable's description (from the catalogue) names
    from tfext import catalog

    generated = json.loads((KUBE_MAIN.parent / "variables.tf.json").read_text())
    assert generated["locals"]["default_node_groups"] == catalog.DEFAULT_NODE_GROUPS
    assert "local.default_node_groups" in KUBE_MAIN.read_text()
