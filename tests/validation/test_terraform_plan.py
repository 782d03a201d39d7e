"""`terraform plan` with the real CLI: broken user-provided material fails the plan with the TFEXT message,
a certificate inside the renewal window only warns, and the modules' validation blocks reject bad values
with messages that say how to fix them - never printing a key.

One root module (one `terraform init`) holds the flavors under test, each switched on by `var.use`; each
plan gets its own .tfvars.json.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import Terraform, modules_source

from tfext.errors import Code, redact

from ._kit import DAY, NOW, Kit, assert_no_leak, good_set, key_pem

pytestmark = pytest.mark.terraform

ROOT_MODULE = """
variable "use" {
  type = string
}

variable "files" {
  type    = map(string)
  default = {}
}

variable "kube_apiserver_url" {
  type    = string
  default = "https://api.example.com:443"
}

variable "service_cidr" {
  type    = string
  default = "10.3.0.0/16"
}

variable "renewal_window_hours" {
  type    = number
  default = 720
}

variable "key_algorithm" {
  type    = string
  default = "ECDSA-P256"
}

variable "validity_period" {
  type    = number
  default = 24
}

variable "dns_names" {
  type    = list(string)
  default = []
}

module "kube" {
  source = "MODULES/kube/user-provided"
  count  = var.use == "kube" ? 1 : 0

  ca_cert_pem_path             = var.files.ca
  apiserver_cert_pem_path      = var.files.apiserver_cert
  apiserver_key_pem_path       = var.files.apiserver_key
  kubelet_cert_pem_path        = var.files.kubelet_cert
  kubelet_key_pem_path         = var.files.kubelet_key
  # The optional pairs, given so that the good material plans without TFEXT-E089's warning.
  apiserver_kubelet_client_cert_pem_path = lookup(var.files, "apiserver_kubelet_client_cert", "")
  apiserver_kubelet_client_key_pem_path  = lookup(var.files, "apiserver_kubelet_client_key", "")
  admin_cert_pem_path                    = lookup(var.files, "admin_cert", "")
  admin_key_pem_path                     = lookup(var.files, "admin_key", "")
  kube_apiserver_url           = var.kube_apiserver_url
  service_cidr                 = var.service_cidr
  renewal_window_hours         = var.renewal_window_hours
  apiserver_extra_dns_names    = var.dns_names
}

module "etcd" {
  source = "MODULES/etcd/user-provided"
  count  = var.use == "etcd" ? 1 : 0

  etcd_ca_crt_pem_path     = var.files.ca
  etcd_server_crt_pem_path = var.files.server_cert
  etcd_server_key_pem_path = var.files.server_key
  etcd_peer_crt_pem_path   = var.files.peer_cert
  etcd_peer_key_pem_path   = var.files.peer_key
  etcd_client_crt_pem_path = var.files.client_cert
  etcd_client_key_pem_path = var.files.client_key
  service_cidr             = var.service_cidr
  etcd_cert_dns_names      = ["etcd-0.example.com"]
  etcd_cert_ip_addresses   = ["192.168.10.11"]
}

module "kube_self_signed" {
  source = "MODULES/kube/self-signed"
  count  = var.use == "kube_self_signed" ? 1 : 0

  kube_apiserver_url = var.kube_apiserver_url
  service_cidr       = var.service_cidr
  key_algorithm      = var.key_algorithm
  validity_period    = var.validity_period
}

output "kube_apiserver_cert_pem" {
  value = try(module.kube[0].apiserver_cert_pem, "")
}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The root module, and the good kube and etcd material the plans break."""
    root = tmp_path_factory.mktemp("tfroot")
    (root / "main.tf").write_text(ROOT_MODULE.replace("MODULES", f"{modules_source(root)}/tls"))
    kube = Kit.create(good_set("kube-user-provided"), root / "kube-files")
    etcd = Kit.create(good_set("etcd-user-provided"), root / "etcd-files")
    return root, kube, etcd


@pytest.fixture(scope="module")
def tf(workspace, tf_config) -> Terraform:
    """The runner of the root module, initialised once (the offline provider of tests/harness.py)."""
    terraform = Terraform(workspace[0], tf_config)
    terraform.init()
    return terraform


def kube_files(kit: Kit) -> dict[str, str]:
    q = kit.query
    return {
        "ca": q["ca_cert_path"],
        "apiserver_cert": q["apiserver_cert_path"],
        "apiserver_key": q["apiserver_key_path"],
        "kubelet_cert": q["kubelet_cert_path"],
        "kubelet_key": q["kubelet_key_path"],
        **{
            f"{slot}_{part}": q[f"{slot}_{part}_path"]
            for slot in ("apiserver_kubelet_client", "admin")
            for part in ("cert", "key")
        },
    }


def etcd_files(kit: Kit) -> dict[str, str]:
    files = {"ca": kit.query["ca_cert_path"]}
    for slot in ("server", "peer", "client"):
        files[f"{slot}_cert"] = kit.query[f"{slot}_cert_path"]
        files[f"{slot}_key"] = kit.query[f"{slot}_key_path"]
    return files


@dataclass(frozen=True)
class Plan:
    returncode: int
    shown: str  # terraform's output, redacted: what assertions look at and show

    @property
    def tail(self) -> str:
        return self.shown[-3000:]


def plan(tf, name: str, secrets: list[str], **variables) -> Plan:
    """`terraform plan` with `variables` in a .tfvars.json; fails if any of `secrets` is in the output."""
    var_file = tf.workdir / f"{name}.tfvars.json"
    var_file.write_text(json.dumps(variables))
    result = tf.plan(f"-var-file={var_file.name}")
    assert_no_leak(result.output, secrets, "output of terraform plan")
    return Plan(result.returncode, redact(result.output))


def _copy(kit: Kit, dest: Path) -> Kit:
    shutil.copytree(kit.root, dest)
    return Kit(
        kit.good, dest, {k: v.replace(str(kit.root), str(dest)) for k, v in kit.query.items()}, kit.secrets
    )


def assert_plan_fails_with(result: Plan, tag: str, *words: str) -> None:
    assert result.returncode == 1, result.tail
    assert tag in result.shown, result.tail
    assert all(w in result.shown for w in words), result.tail
    assert "Traceback" not in result.shown


def test_plan_of_good_user_provided_material_succeeds_without_warnings(tf, workspace):
    _, kube, _ = workspace
    result = plan(tf, "good", kube.secrets, use="kube", files=kube_files(kube))
    assert result.returncode in (0, 2), result.tail
    assert "Warning" not in result.shown and "TFEXT" not in result.shown


def test_plan_fails_when_the_apiserver_key_is_the_wrong_one(tf, workspace):
    _, kube, _ = workspace
    files = {**kube_files(kube), "apiserver_key": kube_files(kube)["kubelet_key"]}
    result = plan(tf, "wrong-key", kube.secrets, use="kube", files=files)
    assert_plan_fails_with(result, Code.KEY_MISMATCH.tag, "apiserver", "does not belong")


def test_plan_fails_when_the_apiserver_lacks_a_required_san(tf, workspace):
    _, kube, _ = workspace
    result = plan(
        tf, "missing-san", kube.secrets, use="kube", files=kube_files(kube), dns_names=["lb.example.com"]
    )
    assert_plan_fails_with(result, Code.MISSING_SAN.tag, "DNS:lb.example.com")


def test_plan_fails_when_the_etcd_ca_has_expired(tf, workspace):
    root, _, etcd = workspace
    broken = _copy(etcd, root / "etcd-expired")
    broken.put_cert("ca", etcd.ca_like(not_before=NOW - 400 * DAY, not_after=NOW - DAY).cert)
    result = plan(tf, "expired-ca", etcd.secrets, use="etcd", files=etcd_files(broken))
    assert_plan_fails_with(result, Code.EXPIRED.tag, "ca certificate", "expired")


def test_plan_warns_about_a_certificate_inside_the_renewal_window_but_succeeds(tf, workspace):
    _, kube, _ = workspace
    result = plan(
        tf, "renewal", kube.secrets, use="kube", files=kube_files(kube), renewal_window_hours=24 * 200
    )
    assert result.returncode in (0, 2), result.tail
    assert "Warning" in result.shown and Code.EXPIRES_SOON.tag in result.shown, result.tail


def test_plan_names_a_file_given_where_its_path_belongs_without_printing_the_key(tf, workspace):
    _, kube, _ = workspace
    key = key_pem(kube.good.pairs["apiserver"].key)  # what file("apiserver.key") would pass
    result = plan(
        tf, "file-not-path", kube.secrets, use="kube", files={**kube_files(kube), "apiserver_key": key}
    )
    assert_plan_fails_with(result, Code.NOT_A_PATH.tag, "apiserver key path")


def test_a_key_pasted_into_a_string_input_is_rejected_without_terraform_printing_it(tf, workspace):
    _, kube, _ = workspace
    key = key_pem(kube.good.pairs["kubelet"].key)
    result = plan(tf, "key-in-url", kube.secrets, use="kube", files=kube_files(kube), kube_apiserver_url=key)
    assert_plan_fails_with(result, Code.INVALID_ADDRESS.tag, "kube_apiserver_url")


def test_validation_blocks_reject_bad_values_of_a_user_provided_module_before_anything_runs(tf, workspace):
    _, kube, _ = workspace
    files = {**kube_files(kube), "kubelet_cert": "  "}
    result = plan(
        tf,
        "bad-values",
        kube.secrets,
        use="kube",
        files=files,
        service_cidr="10.3.0.0/33",
        kube_apiserver_url="http://api.example.com",
        renewal_window_hours=0.5,
        dns_names=["api..example.com"],
    )
    assert result.returncode == 1
    for message in (
        "kubelet_cert_pem_path is required: the path of a PEM file",
        "service_cidr must be a CIDR such as 10.3.0.0/16",
        "kube_apiserver_url must be an https URL",
        "renewal_window_hours must be a whole number of hours from 1 to 9999999",
        "apiserver_extra_dns_names must hold DNS names",
    ):
        assert message in result.shown, result.tail
    assert "TFEXT" not in result.shown  # Terraform stopped before running tfext


def test_validation_blocks_reject_bad_values_of_a_self_signed_module(tf):
    result = plan(
        tf, "bad-self-signed", [], use="kube_self_signed", key_algorithm="RSA-1024", validity_period=0
    )
    assert result.returncode == 1
    assert "key_algorithm must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256" in result.shown
    assert "validity_period must be a whole number of hours from 1 to 9999999" in result.shown
