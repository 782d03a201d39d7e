"""Nodes in groups of stages (issue 22) with real Terraform: kube/self-signed with `node_groups`.

The workspace of tests/test_per_node.py (5 nodes, 3 of them serving, 3 etcd members) with its nodes in 3
issuing stages instead of one each: every certificate is the one a stage per node would issue (names,
keys, CA, the per-node maps), adding or removing a node issues or drops exactly its own certificates (no
other serial changes) with one run of the kube program, and each next plan is quiet and runs none. A new
workspace without `node_groups` records 64; one whose first apply stopped before the record (or from
before `node_groups`) records 0 and keeps a stage per node. A plan with another `node_groups`, or one
that would put a workspace's nodes in a layout their certificates are not in, fails with TFEXT-E095 and
changes nothing. A workspace with a stage per node moves into groups with the `moved` blocks
`tfext node-groups` writes, issuing nothing. No command prints a line of any key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections import Counter

import pytest
from harness import modules_source
from test_per_node import ROOT, Cluster, check_identities, hidden, serials
from test_state_layer import faulty_terraform

from tfext.tools.nodegroups import group_of

pytestmark = pytest.mark.terraform

GROUPS = 3
GROUPED_ROOT = ROOT.replace(
    "  kubelet_serving    = var.kubelet_serving\n",
    "  kubelet_serving    = var.kubelet_serving\n  node_groups        = var.node_groups\n",
) + textwrap.dedent(
    """
    variable "node_groups" {
      type = number
    }
    """
)


@pytest.fixture(scope="module")
def grouped(tf_config, tmp_path_factory) -> Cluster:
    assert "node_groups        = var.node_groups" in GROUPED_ROOT
    work = tmp_path_factory.mktemp("node-groups")
    root = textwrap.dedent(GROUPED_ROOT).replace("MODULES", f"{modules_source(work)}/tls")
    (work / "main.tf").write_text(root)
    tf = faulty_terraform(tf_config, work)  # it only logs each program run
    tf.init()
    c = Cluster(tf)
    c.vars["node_groups"] = GROUPS
    c.write_vars()
    c.first = c.apply("first apply")
    return c


def node_stages(c: Cluster) -> dict[str, set[str]]:
    """Each node stage's key => the slots its markers hold, from the state's addresses."""
    stages: dict[str, set[str]] = {}
    for address in c.tf.state_resources():
        prefix = 'module.kube.module.node["'
        if address.startswith(prefix) and ".terraform_data.issued[" in address:
            stage = address[len(prefix) : address.index('"]')]
            slot = address[address.index('issued["') + len('issued["') : -2]
            stages.setdefault(stage, set()).add(slot)
    return stages


def assert_no_key_printed(c: Cluster) -> None:
    for step, text in c.texts:
        c.scan.assert_clean(step, text)


def test_nodes_share_at_most_node_groups_stages_and_get_the_certificates_of_a_stage_each(grouped):
    check_identities(grouped)
    # each node's certificates in the stage its name's hash picks (the formula tfext node-groups uses too)
    nodes, serving = grouped.vars["nodes"], grouped.vars["kubelet_serving"]
    expected: dict[str, set[str]] = {}
    for n in nodes:
        slots = {f"kubelet:{n}", *([f"serving:{n}"] if n in serving else [])}
        expected.setdefault(group_of(n, GROUPS), set()).update(slots)
    assert node_stages(grouped) == expected
    # a new CA signs every node's first certificates in its own run, as without groups
    assert grouped.first.runs == Counter({"kube-self-signed": 1, "etcd-signed": 1})
    assert_no_key_printed(grouped)


def test_adding_and_removing_a_node_touches_its_own_certificates_only(grouped):
    add = grouped.change(
        "add node-6 (serving)",
        nodes=[*grouped.vars["nodes"], "node-6"],
        kubelet_serving={**grouped.vars["kubelet_serving"], "node-6": {"ip_addresses": ["10.0.1.6"]}},
    )
    assert add.issued == {"kube.kubelet:node-6", "kube.serving:node-6"}, add
    assert add.dropped == set() and add.reissued == set(), add
    assert add.runs == Counter({"kube-self-signed": 1}), add.runs
    check_identities(grouped)

    serving = dict(grouped.vars["kubelet_serving"])
    serving.pop("node-2")
    remove = grouped.change(
        "remove node-2", nodes=[n for n in grouped.vars["nodes"] if n != "node-2"], kubelet_serving=serving
    )
    assert remove.dropped == {"kube.kubelet:node-2", "kube.serving:node-2"}, remove
    assert remove.issued == set() and remove.reissued == set(), remove
    assert remove.runs == Counter(), remove.runs  # a removal runs no program
    check_identities(grouped)
    assert_no_key_printed(grouped)


def refused_plan(c: Cluster, step: str, groups: int):
    result, runs = c.command(
        step, "plan", "-input=false", "-no-color", "-var", f"node_groups={groups}", check=False
    )
    return result, runs


def test_another_node_groups_is_refused_and_changes_nothing(grouped):
    before = json.loads(grouped.state())
    result, _ = refused_plan(grouped, "plan with node_groups = 4", 4)
    assert result.returncode == 1, result.output[-3000:]
    text = " ".join(result.output.split())
    assert "TFEXT-E095 node_groups" in text, text[-3000:]
    assert f"are issued with node_groups = {GROUPS}, not 4" in text, text[-3000:]
    after = json.loads(grouped.state())
    assert after["serial"] == before["serial"] and after["resources"] == before["resources"]
    assert_no_key_printed(grouped)


def without_node_layout(c: Cluster):
    """Drop the kube module's node_layout record from state; returns the state as it was."""
    saved = c.state()
    c.tf.run("state", "rm", "module.kube.terraform_data.node_layout")
    return saved


def restore(c: Cluster, saved: str) -> None:
    state = json.loads(saved)
    state["serial"] = json.loads(c.state())["serial"] + 1
    pushed = c.tf.workdir / "saved.tfstate"
    pushed.write_text(json.dumps(state))
    c.tf.run("state", "push", str(pushed))
    pushed.unlink()


def test_a_layout_record_made_again_over_stages_of_that_layout_changes_nothing_else(grouped):
    # The stages of this layout already hold certificates (as after tfext node-groups' moves): the record
    # made now says node_groups, and nothing else changes.
    saved = without_node_layout(grouped)
    before = json.loads(saved)
    try:
        plan, runs = grouped.command(
            "plan without node_layout", "plan", "-detailed-exitcode", "-input=false", "-no-color", check=False
        )
        assert plan.returncode == 2, plan.output[-3000:]
        assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.output, plan.output[-3000:]
        assert "module.kube.terraform_data.node_layout will be created" in plan.output
        assert runs == Counter()
        grouped.apply("apply recording node_layout")
        after = json.loads(grouped.state())
        # every record as it was (the first apply's data sources, if this is the apply after it, are gone)
        kept = [r for r in after["resources"] if r["name"] != "node_layout" and r["mode"] == "managed"]
        assert kept == [
            r for r in before["resources"] if r["name"] != "node_layout" and r["mode"] == "managed"
        ]
    finally:
        restore(grouped, saved)
    assert_no_key_printed(grouped)


def test_a_new_workspace_without_node_groups_records_64_and_one_stopped_before_the_record_keeps_0(
    tf_config, tmp_path_factory
):
    work = tmp_path_factory.mktemp("node-groups-unset")
    root = textwrap.dedent(GROUPED_ROOT).replace("MODULES", f"{modules_source(work)}/tls")
    unset = 'variable "node_groups" {\n  type    = number\n  default = null\n}'
    (work / "main.tf").write_text(root.replace('variable "node_groups" {\n  type = number\n}', unset))
    assert unset in (work / "main.tf").read_text()
    tf = faulty_terraform(tf_config, work)
    tf.init()
    c = Cluster(tf)
    c.write_vars()
    c.first = c.apply("first apply without node_groups")
    check_identities(c)
    nodes, serving = c.vars["nodes"], c.vars["kubelet_serving"]
    expected: dict[str, set[str]] = {}
    for n in nodes:
        expected.setdefault(group_of(n, 64), set()).update(
            {f"kubelet:{n}", *([f"serving:{n}"] if n in serving else [])}
        )
    assert node_stages(c) == expected
    # A first apply stopped after the module's first records and before node_layout (which every node
    # stage waits for): no node record exists yet. The record made then says 0, a stage per node, and the
    # apply issues the nodes' certificates there; nothing is refused and the next plan is quiet.
    c.tf.run("state", "rm", "module.kube.terraform_data.node_layout")
    for address in c.tf.state_resources():
        if address.startswith("module.kube.module.node["):
            c.tf.run("state", "rm", address)
    again = c.apply("apply after a first apply stopped before node_layout")
    assert again.runs == Counter({"kube-self-signed": len(nodes)}), again.runs  # each stage its own run
    assert sorted(node_stages(c)) == sorted(nodes)
    check_identities(c)
    # Setting node_groups now, without moving the nodes, is refused before anything changes.
    result, _ = refused_plan(c, "plan with node_groups = 64 over a stage per node", 64)
    assert result.returncode == 1, result.output[-3000:]
    text = " ".join(result.output.split())
    assert "are issued with node_groups = 0 (a stage per node), not 64" in text, text[-3000:]
    assert_no_key_printed(c)


@pytest.fixture(scope="module")
def per_node(tf_config, tmp_path_factory) -> Cluster:
    """The same workspace with a stage per node (node_groups = 0), as every workspace before it was."""
    work = tmp_path_factory.mktemp("stage-per-node")
    root = textwrap.dedent(GROUPED_ROOT).replace("MODULES", f"{modules_source(work)}/tls")
    (work / "main.tf").write_text(root)
    tf = faulty_terraform(tf_config, work)
    tf.init()
    c = Cluster(tf)
    c.vars["node_groups"] = 0
    c.write_vars()
    c.first = c.apply("first apply")
    return c


def test_a_workspace_from_before_node_groups_keeps_a_stage_per_node(per_node):
    # A state written before node_groups has a stage per node and no node_layout: a plan that sets
    # node_groups without the moves is refused (its stages would issue every node's certificates again),
    # and one with node_groups = 0 records 0, changing nothing else (unset: the test of a new workspace).
    stages = node_stages(per_node)
    assert sorted(stages) == sorted(per_node.vars["nodes"])
    saved = without_node_layout(per_node)
    try:
        result, _ = refused_plan(per_node, "plan of a workspace from before node_groups", GROUPS)
        assert result.returncode == 1, result.output[-3000:]
        text = " ".join(result.output.split())
        assert f"TFEXT-E095 node_groups = {GROUPS}: this workspace's node certificates are not in" in text, (
            text[-3000:]
        )
        plan, _ = per_node.command(
            "plan with node_groups = 0",
            "plan",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
            check=False,
        )
        assert plan.returncode == 2 and "Plan: 1 to add, 0 to change, 0 to destroy." in plan.output
    finally:
        restore(per_node, saved)
    quiet, runs = per_node.command(
        "plan after restoring", "plan", "-detailed-exitcode", "-input=false", "-no-color", check=False
    )
    assert quiet.returncode == 0 and runs == Counter(), quiet.output[-3000:]
    assert_no_key_printed(per_node)


def test_tfext_node_groups_moves_a_workspace_into_groups_issuing_nothing(per_node):
    # A workspace with a stage per node moves to node_groups with the `moved` blocks tfext node-groups
    # writes from its state: the plan moves every node record, replaces node_layout, and runs no program.
    before = serials(per_node.out)
    pulled = per_node.state()
    made = subprocess.run(
        [sys.executable, "-m", "tfext", "node-groups", str(GROUPS)],
        input=pulled,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    per_node.texts.append(("tfext node-groups", made.stdout + made.stderr))
    blocks = made.stdout.count("\nmoved {")
    records = sum(len(slots) for slots in node_stages(per_node).values())
    assert blocks == 2 * records  # each marker and the record that keeps it
    assert "-replace='module.kube.terraform_data.node_layout'" in made.stderr, made.stderr
    (per_node.tf.workdir / "node_groups_moved.tf").write_text(made.stdout)
    per_node.vars["node_groups"] = GROUPS
    per_node.write_vars()
    moved, runs = per_node.command(
        "apply with the moves",
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-replace=module.kube.terraform_data.node_layout",
    )
    assert moved.output.count("has moved to") == blocks, moved.output[-3000:]
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in moved.output, moved.output[-3000:]
    assert runs == Counter(), runs
    (per_node.tf.workdir / "node_groups_moved.tf").unlink()  # as tfext says: done with once applied
    per_node.out = hidden(per_node.tf.outputs())
    assert serials(per_node.out) == before  # nothing issued again
    assert all(stage.startswith("group-") for stage in node_stages(per_node))
    check_identities(per_node)
    quiet, runs = per_node.command(
        "plan after the move", "plan", "-detailed-exitcode", "-input=false", "-no-color", check=False
    )
    assert quiet.returncode == 0 and runs == Counter(), quiet.output[-3000:]
    assert_no_key_printed(per_node)


def test_many_nodes_in_a_stage_each_with_node_groups_unset_are_told_how_to_move(tf_config, tmp_path_factory):
    # TFEXT-E099: a workspace that keeps a stage per node (its record says 0) with 100 nodes or more and
    # node_groups unset warns at each plan, naming the move; the plan stays quiet. node_groups = 0 says
    # the layout is wanted, and nothing is said; under 100 nodes neither (the per_node workspace).
    work = tmp_path_factory.mktemp("stage-per-node-100")
    root = textwrap.dedent(GROUPED_ROOT).replace("MODULES", f"{modules_source(work)}/tls")
    unset = 'variable "node_groups" {\n  type    = number\n  default = null\n}'
    (work / "main.tf").write_text(root.replace('variable "node_groups" {\n  type = number\n}', unset))
    tf = faulty_terraform(tf_config, work)
    tf.init()
    c = Cluster(tf)
    c.vars.update(nodes=[f"w{i:03d}" for i in range(100)], kubelet_serving={}, node_groups=0)
    c.write_vars()
    c.apply("first apply of 100 nodes with node_groups = 0")
    assert not any("TFEXT-E099" in text for _, text in c.texts), "warned with node_groups = 0"
    del c.vars["node_groups"]
    c.write_vars()
    plan, runs = c.command(
        "plan with node_groups unset", "plan", "-detailed-exitcode", "-input=false", "-no-color", check=False
    )
    assert plan.returncode == 0 and runs == Counter(), plan.output[-3000:]
    text = " ".join(plan.output.split())
    assert "TFEXT-E099 nodes: this workspace issues its 100 nodes with a stage each" in text, text[-3000:]
    assert "tfext node-groups 64 > node_groups_moved.tf" in text and "set node_groups = 0" in text
    assert_no_key_printed(c)
