"""The module programs: one per Terraform module flavor, named `<module>-<flavor>`.

A program is a module (its certificate slots, bound to role profiles) plus the query schema of its flavor
(`tfext/schemas/<program>.json`, the truth about which keys it takes). Flavors of one module share the
engine, so they cannot drift apart.
"""

from __future__ import annotations

from tfext import profiles as p
from tfext.programs.engine import Module, PerNode, Slot

MODULES: dict[str, Module] = {
    "etcd": Module(
        "etcd",
        ca=Slot("ca", p.ETCD_CA),
        leaves=(Slot("server", p.ETCD_SERVER), Slot("peer", p.ETCD_PEER), Slot("client", p.ETCD_CLIENT)),
        service_hosts=20,
        per_node=(
            PerNode("server", p.ETCD_MEMBER_SERVER, "members"),
            PerNode("peer", p.ETCD_MEMBER_PEER, "members"),
        ),
    ),
    "kube": Module(
        "kube",
        ca=Slot("ca", p.KUBE_CA),
        leaves=(
            Slot("apiserver", p.APISERVER),
            Slot("kubelet", p.KUBELET),
            Slot("apiserver_kubelet_client", p.APISERVER_KUBELET_CLIENT),
            Slot("admin", p.ADMIN),
        ),
        per_node=(
            PerNode("kubelet", p.KUBELET_CLIENT, "nodes"),
            PerNode("serving", p.KUBELET_SERVING, "serving_nodes"),
        ),
    ),
    # identity and ingress are signed by a CA they are given (the kube CA in Tectonic); they never issue one.
    "identity": Module(
        "identity",
        ca=Slot("ca", p.KUBE_CA),
        leaves=(Slot("server", p.IDENTITY_SERVER), Slot("client", p.IDENTITY_CLIENT)),
    ),
    "ingress": Module("ingress", ca=Slot("ca", p.KUBE_CA), leaves=(Slot("ingress", p.INGRESS),)),
}

PROGRAMS: dict[str, str] = {
    "etcd-signed": "etcd",
    "etcd-user-provided": "etcd",
    "kube-self-signed": "kube",
    "kube-user-provided": "kube",
    "identity-self-signed": "identity",
    "identity-user-provided": "identity",
    "ingress-self-signed": "ingress",
    "ingress-user-provided": "ingress",
}


def handler(program: str):
    """The query handler of a program, for `tfext.protocol.run`."""
    from tfext.programs import engine

    module = MODULES[PROGRAMS[program]]
    return lambda query: engine.run(module, query)
