"""A module as the programs see it: a CA slot and leaf slots, each bound to a role profile, and the roles
issued once per member or node. `tfext.programs` builds one `Module` per module of the catalogue
(`tfext/catalog.py`); the engine (`engine.py`) decides what each slot's query asks, and the cryptographic half
(`material.py`) does it. Pure data: no cryptography.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tfext.profiles import Inputs, Node, Profile


@dataclass(frozen=True)
class Slot:
    """One certificate of a module: its name in the query and the result, and the profile it is issued by
    or checked against."""

    name: str  # result keys start with it: "server" -> server_cert_pem, "peer:etcd-0" -> peer:etcd-0_...
    profile: Profile
    node: Node | None = None  # the member or node a per-node slot is for

    def inputs(self, module_inputs: Inputs) -> Inputs:
        """The inputs that shape this slot: a per-node slot's are the module's, with its member or node."""
        return module_inputs if self.node is None else dataclasses.replace(module_inputs, node=self.node)


@dataclass(frozen=True)
class PerNode:
    """A role issued once per member or node: slot `<prefix>:<name>` for each entry of `Inputs.<source>`."""

    prefix: str
    profile: Profile
    source: str  # "members", "nodes" or "serving_nodes"


@dataclass(frozen=True)
class Module:
    """A module: its CA slot, its leaf slots, and its per-node roles."""

    name: str
    ca: Slot
    leaves: tuple[Slot, ...]
    service_hosts: int = 1  # highest service CIDR host number its certificates use
    per_node: tuple[PerNode, ...] = ()

    @property
    def slots(self) -> tuple[Slot, ...]:
        """The slots every query of this module may name (per-node slots depend on the query)."""
        return (self.ca, *self.leaves)

    def slots_for(self, inputs: Inputs) -> tuple[Slot, ...]:
        """Every slot of one query: the fixed ones, then one per member or node and per-node role."""
        per_node = tuple(
            Slot(f"{role.prefix}:{node.name}", role.profile, node)
            for role in self.per_node
            for node in getattr(inputs, role.source)
        )
        return self.slots + per_node
