"""The whole topology through real Terraform: the tectonic example applies, stays quiet, re-issues exactly
what an input shapes, and every module swaps to its user-provided flavor by `source` alone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from harness import REPO, Terraform, cert, copy_example, modules_source, require

from tfext.tools.assets import write_assets

pytestmark = pytest.mark.terraform

MODULE_NAMES = ("kube_certs", "etcd_certs", "identity_certs", "ingress_certs")


def sans(pem: str) -> tuple[set[str], set[str]]:
    ext = cert(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), {
        str(i) for i in ext.get_values_for_type(x509.IPAddress)
    }


def serials(outputs: dict) -> dict[str, str]:
    return {f"{m}.{n}": c["serial"] for m, certs in outputs["certificates"].items() for n, c in certs.items()}


@pytest.fixture(scope="module")
def tectonic(tf_config, tmp_path_factory):
    work = copy_example("tectonic", tmp_path_factory.mktemp("tectonic"))
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply()
    return tf


def test_second_plan_of_the_whole_topology_has_no_changes(tectonic):
    result = tectonic.plan()
    assert result.returncode == 0, result.output


def test_every_certificate_chains_to_the_right_ca_for_its_purpose(tectonic, tmp_path):
    out = tectonic.outputs()
    kube_ca, etcd_ca = out["kube_certs_ca_cert_pem"], out["etcd_certs_etcd_ca_crt_pem"]
    cases = [
        (kube_ca, "kube_certs_apiserver_cert_pem", "sslserver"),
        (kube_ca, "kube_certs_apiserver_cert_pem", "sslclient"),
        (kube_ca, "kube_certs_kubelet_cert_pem", "sslclient"),
        (etcd_ca, "etcd_certs_etcd_server_crt_pem", "sslserver"),
        (etcd_ca, "etcd_certs_etcd_server_crt_pem", "sslclient"),
        (etcd_ca, "etcd_certs_etcd_peer_crt_pem", "sslserver"),
        (etcd_ca, "etcd_certs_etcd_client_crt_pem", "sslclient"),
        (kube_ca, "identity_certs_server_cert_pem", "sslserver"),
        (kube_ca, "identity_certs_client_cert_pem", "sslclient"),
        (out["ingress_certs_ca_cert_pem"], "ingress_certs_cert_pem", "sslserver"),
    ]
    (tmp_path / "ca.pem").write_text(kube_ca)
    for ca, name, purpose in cases:
        (tmp_path / "ca.pem").write_text(ca)
        (tmp_path / "leaf.pem").write_text(out[name])
        args = [require("openssl"), "verify", "-purpose", purpose, "-CAfile", str(tmp_path / "ca.pem")]
        result = subprocess.run([*args, str(tmp_path / "leaf.pem")], capture_output=True, text=True)
        assert result.returncode == 0, f"{name} {purpose}: {result.stdout}{result.stderr}"
    # and across CAs it must fail: the etcd CA does not vouch for the apiserver
    (tmp_path / "ca.pem").write_text(etcd_ca)
    (tmp_path / "leaf.pem").write_text(out["kube_certs_apiserver_cert_pem"])
    wrong = subprocess.run([*args, str(tmp_path / "leaf.pem")], capture_output=True, text=True)
    assert wrong.returncode != 0


def test_apiserver_identity_and_ingress_carry_the_names_their_clients_dial(tectonic):
    out = tectonic.outputs()
    dns, ips = sans(out["kube_certs_apiserver_cert_pem"])
    assert {
        "demo-api.example.com",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    } <= dns
    assert "10.3.0.1" in ips
    dns, _ = sans(out["identity_certs_server_cert_pem"])
    assert dns == {
        "tectonic-identity-api.tectonic-system.svc",
        "tectonic-identity-api.tectonic-system.svc.cluster.local",
    }
    dns, _ = sans(out["ingress_certs_cert_pem"])
    assert dns == {"demo.example.com"}


def test_kube_ca_key_outputs_describe_the_generated_ca(tectonic):
    out = tectonic.outputs()
    assert out["kube_certs_ca_key_alg"] == "RSA"
    assert out["kube_certs_ca_key_pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")


def test_certificates_output_has_one_shape_everywhere(tectonic):
    certs = tectonic.outputs()["certificates"]
    assert set(certs) == set(MODULE_NAMES)
    facts = {"is_ca", "issuer", "not_after", "not_before", "sans", "serial", "sha256_fingerprint", "subject"}
    facts |= {"subject_key_id", "authority_key_id", "key_from_csr"}
    for name, module in certs.items():
        # the modules that own a CA also say which of their CAs each certificate chains to (issue 13)
        expected = facts | ({"chains_to"} if name in ("kube_certs", "etcd_certs") else set())
        assert {tuple(sorted(info)) for info in module.values()} == {tuple(sorted(expected))}, name
    for name in ("kube_certs", "etcd_certs"):
        module = certs[name]
        assert {info["chains_to"] for n, info in module.items() if n != "ca"} == {"ca"}
        assert not any(info["key_from_csr"] for info in module.values())  # no CSR in the example
        assert all(
            info["authority_key_id"] == module["ca"]["subject_key_id"]
            for n, info in module.items()
            if n != "ca"
        )


def test_renaming_the_cluster_reissues_only_what_carries_its_names(tectonic):
    before = serials(tectonic.outputs())
    tectonic.apply("-var", "cluster_name=prod")
    after = serials(tectonic.outputs())
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {
        "kube_certs.apiserver",
        "etcd_certs.server",
        "etcd_certs.peer",
        "ingress_certs.ingress",
    }
    assert tectonic.plan("-var", "cluster_name=prod").returncode == 0


def test_a_new_kube_ca_reissues_everything_it_signed_and_nothing_else(tectonic):
    before = serials(tectonic.outputs())
    # The CA's own shape: a different validity re-issues every certificate of the kube CA's tree, and
    # etcd's too (it is a shared variable); compare against an etcd-only key change below instead.
    marker = 'module.kube_certs.module.ca["0"].terraform_data.issued["ca"]'
    tectonic.apply("-var", "cluster_name=prod", f"-replace={marker}")
    after = serials(tectonic.outputs())
    changed = {k for k in before if before[k] != after[k]}
    kube_tree = {k for k in before if k.split(".")[0] in ("kube_certs", "identity_certs", "ingress_certs")}
    assert changed == kube_tree
    out = tectonic.outputs()
    kube_ca = cert(out["kube_certs_ca_cert_pem"])
    for name in ("kube_certs_apiserver_cert_pem", "identity_certs_server_cert_pem", "ingress_certs_cert_pem"):
        cert(out[name]).verify_directly_issued_by(kube_ca)


# --- swapping flavors -----------------------------------------------------------------------------------


def swap_to_user_provided(source: Path, dest: Path, modules: tuple[str, ...]) -> Path:
    """The tectonic root module with the named modules switched to the user-provided example's blocks."""
    provided = copy_example("tectonic-user-provided", dest / "provided-src")
    if set(modules) == set(MODULE_NAMES):
        return provided
    generated_main = (source / "main.tf").read_text()
    provided_main = (provided / "main.tf").read_text()
    for module in modules:
        pattern = re.compile(rf'module "{module}" \{{.*?\n\}}\n', re.S)
        replacement = pattern.search(provided_main).group(0)
        generated_main = pattern.sub(lambda _, block=replacement: block, generated_main)
    work = dest / "mixed"
    work.mkdir()
    for tf in source.glob("*.tf"):  # module sources are relative: re-aim them from the new directory
        text = (
            (generated_main if tf.name == "main.tf" else tf.read_text())
            .replace(f'"{modules_source(source)}/', f'"{modules_source(work)}/')
            .replace(f'"{modules_source(provided)}/', f'"{modules_source(work)}/')
        )
        (work / tf.name).write_text(text)
    (work / "tls.tf").write_text(
        'variable "tls_dir" {\n  type = string\n}\n\nlocals {\n  tls = var.tls_dir\n}\n'
    )
    return work


@pytest.mark.parametrize("modules", [MODULE_NAMES, ("kube_certs",)], ids=["all-four", "kube-alone"])
def test_swapping_flavors_by_source_keeps_every_output(tectonic, tf_config, tmp_path, modules):
    # The cluster this test swaps is "prod", as the tests before it left the shared workspace; applied
    # here too (a no-op then), so that it holds when it runs alone.
    tectonic.apply("-var", "cluster_name=prod")
    generated = tectonic.outputs()
    tls = tmp_path / "generated" / "tls"
    write_assets(generated, tls)
    work = swap_to_user_provided(tectonic.workdir, tmp_path, modules)
    args = ("-var", f"tls_dir={tls}", "-var", "cluster_name=prod")
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply(*args)
    swapped = tf.outputs()
    assert set(swapped) == set(generated)
    # Swapped modules return exactly what was generated; the rest (a fresh state) sign with that CA.
    same = [name for name in generated if name.split("_certs_")[0] + "_certs" in modules]
    differing = [name for name in same if swapped[name] != generated[name]]
    assert same and differing == []
    kube_ca = cert(swapped["kube_certs_ca_cert_pem"])
    for name in ("identity_certs_server_cert_pem", "ingress_certs_cert_pem"):
        cert(swapped[name]).verify_directly_issued_by(kube_ca)
    assert tf.plan(*args).returncode == 0


def test_readme_names_the_same_examples_that_exist():
    readme = (REPO / "README.md").read_text()
    for example in ("tectonic", "tectonic-user-provided", "etcd"):
        assert f"terraform/examples/{example}" in readme
    assert "make demo" in readme and "make test" in readme
