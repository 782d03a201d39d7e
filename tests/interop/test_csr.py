"""Nodes that bring a CSR (issue 21), with the real consumers of test_per_node: each etcd member and each
node makes its own key with openssl and hands tfext only a certificate signing request; one `terraform
apply` in key-directory mode issues their certificates (the CA's and the shared certificates' keys in a
key directory, none in state), and the same checks as for generated keys then run on these files:

- three etcd members, each with its own openssl key and its CSR-issued server and peer certificate, form
  a healthy cluster, and etcd still tells the members apart by their peer certificates;
- nginx requiring the kube CA sees each node's CSR-issued kubelet client certificate as
  CN=system:node:<node>,O=system:nodes, although every CSR asked for CN=system:masters,O=system:masters
  and names of its own: the role, not the CSR, decides the subject, names and usages.

The test functions are test_per_node's, collected here with this module's `node_pki` fixture.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from harness import Terraform, modules_source, require

from ._pki import TERRAFORM_TIMEOUT
from .test_per_node import (
    DOMAIN,
    MEMBER_IPS,
    MEMBERS,
    NODE_IPS,
    NODES,
    PER_MEMBER,
    PER_NODE,
    NodePki,
    kubelets,  # noqa: F401 - a fixture the tests below use
    node_dns,
    test_each_node_kubelet_client_cert_is_its_own_identity,  # noqa: F401 - collected here, on CSR files
    test_etcd_members_each_with_their_own_certificates,  # noqa: F401 - collected here, on CSR files
    write_pem,
)

pytestmark = pytest.mark.interop

ALGORITHM = "ECDSA-P256"
ASKED = "/CN=system:masters/O=system:masters"  # what every CSR asks for, and must not get
ROOT_MODULE = """\
module "etcd" {{
  source         = "{modules}/tls/etcd/signed"
  self_signed    = true
  key_algorithm  = "{algorithm}"
  key_dir        = "keys"
  members        = {members}
  member_csr_dir = "csr/members"
}}

module "kube" {{
  source             = "{modules}/tls/kube/self-signed"
  kube_apiserver_url = "https://api.{domain}:443"
  service_cidr       = "10.3.0.0/16"
  key_algorithm      = "{algorithm}"
  key_dir            = "keys"
  nodes              = {nodes}
  kubelet_serving    = {kubelet_serving}
  node_csr_dir       = "csr/nodes"
}}

output "pki" {{
  sensitive = true # the key outputs are marked, though empty for certificates issued for a CSR
  value = {{
    etcd_ca               = module.etcd.etcd_ca_crt_pem
    etcd_client_crt       = module.etcd.etcd_client_crt_pem
    member_server_crt     = module.etcd.etcd_member_server_crt_pem
    member_peer_crt       = module.etcd.etcd_member_peer_crt_pem
    member_server_key     = module.etcd.etcd_member_server_key_pem
    kube_ca               = module.kube.ca_cert_pem
    node_client_crt       = module.kube.node_kubelet_client_cert_pem
    node_serving_crt      = module.kube.node_kubelet_serving_cert_pem
    node_client_key       = module.kube.node_kubelet_client_key_pem
    apiserver_kubelet_crt = module.kube.apiserver_kubelet_client_cert_pem
  }}
}}

output "key_files" {{
  value = {{ etcd = module.etcd.key_files, kube = module.kube.key_files }}
}}
"""


def openssl_csr(directory: Path, name: str) -> Path:
    """A key of the node's own (openssl, P-256) and a CSR for it asking for system:masters; returns the
    key's path. Only the CSR is handed to tfext."""
    openssl = require("openssl")
    directory.mkdir(parents=True, exist_ok=True)
    key = directory / f"{name}.key"
    subprocess.run(
        [openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    subprocess.run(
        [openssl, "req", "-new", "-key", str(key), "-subj", ASKED, "-out", str(directory / f"{name}.csr")],
        check=True,
        capture_output=True,
    )
    return key


@pytest.fixture(scope="module")
def csr_pki(tmp_path_factory, tf_config) -> NodePki:
    root = tmp_path_factory.mktemp("csr")
    work = root / "root-module"
    own_keys = root / "node-keys"  # what never leaves the nodes: not under the root module
    for m in MEMBERS:
        for role in ("server", "peer"):
            openssl_csr(work / "csr" / "members" / m, role)
    for n in NODES:
        for role in ("kubelet-client", "kubelet-serving"):
            openssl_csr(work / "csr" / "nodes" / n, role)
    for path in (work / "csr").rglob("*.key"):  # the keys go to the nodes; tfext sees the CSRs alone
        target = own_keys / path.relative_to(work / "csr")
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)
    (work / "keys").mkdir(mode=0o700)
    (work / "main.tf").write_text(
        ROOT_MODULE.format(
            modules=modules_source(work),
            algorithm=ALGORITHM,
            domain=DOMAIN,
            members=json.dumps({m: {"ip_addresses": [ip]} for m, ip in MEMBER_IPS.items()}),
            nodes=json.dumps(list(NODES)),
            kubelet_serving=json.dumps(
                {n: {"ip_addresses": [ip], "dns_names": [node_dns(n)]} for n, ip in NODE_IPS.items()}
            ),
        )
    )
    tf = Terraform(work, tf_config, timeout=TERRAFORM_TIMEOUT)
    tf.init()
    tf.apply()
    assert tf.plan().returncode == 0
    assert "PRIVATE KEY" not in tf.run("state", "pull").stdout, "a key reached the state"
    out = tf.outputs()
    pki, key_files = out["pki"], out["key_files"]
    # A certificate issued for a CSR has no key of ours: its key outputs are empty.
    assert set(pki["member_server_key"].values()) == {""} and set(pki["node_client_key"].values()) == {""}
    directory = root / ALGORITHM
    directory.mkdir()
    for kind, value in pki.items():
        if kind.endswith("_key"):
            continue
        if kind in PER_MEMBER | PER_NODE:
            for name, pem in value.items():
                write_pem(directory / f"{kind}-{name}.pem", pem, secret=False)
        else:
            write_pem(directory / f"{kind}.pem", value, secret=False)
    # the nodes' own keys beside their CSR-issued certificates, and the generated ones from the key directory
    moved = {"server": "member_server_key", "peer": "member_peer_key"}
    for m in MEMBERS:
        for role, kind in moved.items():
            key = own_keys / "members" / m / f"{role}.key"
            write_pem(directory / f"{kind}-{m}.pem", key.read_text(), secret=True)
    for n in NODES:
        for role, kind in (("kubelet-client", "node_client_key"), ("kubelet-serving", "node_serving_key")):
            write_pem(
                directory / f"{kind}-{n}.pem",
                (own_keys / "nodes" / n / f"{role}.key").read_text(),
                secret=True,
            )
    for kind, (module, slot) in {
        "etcd_client_key": ("etcd", "client"),
        "apiserver_kubelet_key": ("kube", "apiserver_kubelet_client"),
    }.items():
        write_pem(directory / f"{kind}.pem", (work / key_files[module][slot]).read_text(), secret=True)
    return NodePki(ALGORITHM, directory)


@pytest.fixture
def node_pki(csr_pki) -> NodePki:
    return csr_pki


def test_a_csr_gets_the_roles_subject_and_names_not_what_it_asked_for(csr_pki):
    for node in NODES:
        cert = x509.load_pem_x509_certificate(csr_pki.file("node_client_crt", node).read_bytes())
        assert cert.subject.rfc4514_string() == f"CN=system:node:{node},O=system:nodes"
    for member in MEMBERS:
        cert = x509.load_pem_x509_certificate(csr_pki.file("member_peer_crt", member).read_bytes())
        assert cert.subject.rfc4514_string() == f"CN={member}"
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert MEMBER_IPS[member] in {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
