"""The human commands on one identity per node (docs/per-node.md): a made-up kube and etcd with nodes and
members of their own, read in the three shapes users have - module-object outputs, flat outputs
(`kube_certs_node_kubelet_client_cert_pem = {w1 = ...}`) and `terraform state pull` with no outputs
(`terraform_data.sealed["kubelet:w1"]`) - and from a user-provided flavor's state. Every command finds
each member's and node's certificates by role (`kube/kubelet:w1`, `etcd/server:etcd-0`) and the kube
module's own clients (`kube/admin`, `kube/apiserver_kubelet_client`), the same in every shape; no key
is ever printed."""

from __future__ import annotations

import json

import pytest

from ._helpers import (
    MEMBERS,
    NODES,
    SERVING,
    files_written,
    key_body_lines,
    per_node_cluster,
    per_node_shapes,
    state,
    verify_resource,
)

NOW = "2030-02-01T00:00:00Z"


@pytest.fixture(scope="module")
def pairs():
    return per_node_cluster()


@pytest.fixture(scope="module")
def shapes(pairs) -> dict[str, str]:
    return per_node_shapes(pairs)


def output_of(cli, *args: str, stdin: str) -> str:
    """What `tfext ARGS` prints on stdout, for a run that must succeed."""
    result = cli(*args, stdin=stdin, now=NOW)
    assert result.code == 0, result.err
    return result.out


def per_shape(shapes, run) -> object:
    """`run(document)` for every shape; each must give what the module objects give."""
    results = {shape: run(document) for shape, document in shapes.items()}
    for shape, result in results.items():
        assert result == results["objects"], f"{shape} differs from the module objects"
    return results["objects"]


PER_NODE_ROLES = {
    *(f"kube/kubelet:{n}" for n in NODES),
    *(f"kube/serving:{n}" for n in SERVING),
    *(f"etcd/{role}:{m}" for m in MEMBERS for role in ("server", "peer")),
}
NEW_CLIENTS = {"kube/admin", "kube/apiserver_kubelet_client"}


def test_the_fixture_holds_every_new_role(pairs):
    assert set(pairs) >= PER_NODE_ROLES | NEW_CLIENTS


def test_check_expiration_names_each_member_and_node_and_its_ca(cli, shapes, pairs):
    def run(document):
        report = json.loads(output_of(cli, "check-expiration", "-", "--json", stdin=document))
        return {
            (c["name"], c["sha256_fingerprint"], c["certificate_authority"]) for c in report["certificates"]
        }

    found = per_shape(shapes, run)
    assert {(name, pair.fingerprint) for name, pair in pairs.items()} == {(n, f) for n, f, _ in found}
    authority = {name: ca for name, _, ca in found}
    assert {authority[r] for r in PER_NODE_ROLES if r.startswith("kube/")} == {"kube/ca"}
    assert {authority[r] for r in PER_NODE_ROLES if r.startswith("etcd/")} == {"etcd/ca"}
    assert authority["kube/admin"] == authority["kube/apiserver_kubelet_client"] == "kube/ca"


def test_inspect_matches_every_member_and_node_key_to_its_certificate(cli, shapes):
    def run(document):
        report = json.loads(output_of(cli, "inspect", "--json", "-", stdin=document))
        return {c["files"][0] for c in report["certificates"] if c["private_keys"]} - {"etcd/ca"}

    keyed = per_shape(shapes, run)  # the state also holds the etcd CA's key, which no output hands out
    assert keyed >= PER_NODE_ROLES | NEW_CLIENTS


def test_summary_has_a_row_per_member_and_node(cli, shapes, pairs):
    table = per_shape(shapes, lambda document: output_of(cli, "summary", stdin=document))
    rows = {line.split()[0]: line.split()[1] for line in table.splitlines()[1:]}
    assert set(rows) == set(pairs)
    assert rows["kube/kubelet:w1"] == "system:node:w1" and rows["etcd/peer:etcd-1"] == "etcd-1"


def test_topology_draws_each_member_and_node_under_its_ca_with_its_consumer(cli, shapes, pairs):
    drawing = per_shape(shapes, lambda document: output_of(cli, "topology", stdin=document))
    for edge in (
        "c_ca -->|signs| c_kube_nodes_w1_kubelet_client",
        "c_ca -->|signs| c_kube_nodes_w1_kubelet_serving",
        "c_ca -->|signs| c_admin",
        "c_etcd_client_ca -->|signs| c_etcd_members_etcd_0_peer",
        'c_kube_nodes_w2_kubelet_client -->|"kubeconfig client-certificate / client-key"| u_kubelet',
        'c_kube_nodes_w1_kubelet_serving -->|"--tls-cert-file / --tls-private-key-file"| u_kubelet',
        'c_etcd_members_etcd_1_server -->|"--cert-file / --key-file"| u_etcd',
        "c_apiserver_kubelet_client"
        ' -->|"--kubelet-client-certificate / --kubelet-client-key"| u_kube_apiserver',
        'c_admin -->|"client-certificate-data / client-key-data"| u_kubeconfig_admin',
    ):
        assert f"  {edge}" in drawing.splitlines(), edge
    assert (
        "kubelet client w1<br/>kube/nodes/w1/kubelet-client.crt + kubelet-client.key<br/>CN=system:node:w1"
        in drawing
    )
    assert drawing.count("-->|signs|") == len(pairs) - 2  # every leaf, signed by its CA


def _written(cli, document: str, target) -> dict[str, tuple[str, int]]:
    output_of(cli, "write-assets", str(target), stdin=document)
    return files_written(target)


def test_write_assets_puts_each_member_and_node_in_a_directory_of_its_own(cli, shapes, pairs, tmp_path):
    written = {shape: _written(cli, document, tmp_path / shape) for shape, document in shapes.items()}
    files = written["objects"]
    assert written["flat"] == written["state"] == files
    per_node = {name for name in files if name.startswith(("kube/", "etcd/members/"))}
    assert per_node == {
        *(f"kube/nodes/{n}/kubelet-client.{ext}" for n in NODES for ext in ("crt", "key")),
        *(f"kube/nodes/{n}/kubelet-serving.{ext}" for n in SERVING for ext in ("crt", "key")),
        *(
            f"etcd/members/{m}/{role}.{ext}"
            for m in MEMBERS
            for role in ("server", "peer")
            for ext in ("crt", "key")
        ),
    }
    assert {"admin.crt", "admin.key", "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key"} <= set(
        files
    )
    assert {mode for name, (_, mode) in files.items() if name.endswith(".key")} == {0o600}
    assert {mode for name, (_, mode) in files.items() if name.endswith(".crt")} == {0o644}
    written = (tmp_path / "state" / "kube/nodes/w2/kubelet-client.crt").read_text()
    assert written == pairs["kube/kubelet:w2"].cert_pem
    assert (tmp_path / "state" / "etcd/members/etcd-1/peer.key").read_text() == pairs[
        "etcd/peer:etcd-1"
    ].key_pem
    for directory in ("kube", "kube/nodes", "kube/nodes/w1", "etcd/members", "etcd/members/etcd-0"):
        assert (tmp_path / "objects" / directory).stat().st_mode & 0o777 == 0o755


def test_no_command_prints_a_member_or_node_key(cli, shapes, pairs, tmp_path):
    lines = [line for role in PER_NODE_ROLES | NEW_CLIENTS for line in key_body_lines(pairs[role].key_pem)]
    for document in shapes.values():
        for args in (
            ("check-expiration", "-"),
            ("inspect", "-"),
            ("summary",),
            ("topology",),
            ("write-assets", str(tmp_path / "w")),
        ):
            result = cli(*args, stdin=document, now=NOW)
            assert not any(line in result.out + result.err for line in lines), args[0]


def test_a_user_provided_state_names_each_nodes_key_file_and_write_assets_copies_it(cli, pairs, tmp_path):
    slots = {
        "ca": pairs["kube/ca"],
        "kubelet:w1": pairs["kube/kubelet:w1"],
        "serving:w1": pairs["kube/serving:w1"],
    }
    keys = tmp_path / "keys"
    keys.mkdir()
    document = json.dumps(
        state(verify_resource("module.kube_certs.module.given", "kube-user-provided", slots, keys))
    )
    checked = json.loads(cli("check-expiration", "-", "--json", stdin=document, now=NOW).out)
    assert {c["name"] for c in checked["certificates"]} == {"kube/ca", "kube/kubelet:w1", "kube/serving:w1"}
    result = cli("write-assets", str(tmp_path / "tls"), stdin=document)
    assert result.code == 0, result.err
    node = tmp_path / "tls" / "kube" / "nodes" / "w1"
    assert (node / "kubelet-client.key").read_bytes() == (keys / "kubelet:w1.key").read_bytes()
    assert (node / "kubelet-serving.crt").read_text() == pairs["kube/serving:w1"].cert_pem
