"""terraform/examples/per-node end to end: applied, written out by `tfext write-assets` in its per-node
layout, and read back by the user-provided flavors from `member_certs_dir` and `node_certs_dir` with the
same outputs; then the files of one node handed to another, a kubelet put in system:masters and an etcd
member's address dropped, each refused at plan with its own code before anything changes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.x509.oid import NameOID
from harness import Terraform, cert, copy_example, modules_source

pytestmark = pytest.mark.terraform

PER_NODE_OUTPUTS = {
    "kube": ("node_kubelet_client_cert_pem", "node_kubelet_serving_cert_pem"),
    "etcd": ("etcd_member_server_crt_pem", "etcd_member_peer_crt_pem"),
}


def user_provided_root(dest: Path, tls: Path) -> Path:
    """The example's two modules swapped to their user-provided flavors: `source`, the shared files, and
    the per-node directories; `members`, `nodes` and `kubelet_serving` stay as they are."""
    dest.mkdir(parents=True, exist_ok=True)
    src = modules_source(dest)
    main = copy_example("per-node", dest / "_example") / "main.tf"
    variables = main.read_text().split('module "etcd_certs"')[0]
    shutil.rmtree(dest / "_example")
    (dest / "main.tf").write_text(
        variables
        + textwrap.dedent(
            f"""
            variable "tls" {{
              type    = string
              default = "{tls}"
            }}

            module "etcd_certs" {{
              source = "{src}/tls/etcd/user-provided"

              etcd_ca_crt_pem_path     = "${{var.tls}}/etcd-client-ca.crt"
              etcd_server_crt_pem_path = "${{var.tls}}/etcd/server.crt"
              etcd_server_key_pem_path = "${{var.tls}}/etcd/server.key"
              etcd_peer_crt_pem_path   = "${{var.tls}}/etcd/peer.crt"
              etcd_peer_key_pem_path   = "${{var.tls}}/etcd/peer.key"
              etcd_client_crt_pem_path = "${{var.tls}}/etcd-client.crt"
              etcd_client_key_pem_path = "${{var.tls}}/etcd-client.key"
              etcd_cert_dns_names      = var.etcd_service_names
              members                  = var.etcd_members
              member_certs_dir         = "${{var.tls}}/etcd/members"
            }}

            module "kube_certs" {{
              source = "{src}/tls/kube/user-provided"

              ca_cert_pem_path                       = "${{var.tls}}/ca.crt"
              ca_key_pem_path                        = "${{var.tls}}/ca.key"
              apiserver_cert_pem_path                = "${{var.tls}}/apiserver.crt"
              apiserver_key_pem_path                 = "${{var.tls}}/apiserver.key"
              kubelet_cert_pem_path                  = "${{var.tls}}/kubelet.crt"
              kubelet_key_pem_path                   = "${{var.tls}}/kubelet.key"
              apiserver_kubelet_client_cert_pem_path = "${{var.tls}}/apiserver-kubelet-client.crt"
              apiserver_kubelet_client_key_pem_path  = "${{var.tls}}/apiserver-kubelet-client.key"
              admin_cert_pem_path                    = "${{var.tls}}/admin.crt"
              admin_key_pem_path                     = "${{var.tls}}/admin.key"
              kube_apiserver_url                     = "https://api.example.com:443"
              service_cidr                           = "10.3.0.0/16"
              nodes                                  = var.nodes
              kubelet_serving                        = var.kubelet_serving
              node_certs_dir                         = "${{var.tls}}/kube/nodes"
            }}

            output "etcd" {{
              value     = module.etcd_certs
              sensitive = true
            }}

            output "kube" {{
              value     = module.kube_certs
              sensitive = true
            }}
            """
        )
    )
    return dest


@dataclass(frozen=True)
class Applied:
    outputs: dict = field(repr=False)  # holds private keys: never in a failure report
    tls: Path


@pytest.fixture(scope="module")
def generated(tf_config, tmp_path_factory) -> Applied:
    """The example applied, and its certificates written out by `tfext write-assets`."""
    work = copy_example("per-node", tmp_path_factory.mktemp("per-node"))
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply()
    applied = Applied(tf.outputs(), work / "generated" / "tls")
    written = subprocess.run(
        [sys.executable, "-m", "tfext", "write-assets", str(applied.tls)],
        input=tf.run("output", "-json").stdout,
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    assert "PRIVATE KEY" not in written.stdout + written.stderr
    return applied


@pytest.fixture(scope="module")
def provided(generated, tf_config, tmp_path_factory):
    tls = generated.tls
    tf = Terraform(user_provided_root(tmp_path_factory.mktemp("per-node-up"), tls), tf_config)
    tf.init()
    return tf


def test_the_example_gives_every_member_and_node_its_own_identity(generated):
    out = generated.outputs
    kube, etcd = out["kube"], out["etcd"]
    assert sorted(kube["node_kubelet_client_cert_pem"]) == [
        "master-0",
        "worker-0",
        "worker-1",
        "worker-2",
        "worker-3",
    ]
    assert sorted(kube["node_kubelet_serving_cert_pem"]) == ["worker-0", "worker-1", "worker-2"]
    assert sorted(etcd["etcd_member_peer_crt_pem"]) == ["etcd-0", "etcd-1", "etcd-2"]
    for node, pem in kube["node_kubelet_client_cert_pem"].items():
        subject = cert(pem).subject
        common_names = [a.value for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        groups = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        assert (common_names, groups) == ([f"system:node:{node}"], ["system:nodes"])
    count = len(kube["node_kubelet_client_key_pem"]) + len(etcd["etcd_member_peer_key_pem"])
    distinct = {*kube["node_kubelet_client_key_pem"].values(), *etcd["etcd_member_peer_key_pem"].values()}
    assert (len(distinct), count) == (8, 8), "every node and member has a key of its own"


def test_write_assets_lays_out_one_directory_per_member_and_node(generated):
    tls = generated.tls
    for node in ("master-0", "worker-0", "worker-3"):
        assert (tls / "kube" / "nodes" / node / "kubelet-client.crt").is_file()
        assert (tls / "kube" / "nodes" / node / "kubelet-client.key").stat().st_mode & 0o777 == 0o600
    assert (tls / "kube" / "nodes" / "worker-0" / "kubelet-serving.crt").is_file()
    assert not (tls / "kube" / "nodes" / "master-0" / "kubelet-serving.crt").exists()
    for member in ("etcd-0", "etcd-1", "etcd-2"):
        for name in ("server.crt", "peer.crt"):
            assert (tls / "etcd" / "members" / member / name).is_file()
        for name in ("server.key", "peer.key"):
            assert (tls / "etcd" / "members" / member / name).stat().st_mode & 0o777 == 0o600


def test_the_user_provided_flavors_read_them_back_with_the_same_outputs(generated, provided):
    out = generated.outputs
    provided.apply()
    back = Applied(provided.outputs(), generated.tls).outputs
    # Keys are compared into a bool first: a failing `==` on key text would print the keys.
    for module, names in PER_NODE_OUTPUTS.items():
        for name in names:
            key = name.replace("_cert_pem", "_key_pem").replace("_crt_pem", "_key_pem")
            assert back[module][name] == out[module][name], f"{module}.{name}"
            same_key = back[module][key] == out[module][key]
            assert same_key, f"{module}.{key} differs"
    for name in ("admin_cert_pem", "admin_key_pem", "apiserver_kubelet_client_cert_pem"):
        same = back["kube"][name] == out["kube"][name]
        assert same, f"{name} differs"
    assert provided.plan().returncode == 0


def _refused_with(generated: Applied, provided: Terraform, tmp_path: Path, swaps: dict[str, str]) -> str:
    """The plan's error (words joined by one space) over a copy of the written files in which each
    file of `swaps` (a path under the asset directory) holds what its source there held."""
    bad = tmp_path / "tls"
    shutil.copytree(generated.tls, bad)
    for target, source in swaps.items():
        shutil.copy(bad / source, bad / target)
    result = provided.plan(f"-var=tls={bad}")
    assert result.returncode == 1, result.output[-3000:]
    assert "PRIVATE KEY" not in result.output
    return " ".join(result.output.split())


def _pair(target: str, source: str) -> dict[str, str]:
    """A certificate and its key, `<target>.crt` and `.key` from `<source>.crt` and `.key`."""
    return {f"{target}.{suffix}": f"{source}.{suffix}" for suffix in ("crt", "key")}


def test_a_node_holding_another_nodes_files_is_refused_at_plan(generated, provided, tmp_path):
    swaps = _pair("kube/nodes/worker-0/kubelet-client", "kube/nodes/worker-1/kubelet-client")
    text = _refused_with(generated, provided, tmp_path, swaps)
    assert "TFEXT-E080 kubelet:worker-0" in text and "system:node:worker-1" in text


def test_a_kubelet_in_system_masters_is_refused_at_plan(generated, provided, tmp_path):
    # Tectonic's shared kubelet pair, CN=kubelet in system:masters
    swaps = _pair("kube/nodes/worker-2/kubelet-client", "kubelet")
    text = _refused_with(generated, provided, tmp_path, swaps)
    assert "TFEXT-E082 kubelet:worker-2" in text
    assert "TFEXT-E080 kubelet:worker-2" in text  # CN=kubelet names no node either


def test_an_etcd_member_holding_another_members_files_is_refused_at_plan(generated, provided, tmp_path):
    swaps = _pair("etcd/members/etcd-1/peer", "etcd/members/etcd-2/peer")
    text = _refused_with(generated, provided, tmp_path, swaps)
    assert "TFEXT-E080 peer:etcd-1" in text and "'etcd-2'" in text
    assert "TFEXT-E083 peer:etcd-1" in text and "IP:10.0.0.11" in text
