"""`tfext node-groups N`: move a workspace's nodes into N issuing stages (0: one each), issuing nothing.

    terraform state pull | tfext node-groups 64 > node_groups_moved.tf
        prints a `moved` block for each record of a node of kube/self-signed whose stage is not the one
        `node_groups = N` puts it in (`module.<kube>.module.node["worker-1"]...` to
        `module.<kube>.module.node["group-007"]...`, or back with N = 0), so that Terraform moves the
        records instead of issuing every node's certificates again, and says on stderr the apply that
        finishes the move.

Then set `node_groups = N` on the module and run
`terraform apply -replace=<module>.terraform_data.node_layout` (the record of the value the nodes were
issued with; a plain apply where the state has none yet). Its plan shows the moves and that one record
replaced: no certificate is issued or dropped. Delete the file after that apply: Terraform checks each
`moved` block at every plan (4000 of them made a 1000-node quiet plan 41 s instead of 10 s). A node's
stage is the one the module computes: `group-%03d` of the first 32 bits of the SHA-256 of its name,
modulo N.
"""

from __future__ import annotations

import hashlib
import re
import sys

from tfext.nodes import NODE_NAME
from tfext.tools import state as states
from tfext.tools.cli import Parser, guarded, say
from tfext.tools.statefile import read_state

MAX_GROUPS = 256  # tfext.catalog.MAX_NODE_GROUPS, the module's limit
# A module path as Terraform writes it (calls, each with an optional key), and the kube node stage in it.
_CALL = r'module\.[A-Za-z_][\w-]*(?:\[(?:\d+|"[\w.-]*")\])?'
_OWNER = rf"{_CALL}(?:\.{_CALL})*"
OWNER = re.compile(rf"^{_OWNER}$")
NODE_STAGE = re.compile(rf'^(?P<owner>{_OWNER})\.module\.node\["(?P<stage>[a-z0-9.-]+)"\]$')
PER_NODE_SLOT = re.compile(r"^(?:kubelet|serving):(?P<node>[^:]+)$")


def group_of(node: str, groups: int) -> str:
    """The stage kube/self-signed gives `node` with `node_groups = groups`:
    `format("group-%03d", parseint(substr(sha256(node), 0, 8), 16) % groups)`."""
    return f"group-{int(hashlib.sha256(node.encode('utf-8')).hexdigest()[:8], 16) % groups:03d}"


def stage_of(node: str, groups: int) -> str:
    """A node's stage key: its own name with `node_groups = 0`, else its group."""
    return node if groups == 0 else group_of(node, groups)


def moves(state: dict, groups: int) -> tuple[list[tuple[str, str]], set[str]]:
    """(from, to) of every record of a kube node stage that `groups` puts in another stage, and the kube
    modules (owners) they belong to."""
    found: list[tuple[str, str]] = []
    owners: set[str] = set()
    for resource, instance in states.instances(state):
        if not states.is_record(resource, instance):
            continue
        stage = NODE_STAGE.match(states.module_of(resource))
        slot = instance["index_key"]
        per_node = PER_NODE_SLOT.match(slot)
        # Only what the module could have written: a node name, in its own stage or a group (nothing of a
        # hand-edited state reaches the HCL written here unchecked).
        if stage is None or per_node is None or not NODE_NAME.match(per_node["node"]):
            continue
        if stage["stage"] != per_node["node"] and not re.fullmatch(r"group-\d{3}", stage["stage"]):
            continue
        target = f'{stage["owner"]}.module.node["{stage_of(per_node["node"], groups)}"]'
        if target == states.module_of(resource):
            continue
        found.append(
            (states.address(resource, instance), states.record_address(target, resource["name"], slot))
        )
        owners.add(stage["owner"])
    return sorted(found), owners


def layout_records(state: dict) -> dict[str, object]:
    """The kube modules whose state already holds their `node_layout` record => the node_groups it says
    (None where it says none). Only module paths as Terraform writes them."""
    found: dict[str, object] = {}
    for resource, instance in states.instances(state):
        if resource.get("mode") == "managed" and resource.get("name") == "node_layout":
            owner = states.module_of(resource)
            recorded = instance.get("attributes", {}).get("input")
            if OWNER.match(owner):
                found[owner] = recorded.get("groups") if isinstance(recorded, dict) else None
    return found


def _groups(text: str) -> int:
    value = int(text)  # ValueError for what is no whole number
    if not 0 <= value <= MAX_GROUPS:
        raise ValueError(text)
    return value


@guarded("tfext node-groups")
def main(argv: list[str]) -> int:
    parser = Parser(prog="tfext node-groups", description=__doc__.split("\n\n")[1].strip())
    parser.add_argument(
        "groups",
        metavar="N",
        help=f"the node_groups to move to: 0 (a stage per node) to {MAX_GROUPS} (e.g. 64 for 1000 nodes)",
    )
    args = parser.parse_args(argv)
    try:
        groups = _groups(args.groups)
    except ValueError:
        parser.error(f"N must be a whole number from 0 to {MAX_GROUPS}")
    state = read_state()
    found, owners = moves(state, groups)
    if not found:
        sys.stdout.write(
            f"# every kube node here is in its stage for node_groups = {groups}; nothing moves\n"
        )
        # No node record to move (none issued yet, or all already there), but a record of another value.
        other = sorted(owner for owner, recorded in layout_records(state).items() if recorded != groups)
        if other:
            replace = " ".join(f"-replace='{owner}.terraform_data.node_layout'" for owner in other)
            say(
                "tfext node-groups",
                f"no record moves; to record node_groups = {groups} in {', '.join(other)}, set it there and "
                f"run: terraform apply {replace}",
            )
        return 0
    into = f"{groups} issuing stages" if groups else "a stage each"
    sys.stdout.write(
        f"# tfext node-groups {groups}: the nodes of {', '.join(sorted(owners))} into {into}.\n"
        f"# Set node_groups = {groups} on that module; the plan shows these moves and its node_layout "
        "record\n# replaced: no certificate issued or dropped. Delete this file after that apply.\n"
    )
    for source, target in found:
        sys.stdout.write(f"\nmoved {{\n  from = {source}\n  to   = {target}\n}}\n")
    recorded = set(layout_records(state))
    replace = " ".join(
        f"-replace='{owner}.terraform_data.node_layout'" for owner in sorted(owners & recorded)
    )
    say(
        "tfext node-groups",
        f"{len(found)} records of {len(owners)} module(s) to move; with this file beside the root module and "
        f"node_groups = {groups} set: terraform apply{' ' + replace if replace else ''}; then delete the "
        "file (Terraform checks each moved block at every plan)",
    )
    return 0
