"""`tfext topology`: the seed's CA topology drawn from the certificates themselves (which CA signs what is
checked on signatures) with the flag that consumes each file; Mermaid and DOT; the same drawing from
`terraform output -json` and from a write-assets directory; the drawing in docs/day-two.md is current."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tfext.tools.assets import LAYOUT

from ._helpers import doc_block, key_body_lines, make_cert, per_node_cluster, per_node_shapes, tfext

DAMAGED = "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n"


def signs_edges(mermaid: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^  (\S+) -->\|signs\| (\S+)$", mermaid, re.M))


def node_labels(mermaid: str) -> dict[str, str]:
    return dict(re.findall(r'^    (c_\w+)\[\[?"(.*?)"\]\]?$', mermaid, re.M))


def use_edges(mermaid: str) -> set[tuple[str, str, str]]:
    return set(re.findall(r'^  (\S+) -\.?->\|"(.*?)"\| (u_\w+)$', mermaid, re.M))


@pytest.fixture(scope="module")
def assets_dir(expiring_outputs_json, tmp_path_factory):
    directory = tmp_path_factory.mktemp("topology") / "tls"
    proc = tfext("write-assets", str(directory), stdin=expiring_outputs_json)
    assert proc.returncode == 0, proc.stderr
    return directory


@pytest.mark.terraform
def test_the_example_draws_two_cas_and_the_consumer_of_every_file(expiring_outputs_json):
    proc = tfext("topology", stdin=expiring_outputs_json)
    assert proc.returncode == 0, proc.stderr
    mermaid = proc.stdout
    assert mermaid.startswith("flowchart LR\n")
    labels = node_labels(mermaid)
    # The identity and ingress CAs of the example ARE the kube CA: one node holding three files.
    assert labels["c_ca"] == "kube-ca (CA)<br/>ca.crt + ca.key · identity-ca.crt · ingress-ca.crt"
    assert labels["c_etcd_client_ca"] == "etcd-ca (CA)<br/>etcd-client-ca.crt"
    assert signs_edges(mermaid) == {
        ("c_etcd_client_ca", "c_etcd_server"),
        ("c_etcd_client_ca", "c_etcd_peer"),
        ("c_etcd_client_ca", "c_etcd_client"),
        ("c_ca", "c_apiserver"),
        ("c_ca", "c_kubelet"),
        ("c_ca", "c_apiserver_kubelet_client"),
        ("c_ca", "c_admin"),
        ("c_ca", "c_identity_server"),
        ("c_ca", "c_identity_client"),
        ("c_ca", "c_ingress"),
    }
    uses = use_edges(mermaid)
    for edge in [
        ("c_etcd_server", "--cert-file / --key-file", "u_etcd"),
        ("c_etcd_peer", "--peer-cert-file / --peer-key-file", "u_etcd"),
        ("c_etcd_client_ca", "--trusted-ca-file, --peer-trusted-ca-file", "u_etcd"),
        ("c_etcd_client_ca", "--etcd-cafile", "u_kube_apiserver"),
        ("c_etcd_client", "--etcd-certfile / --etcd-keyfile", "u_kube_apiserver"),
        ("c_ca", "--client-ca-file", "u_kubelet"),
        ("c_ca", "--client-ca-file, --tls-ca-file, --oidc-ca-file", "u_kube_apiserver"),
        ("c_ca", "grpc.tlsClientCA", "u_tectonic_identity"),
        ("c_ca", "BRIDGE_CA_FILE", "u_tectonic_console"),
        ("c_identity_server", "grpc.tlsCert / grpc.tlsKey", "u_tectonic_identity"),
        (
            "c_identity_client",
            "BRIDGE_DEX_CLIENT_CERT_FILE / BRIDGE_DEX_CLIENT_KEY_FILE",
            "u_tectonic_console",
        ),
        ("c_ingress", "--default-ssl-certificate", "u_tectonic_ingress_controller"),
    ]:
        assert edge in uses
    for filename in LAYOUT.values():  # every file of the layout is drawn
        assert filename.rsplit("/", 1)[-1] in mermaid, filename


@pytest.mark.terraform
def test_the_drawing_is_the_same_from_outputs_and_from_a_write_assets_directory(
    expiring_outputs_json, assets_dir
):
    for fmt in ("mermaid", "dot"):
        from_outputs = tfext("topology", "--format", fmt, stdin=expiring_outputs_json)
        from_dir = tfext("topology", "--format", fmt, str(assets_dir))
        assert from_dir.returncode == 0 and from_outputs.stdout == from_dir.stdout


@pytest.mark.terraform
def test_no_key_material_is_read_into_the_drawing(expiring, expiring_outputs_json):
    proc = tfext("topology", stdin=expiring_outputs_json)
    for name, value in expiring.outputs.items():
        if name.endswith("key_pem") and value:
            assert not any(line in proc.stdout for line in key_body_lines(value))


@pytest.mark.terraform
def test_the_doc_embeds_the_current_drawing_of_the_example(expiring_outputs_json):
    # The example's drawing carries names only (no serials or dates), so a re-issue draws the same.
    embedded = doc_block("topology", "mermaid")
    assert embedded == tfext("topology", stdin=expiring_outputs_json).stdout


def layout_dir(tmp_path, ingress_ca_is_kube_ca: bool):
    """A layout directory of made-up certificates; the ingress CA is the kube CA or its own."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    kube_ca = make_cert("kube-ca", ca=True)
    ingress_ca = kube_ca if ingress_ca_is_kube_ca else make_cert("ingress-ca", ca=True)
    (tmp_path / "ca.crt").write_text(kube_ca.cert_pem)
    (tmp_path / "apiserver.crt").write_text(make_cert("kube-apiserver", kube_ca).cert_pem)
    (tmp_path / "ingress-ca.crt").write_text(ingress_ca.cert_pem)
    ingress = make_cert("console.example.com", ingress_ca)
    (tmp_path / "ingress.crt").write_text(ingress.cert_pem)
    (tmp_path / "ingress.key").write_text(ingress.key_pem)
    return tmp_path


def test_who_signs_what_is_read_from_the_certificates_not_assumed(cli, tmp_path):
    shared = cli("topology", str(layout_dir(tmp_path / "a", True)))
    own = cli("topology", str(layout_dir(tmp_path / "b", False)))
    assert ("c_ca", "c_ingress") in signs_edges(shared.out)
    assert ("c_ingress_ca", "c_ingress") in signs_edges(own.out)
    assert node_labels(own.out)["c_ingress_ca"] == "ingress-ca (CA)<br/>ingress-ca.crt"
    assert (
        node_labels(own.out)["c_ingress"]
        == "ingress server<br/>ingress.crt + ingress.key<br/>CN=console.example.com"
    )
    assert node_labels(own.out)["c_apiserver"].startswith("API server<br/>apiserver.crt<br/>")  # no key file


def test_a_missing_issuer_is_drawn_as_such(cli, tmp_path):
    directory = layout_dir(tmp_path, True)
    (directory / "ca.crt").unlink()
    (directory / "ingress-ca.crt").unlink()
    run = cli("topology", str(directory))
    assert '  i_cn_kube_ca{{"issuer not given<br/>CN=kube-ca"}}' in run.out
    assert ("i_cn_kube_ca", "c_apiserver") in signs_edges(run.out)
    dot = cli("topology", "--format", "dot", str(directory)).out
    assert 'i_cn_kube_ca [label="issuer not given\\nCN=kube-ca", style=dashed];' in dot


def test_dot_output_is_a_graph_graphviz_accepts(cli, tmp_path):
    dot = cli("topology", "--format", "dot", str(layout_dir(tmp_path, False))).out
    assert dot.startswith("digraph tls {\n") and dot.endswith("}\n")
    assert '  c_ingress_ca -> c_ingress [label="signs"];' in dot
    assert "subgraph cluster_ingress {" in dot and "subgraph cluster_consumers {" in dot
    if not shutil.which("dot"):
        pytest.skip("graphviz `dot` is not installed: the DOT text was checked, not rendered")
    proc = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in proc.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("/nonexistent",), "", "/nonexistent: not a directory"),
        ((), "nope", "stdin: not JSON"),
        ((), "[]", "expected the JSON object of `terraform output -json`"),
        ((), "{}", "TFEXT-E070 stdin: no certificate of a tfext module found"),
        (
            (),
            json.dumps({"kube_certs_ca_cert_pem": {"value": DAMAGED}}),
            "kube/ca: a CERTIFICATE block cannot be parsed",
        ),
    ],
)
def test_unusable_input_exits_2_with_one_clear_line(cli, args, stdin, message):
    run = cli("topology", *args, stdin=stdin)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err and run.out == ""


# --- one identity per node (docs/per-node.md) -------------------------------------------------------------


def test_a_per_node_directory_draws_what_its_outputs_draw(cli, tmp_path):
    document = per_node_shapes(per_node_cluster())["objects"]
    assert cli("write-assets", str(tmp_path / "tls"), stdin=document).code == 0
    for fmt in ("mermaid", "dot"):
        from_dir = cli("topology", "--format", fmt, str(tmp_path / "tls"))
        from_outputs = cli("topology", "--format", fmt, stdin=document)
        assert from_dir.code == 0 and from_dir.out == from_outputs.out, fmt
    labels = node_labels(cli("topology", str(tmp_path / "tls")).out)
    assert labels["c_etcd_members_etcd_0_server"] == (
        "etcd member server etcd-0<br/>etcd/members/etcd-0/server.crt + server.key<br/>CN=etcd-0"
    )
    assert labels["c_kube_nodes_w1_kubelet_serving"].startswith("kubelet serving w1<br/>")


def test_a_directory_entry_not_named_as_a_node_is_not_drawn(cli, tmp_path):
    document = per_node_shapes(per_node_cluster())["objects"]
    assert cli("write-assets", str(tmp_path / "tls"), stdin=document).code == 0
    nodes = tmp_path / "tls" / "kube" / "nodes"
    shutil.copytree(nodes / "w1", nodes / "W1 copy")
    (nodes / "w9").symlink_to(nodes / "w1", target_is_directory=True)  # a link is not followed
    drawing = cli("topology", str(tmp_path / "tls")).out
    assert "W1 copy" not in drawing and "w9" not in drawing
    assert "c_kube_nodes_w1_kubelet_client" in node_labels(drawing)


def test_nodes_whose_names_make_one_identifier_are_two_nodes_of_the_drawing(cli):
    pairs = per_node_cluster(nodes=("w-1", "w.1"), serving=())
    drawing = cli("topology", stdin=per_node_shapes(pairs)["objects"]).out
    labels = node_labels(drawing)
    assert labels["c_kube_nodes_w_1_kubelet_client"].endswith("CN=system:node:w-1")
    assert labels["c_kube_nodes_w_1_kubelet_client_2"].endswith("CN=system:node:w.1")
    assert {("c_ca", "c_kube_nodes_w_1_kubelet_client"), ("c_ca", "c_kube_nodes_w_1_kubelet_client_2")} <= (
        signs_edges(drawing)
    )
