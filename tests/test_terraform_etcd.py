"""The etcd module through the real Terraform CLI: apply, stability across plans, re-issue on change,
the three modes of the signed flavor, the user-provided flavor, and destroy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID
from harness import MODULES, Terraform, cert, copy_example, modules_source, require

from tfext import issue, keys, profiles
from tfext.profiles import Inputs

pytestmark = pytest.mark.terraform

DNS = ["etcd-0.example.com", "etcd-1.example.com", "etcd-2.example.com"]
IPS = ["10.0.0.10", "10.0.0.11", "10.0.0.12"]


def fingerprint(pem: str) -> str:
    return cert(pem).fingerprint(hashes.SHA256()).hex() if pem else ""


def openssl_verify(ca_pem: str, leaf_pem: str, purpose: str, tmp: Path) -> subprocess.CompletedProcess:
    (tmp / "ca.pem").write_text(ca_pem)
    (tmp / "leaf.pem").write_text(leaf_pem)
    return subprocess.run(
        [
            require("openssl"),
            "verify",
            "-purpose",
            purpose,
            "-CAfile",
            str(tmp / "ca.pem"),
            str(tmp / "leaf.pem"),
        ],
        capture_output=True,
        text=True,
    )


def import_logging_tfext(directory: Path, log: Path) -> Path:
    """A `tfext` for PATH that records, per run, whether the program imported cryptography."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "tfext"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from tfext.__main__ import main\n"
        "code = main()\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(f\"{sys.argv[1]} {'cryptography' in sys.modules}\\n\")\n"
        "sys.exit(code)\n"
    )
    script.chmod(0o755)
    return directory


@pytest.fixture(scope="module")
def etcd(tf_config, tmp_path_factory):
    """The etcd example, applied once for this module's tests (they run in file order)."""
    work = copy_example("etcd", tmp_path_factory.mktemp("etcd-example"))
    log = work / "imports.log"
    wrapper = import_logging_tfext(work / "bin", log)
    tf = Terraform(work, tf_config, env_extra={"PATH": f"{wrapper}{os.pathsep}{os.environ['PATH']}"})
    tf.init()
    tf.run("validate", "-no-color")
    tf.apply()
    return tf, log


def test_apply_issues_an_etcd_pki_that_openssl_accepts(etcd, tmp_path):
    tf, _ = etcd
    out = tf.outputs()
    ca = out["etcd_ca_crt_pem"]
    for name, purposes in {
        "etcd_server_crt_pem": ("sslserver", "sslclient"),
        "etcd_peer_crt_pem": ("sslserver", "sslclient"),
        "etcd_client_crt_pem": ("sslclient",),
    }.items():
        for purpose in purposes:
            result = openssl_verify(ca, out[name], purpose, tmp_path)
            assert result.returncode == 0, f"{name} {purpose}: {result.stdout}{result.stderr}"
    assert openssl_verify(ca, out["etcd_client_crt_pem"], "sslserver", tmp_path).returncode != 0


def test_etcd_server_cert_is_usable_as_client_too_and_names_every_node(etcd):
    tf, _ = etcd
    server = cert(tf.outputs()["etcd_server_crt_pem"])
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(eku) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(DNS + ["localhost"]) <= set(san.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert set(IPS + ["127.0.0.1", "10.3.0.15", "10.3.0.20"]) <= ips


def test_keys_are_sensitive_outputs_and_pkcs1_by_default(etcd):
    tf, _ = etcd
    shown = tf.run("output", "-no-color").stdout
    assert "etcd_server_key_pem = <sensitive>" in shown
    assert "PRIVATE KEY" not in shown
    key = tf.outputs()["etcd_server_key_pem"]
    assert key.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert keys.public_key_matches(
        keys.load_private_key(key, "test"), cert(tf.outputs()["etcd_server_crt_pem"]).public_key()
    )


def test_second_plan_has_no_changes_and_runs_no_program(etcd):
    """Nothing to issue: the data sources are skipped (count 0), so no key and no crypto import."""
    tf, log = etcd
    log.write_text("")
    result = tf.plan()
    assert result.returncode == 0, result.output
    assert "No changes" in result.stdout
    assert log.read_text() == ""


def test_changing_dns_names_reissues_server_and_peer_only(etcd):
    tf, _ = etcd
    before = {k: fingerprint(v) for k, v in tf.outputs().items() if k.endswith("crt_pem")}
    new_dns = json.dumps(DNS + ["etcd-3.example.com"])
    tf.apply("-var", f"etcd_dns_names={new_dns}")
    after = {k: fingerprint(v) for k, v in tf.outputs().items() if k.endswith("crt_pem")}
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"etcd_server_crt_pem", "etcd_peer_crt_pem"}
    san = cert(tf.outputs()["etcd_peer_crt_pem"]).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert "etcd-3.example.com" in san.value.get_values_for_type(x509.DNSName)
    assert tf.plan("-var", f"etcd_dns_names={new_dns}").returncode == 0


def test_changing_the_key_algorithm_reissues_the_ca_and_everything_it_signed(etcd):
    tf, _ = etcd
    new_dns = json.dumps(DNS + ["etcd-3.example.com"])
    before = {k: fingerprint(v) for k, v in tf.outputs().items() if k.endswith("crt_pem")}
    tf.apply("-var", f"etcd_dns_names={new_dns}", "-var", "key_algorithm=ECDSA-P256")
    out = tf.outputs()
    assert all(fingerprint(out[k]) != before[k] for k in before)
    assert out["etcd_server_key_pem"].startswith("-----BEGIN EC PRIVATE KEY-----")
    ca = cert(out["etcd_ca_crt_pem"])
    cert(out["etcd_client_crt_pem"]).verify_directly_issued_by(ca)


def test_destroy_removes_everything(etcd):
    tf, _ = etcd
    tf.destroy()
    assert tf.run("state", "list", check=False).stdout.strip() == ""


# --- the other modes, and the user-provided flavor --------------------------------------------------


def write_pair(directory: Path, name: str, pair: issue.KeyPair) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives.serialization import Encoding

    crt, key = directory / f"{name}.crt", directory / f"{name}.key"
    crt.write_bytes(pair.cert.public_bytes(Encoding.PEM))
    key.write_text(keys.to_pem(pair.key))
    key.chmod(0o600)
    return crt, key


@pytest.fixture(scope="module")
def external_ca(tmp_path_factory) -> tuple[Path, issue.KeyPair]:
    """An etcd CA made outside Terraform, with a client pair it signed (an external etcd's)."""
    d = tmp_path_factory.mktemp("external-ca")
    ca = issue.issue(profiles.ETCD_CA, Inputs(), key_algorithm="ECDSA-P256", validity_hours=1000, issuer=None)
    client = issue.issue(
        profiles.ETCD_CLIENT, Inputs(), key_algorithm="ECDSA-P256", validity_hours=100, issuer=ca
    )
    write_pair(d, "ca", ca)
    write_pair(d, "client", client)
    return d, ca


def root_module(directory: Path, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    body = body.replace(str(MODULES), f"{modules_source(directory)}/tls")
    (directory / "main.tf").write_text(textwrap.dedent(body))
    return directory


OUTPUTS = """
output "all" {
  value     = module.etcd
  sensitive = true
}
"""


def test_signed_flavor_signs_with_an_external_ca_key(terraform, tmp_path, external_ca):
    ca_dir, ca = external_ca
    work = root_module(
        tmp_path / "sign",
        f"""
        module "etcd" {{
          source                 = "{MODULES}/etcd/signed"
          self_signed            = false
          etcd_ca_cert_path      = "{ca_dir}/ca.crt"
          etcd_ca_key_path       = "{ca_dir}/ca.key"
          etcd_cert_ip_addresses = ["127.0.0.1"]
        }}
        """
        + OUTPUTS,
    )
    tf = terraform(work)
    tf.init()
    tf.apply()
    out = tf.outputs()["all"]
    assert out["etcd_ca_crt_pem"] == (ca_dir / "ca.crt").read_text()
    for name in ("etcd_server_crt_pem", "etcd_peer_crt_pem", "etcd_client_crt_pem"):
        cert(out[name]).verify_directly_issued_by(ca.cert)
    assert tf.plan().returncode == 0


def test_signed_flavor_passes_an_external_etcds_ca_and_client_through(terraform, tmp_path, external_ca):
    ca_dir, _ = external_ca
    work = root_module(
        tmp_path / "external",
        f"""
        module "etcd" {{
          source                = "{MODULES}/etcd/signed"
          self_signed           = false
          etcd_ca_cert_path     = "{ca_dir}/ca.crt"
          etcd_ca_key_path      = "/dev/null"
          etcd_client_cert_path = "{ca_dir}/client.crt"
          etcd_client_key_path  = "{ca_dir}/client.key"
        }}
        """
        + OUTPUTS,
    )
    tf = terraform(work)
    tf.init()
    tf.apply()
    out = tf.outputs()["all"]
    assert out["etcd_ca_crt_pem"] == (ca_dir / "ca.crt").read_text()
    assert out["etcd_client_crt_pem"] == (ca_dir / "client.crt").read_text()
    assert out["etcd_client_key_pem"] == (ca_dir / "client.key").read_text()
    assert out["etcd_server_crt_pem"] == out["etcd_peer_key_pem"] == ""
    assert tf.plan().returncode == 0


def test_user_provided_flavor_returns_the_files_of_a_generated_pki(terraform, tmp_path):
    """Apply the signed flavor, write its outputs to files, swap in user-provided: same outputs."""
    gen = root_module(
        tmp_path / "gen",
        f"""
        module "etcd" {{
          source              = "{MODULES}/etcd/signed"
          etcd_cert_dns_names = ["etcd.example.com"]
        }}
        """
        + OUTPUTS,
    )
    tf = terraform(gen)
    tf.init()
    tf.apply()
    generated = tf.outputs()["all"]
    files = tmp_path / "files"
    files.mkdir()
    for name in ("ca_crt", "server_crt", "server_key", "peer_crt", "peer_key", "client_crt", "client_key"):
        (files / f"{name}.pem").write_text(generated[f"etcd_{name}_pem"])
    swapped = root_module(
        tmp_path / "swapped",
        f"""
        module "etcd" {{
          source                   = "{MODULES}/etcd/user-provided"
          etcd_ca_crt_pem_path     = "../files/ca_crt.pem"
          etcd_server_crt_pem_path = "../files/server_crt.pem"
          etcd_server_key_pem_path = "../files/server_key.pem"
          etcd_peer_crt_pem_path   = "../files/peer_crt.pem"
          etcd_peer_key_pem_path   = "../files/peer_key.pem"
          etcd_client_crt_pem_path = "../files/client_crt.pem"
          etcd_client_key_pem_path = "../files/client_key.pem"
          etcd_cert_dns_names      = ["etcd.example.com"]
        }}
        """
        + OUTPUTS,
    )
    # Run from elsewhere with -chdir: relative paths resolve against the root module's directory.
    tf2 = Terraform(tmp_path, tf.config)
    tf2.run("-chdir=swapped", "init", "-input=false", "-no-color")
    tf2.run("-chdir=swapped", "apply", "-auto-approve", "-input=false", "-no-color")
    provided = json.loads(tf2.run("-chdir=swapped", "output", "-json").stdout)["all"]["value"]
    for name in generated:
        if name.endswith("_pem"):
            assert provided[name] == generated[name], name
    assert provided["certificates"] == generated["certificates"]
    assert swapped.is_dir()
