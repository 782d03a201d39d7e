"""The asset directory's layout: which file under DIR each certificate and key goes to, as `tfext
write-assets` writes them and the tools read them back (`tfext topology`, the stale files of
`tfext.tools.stale`).

`LAYOUT` is the one table of Tectonic's file names (`generated/tls/`); the user-provided example reads the
same names. `CLIENT_LAYOUT` adds the kube module's clients of their own (`admin.crt`, ...), and
`NODE_LAYOUT` puts each member's and node's own certificates (docs/per-node.md) in a directory of its own,
`etcd/members/<member>/` and `kube/nodes/<node>/`: the `member_certs_dir` and `node_certs_dir` the
user-provided flavors read. A layout name is an output name of the tectonic example, or one entry of a
per-node map output (`kube_certs_node_kubelet_client_cert_pem["w1"]`).
"""

from __future__ import annotations

import re

from tfext.nodes import is_node_name

# output name of terraform/examples/tectonic => file under the asset directory
LAYOUT: dict[str, str] = {
    "kube_certs_ca_cert_pem": "ca.crt",
    "kube_certs_ca_key_pem": "ca.key",
    "kube_certs_apiserver_cert_pem": "apiserver.crt",
    "kube_certs_apiserver_key_pem": "apiserver.key",
    "kube_certs_kubelet_cert_pem": "kubelet.crt",
    "kube_certs_kubelet_key_pem": "kubelet.key",
    "etcd_certs_etcd_ca_crt_pem": "etcd-client-ca.crt",
    "etcd_certs_etcd_client_crt_pem": "etcd-client.crt",
    "etcd_certs_etcd_client_key_pem": "etcd-client.key",
    "etcd_certs_etcd_server_crt_pem": "etcd/server.crt",
    "etcd_certs_etcd_server_key_pem": "etcd/server.key",
    "etcd_certs_etcd_peer_crt_pem": "etcd/peer.crt",
    "etcd_certs_etcd_peer_key_pem": "etcd/peer.key",
    "identity_certs_ca_cert_pem": "identity-ca.crt",
    "identity_certs_server_cert_pem": "identity-server.crt",
    "identity_certs_server_key_pem": "identity-server.key",
    "identity_certs_client_cert_pem": "identity-client.crt",
    "identity_certs_client_key_pem": "identity-client.key",
    "ingress_certs_ca_cert_pem": "ingress-ca.crt",
    "ingress_certs_cert_pem": "ingress.crt",
    "ingress_certs_key_pem": "ingress.key",
}


# Beyond Tectonic's layout (docs/per-node.md): the kube module's clients of their own, named as kubeadm
# names their files, and each member's and node's files: per-node map output => file of one entry,
# `{name}` its member or node.
CLIENT_LAYOUT: dict[str, str] = {
    "kube_certs_apiserver_kubelet_client_cert_pem": "apiserver-kubelet-client.crt",
    "kube_certs_apiserver_kubelet_client_key_pem": "apiserver-kubelet-client.key",
    "kube_certs_admin_cert_pem": "admin.crt",
    "kube_certs_admin_key_pem": "admin.key",
}
FILES = LAYOUT | CLIENT_LAYOUT  # every file of one name
NODE_LAYOUT: dict[str, str] = {
    "kube_certs_node_kubelet_client_cert_pem": "kube/nodes/{name}/kubelet-client.crt",
    "kube_certs_node_kubelet_client_key_pem": "kube/nodes/{name}/kubelet-client.key",
    "kube_certs_node_kubelet_serving_cert_pem": "kube/nodes/{name}/kubelet-serving.crt",
    "kube_certs_node_kubelet_serving_key_pem": "kube/nodes/{name}/kubelet-serving.key",
    "etcd_certs_etcd_member_server_crt_pem": "etcd/members/{name}/server.crt",
    "etcd_certs_etcd_member_server_key_pem": "etcd/members/{name}/server.key",
    "etcd_certs_etcd_member_peer_crt_pem": "etcd/members/{name}/peer.crt",
    "etcd_certs_etcd_member_peer_key_pem": "etcd/members/{name}/peer.key",
}
# One entry of a per-node map, named as Terraform addresses it:
# `kube_certs_node_kubelet_client_cert_pem["w1"]`.
ENTRY = re.compile(r'(?P<output>[a-z_]+)\["(?P<name>[^"]*)"\]')


def entry_name(output: str, node: str) -> str:
    """The layout name of one member's or node's file (`etcd_certs_etcd_member_peer_crt_pem["etcd-0"]`)."""
    return f'{output}["{node}"]'


def layout_file(name: str) -> str | None:
    """The file under DIR of a layout name: one of FILES, or one entry of a NODE_LAYOUT map whose key is
    a node name (so that it is one directory component, never `..` or a path). None for anything else."""

    if name in FILES:
        return FILES[name]
    entry = ENTRY.fullmatch(name)
    if entry is None or entry["output"] not in NODE_LAYOUT or not is_node_name(entry["name"]):
        return None
    return NODE_LAYOUT[entry["output"]].format(name=entry["name"])


def node_role(cert_file: str) -> tuple[str, str] | None:
    """(module, slot) of one member's or node's certificate file: `kube/nodes/w1/kubelet-client.crt` is
    kube's `kubelet:w1`. None for any other file."""
    from tfext.tools.roles import PER_NODE

    for kind, per_node in PER_NODE.items():
        for role, (cert, _) in per_node.items():
            before, _, after = NODE_LAYOUT[f"{kind}_certs_{cert}"].partition("{name}")
            node = cert_file[len(before) : -len(after)]
            if cert_file.startswith(before) and cert_file.endswith(after) and is_node_name(node):
                return kind, f"{role}:{node}"
    return None


def in_order(outputs: dict[str, str]) -> list[tuple[str, str]]:
    """(layout name, file) of every non-empty output of the layout, in writing order: FILES', then each
    member's and node's files, by file name."""
    static = [(name, file) for name, file in FILES.items() if outputs.get(name, "")]
    per_node = [(name, layout_file(name)) for name in outputs if name not in FILES and outputs[name]]
    return static + sorted(((n, f) for n, f in per_node if f), key=lambda item: item[1])


def role_names(kind: str, slot: str) -> tuple[str, str | None]:
    """The layout names of a role's certificate and key (None: the layout has no key file for it)."""
    from tfext.tools.roles import CONTRACT, PER_NODE

    role, _, node = slot.partition(":")
    if node:
        cert, key = PER_NODE[kind][role]
        return entry_name(f"{kind}_certs_{cert}", node), entry_name(f"{kind}_certs_{key}", node)
    cert, key = CONTRACT[kind][slot]
    key_name = f"{kind}_certs_{key}" if key else None
    return f"{kind}_certs_{cert}", key_name if key_name in FILES else None


def role_files(kind: str, slot: str) -> tuple[str, str | None]:
    """The files under DIR of a role's certificate and key (`kube/nodes/w1/kubelet-client.crt`, ...)."""
    cert, key = role_names(kind, slot)
    return layout_file(cert) or "", layout_file(key) if key else None
