"""`tfext write-assets DIR` after members and nodes are removed (issue 23): the files they leave are named
on stderr (TFEXT-E096), never their content, and the run still writes and exits 0; `--prune` removes
exactly those files - tfext's own layout, under DIR, never through a link - and the member or node
directories they leave empty. In every shape users pipe, and never for a role the input does not speak
for (the tectonic example's outputs hold no node map; `terraform output -json kube` no etcd)."""

from __future__ import annotations

import json
import os

import pytest

from ._helpers import files_written, key_body_lines, per_node_cluster, per_node_shapes

NOW = "2030-02-01T00:00:00Z"
# The cluster before: three nodes (two with a serving certificate) and three members. After: worker w3
# removed, w2 no longer served, member etcd-2 removed.
GONE = {"kube/kubelet:w3", "kube/serving:w2", "etcd/server:etcd-2", "etcd/peer:etcd-2"}
STALE = [
    "etcd/members/etcd-2/peer.crt",
    "etcd/members/etcd-2/peer.key",
    "etcd/members/etcd-2/server.crt",
    "etcd/members/etcd-2/server.key",
    "kube/nodes/w2/kubelet-serving.crt",
    "kube/nodes/w2/kubelet-serving.key",
    "kube/nodes/w3/kubelet-client.crt",
    "kube/nodes/w3/kubelet-client.key",
]


@pytest.fixture(scope="module")
def before():
    return per_node_cluster(
        nodes=("w1", "w2", "w3"), serving=("w1", "w2"), members=("etcd-0", "etcd-1", "etcd-2")
    )


@pytest.fixture(scope="module")
def shapes(before) -> tuple[dict[str, str], dict[str, str]]:
    """(shape => the JSON of the cluster before, shape => the JSON after the removals)."""
    after = {role: pair for role, pair in before.items() if role not in GONE}
    return per_node_shapes(before), per_node_shapes(after)


def write(cli, target, document: str, *args: str):
    run = cli("write-assets", *args, str(target), stdin=document, now=NOW)
    assert run.code == 0, run.err
    return run


def key_lines(pairs) -> list[str]:
    return [line for pair in pairs.values() for line in key_body_lines(pair.key_pem)]


@pytest.mark.parametrize("shape", ["objects", "flat", "state", "kept"])
def test_the_files_of_removed_members_and_nodes_are_named_then_pruned(cli, tmp_path, shapes, before, shape):
    target = tmp_path / "tls"
    write(cli, target, shapes[0][shape])
    everything = files_written(target)
    assert set(STALE) <= set(everything)

    run = write(cli, target, shapes[1][shape])
    assert files_written(target).keys() == everything.keys(), "without --prune nothing is removed"
    err = run.err.splitlines()
    assert err[0] == (
        f"tfext write-assets: TFEXT-E096 {target}: 8 files of members or nodes the input no longer holds, "
        "left as they were:"
    )
    assert err[1:9] == [f"  {target / f}" for f in STALE]
    assert "--prune" in err[9] and len(err) == 10
    assert not any(line in run.out + run.err for line in key_lines(before))

    run = write(cli, target, shapes[1][shape], "--prune")
    left = files_written(target)
    assert set(everything) - set(left) == set(STALE)
    assert {f: everything[f] for f in left if f.startswith(("kube/nodes/", "etcd/members/"))} == {
        f: left[f] for f in left if f.startswith(("kube/nodes/", "etcd/members/"))
    }, "every other member's and node's files are as they were"
    assert not (target / "kube/nodes/w3").exists() and not (target / "etcd/members/etcd-2").exists()
    assert (target / "kube/nodes/w2/kubelet-client.key").exists(), "w2 is still a node: its directory stays"
    err = run.err.splitlines()
    assert err[0] == (
        "tfext write-assets: removed 8 files of members or nodes the input no longer holds, and 2 "
        "directories left empty:"
    )
    assert f"  {target / 'kube/nodes/w3'}/" in err and f"  {target / 'etcd/members/etcd-2'}/" in err
    assert not any(line in run.out + run.err for line in key_lines(before))

    again = write(cli, target, shapes[1][shape], "--prune")
    assert again.err == "" and files_written(target) == left


def test_outputs_without_node_maps_never_make_a_nodes_files_stale(cli, tmp_path, shapes):
    """The tectonic example's flat outputs hold no node map, `terraform output -json kube` no etcd module:
    the files of roles the input does not speak for are kept, even with --prune."""
    target = tmp_path / "tls"
    write(cli, target, shapes[0]["objects"])
    everything = files_written(target)
    flat = json.loads(shapes[1]["flat"])
    tectonic = {
        name: value for name, value in flat.items() if "_node_" not in name and "_member_" not in name
    }
    run = write(cli, target, json.dumps(tectonic), "--prune")
    assert run.err == "" and files_written(target).keys() == everything.keys()
    kube_only = json.dumps(json.loads(shapes[1]["objects"])["kube"])  # `terraform output -json kube`
    run = write(cli, target, kube_only, "--prune")
    assert sorted(set(everything) - set(files_written(target))) == [f for f in STALE if f.startswith("kube/")]
    assert (target / "etcd/members/etcd-2/peer.key").exists()


def test_only_tfexts_own_files_are_removed_never_through_a_link(cli, tmp_path, shapes):
    target, elsewhere = tmp_path / "tls", tmp_path / "elsewhere"
    write(cli, target, shapes[0]["objects"])
    (elsewhere / "w9").mkdir(parents=True)
    (elsewhere / "w9" / "kubelet-client.key").write_text("someone else's")
    (elsewhere / "kubelet-serving.key").write_text("someone else's")
    nodes = target / "kube/nodes"
    (nodes / "w9").symlink_to(elsewhere / "w9", target_is_directory=True)  # a node directory that is a link
    (nodes / "w3" / "notes.txt").write_text("mine")  # not a file tfext writes: w3's directory stays
    os.remove(nodes / "w2" / "kubelet-serving.key")
    (nodes / "w2" / "kubelet-serving.key").symlink_to(
        elsewhere / "kubelet-serving.key"
    )  # a file that is a link
    (nodes / "W4").mkdir()  # not a node name
    (nodes / "W4" / "kubelet-client.key").write_text("not a node's")
    run = write(cli, target, shapes[1]["objects"], "--prune")
    assert (nodes / "w3" / "notes.txt").read_text() == "mine" and not (
        nodes / "w3" / "kubelet-client.key"
    ).exists()
    assert (nodes / "w2" / "kubelet-serving.key").is_symlink() and not (
        nodes / "w2" / "kubelet-serving.crt"
    ).exists()
    assert (elsewhere / "w9" / "kubelet-client.key").read_text() == "someone else's"
    assert (elsewhere / "kubelet-serving.key").read_text() == "someone else's"
    assert (nodes / "W4" / "kubelet-client.key").exists() and (nodes / "w9").is_symlink()
    assert "w9" not in run.err and "W4" not in run.err and "notes.txt" not in run.err
    assert f"  {nodes / 'w3'}/" not in run.err.splitlines()


def test_a_per_node_directory_that_is_a_link_is_not_looked_into(cli, tmp_path, shapes):
    """Every node removed (the maps empty): `kube/nodes` a link to elsewhere is neither read nor pruned."""
    target, elsewhere = tmp_path / "tls", tmp_path / "elsewhere"
    (elsewhere / "w1").mkdir(parents=True)
    (elsewhere / "w1" / "kubelet-client.key").write_text("someone else's")
    objects = json.loads(shapes[1]["objects"])
    for name in ("node_kubelet_client_cert_pem", "node_kubelet_client_key_pem"):
        objects["kube"]["value"][name] = {}
    for name in ("node_kubelet_serving_cert_pem", "node_kubelet_serving_key_pem"):
        objects["kube"]["value"][name] = {}
    (target / "kube").mkdir(parents=True)
    (target / "kube" / "nodes").symlink_to(elsewhere, target_is_directory=True)
    run = write(cli, target, json.dumps(objects), "--prune")
    assert "elsewhere" not in run.err and "kube/nodes" not in run.err
    assert (elsewhere / "w1" / "kubelet-client.key").read_text() == "someone else's"


def test_a_file_that_cannot_be_removed_is_named_and_the_run_fails(cli, tmp_path, shapes):
    target = tmp_path / "tls"
    write(cli, target, shapes[0]["objects"])
    (target / "kube/nodes/w3").chmod(0o775)  # writable by its group: refused as when writing (E065)
    run = cli("write-assets", "--prune", str(target), stdin=shapes[1]["objects"], now=NOW)
    assert run.code == 1
    assert f"TFEXT-E065 {target / 'kube/nodes/w3'}: is writable by its group" in run.err
    assert (target / "kube/nodes/w3/kubelet-client.key").exists()
    assert not (target / "etcd/members/etcd-2").exists(), "the others are still pruned"
