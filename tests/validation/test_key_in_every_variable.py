"""A private key pasted into any variable of any flavor is refused at `terraform plan`, and never printed.

Terraform prints a failing condition's plain values (`var.x is "..."`) and every validation's message, and
the programs and preconditions behind the variables print messages of their own. So for every variable of
every flavor (read from its variables.tf.json, so that a new one is covered the day it is added), a real PEM
private key is given as its value, in the variable's type: the string itself, a list element, a map key,
a nested field. Each case is one module call of one root module (one `terraform init`), its key coming from
a root variable that has no validation of its own, so that whatever prints the key is the module's doing.
Per flavor, one plan runs every case; its whole output must hold no line of the key (its BEGIN line and
every body line), and every variable that has a validation must fail its case.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from harness import MODULES, Terraform, modules_source

from tfext import issue, profiles
from tfext.errors import redact

from ._kit import Kit, assert_no_leak, cert_pem, good_set, key_pem

pytestmark = pytest.mark.terraform

FLAVORS = (
    "etcd/signed",
    "etcd/user-provided",
    "kube/self-signed",
    "kube/user-provided",
    "identity/self-signed",
    "identity/user-provided",
    "ingress/self-signed",
    "ingress/user-provided",
)

# How a key can be the value of a variable of each type: the HCL that puts `var.key` there.
MAP_OF_NODES = (
    "{ (var.key) = {} }",
    '{ "n-1" = { dns_names = [var.key] } }',
    '{ "n-1" = { ip_addresses = [var.key] } }',
    '{ "n-1" = { dns_names = ["n-1.example.com", var.key], ip_addresses = ["10.0.0.1", var.key] } }',
)
INJECTIONS = {
    "string": ("var.key",),
    "list(string)": ("[var.key]",),
    # keys known only at plan (from var.key), so that no rule fails before the others are checked
    "map(string)": ('{ (var.key) = "a.csr" }', '{ (var.key == "" ? "none" : "server") = var.key }'),
    'object({generation=optional(number,0)phase=optional(string,"finish")})': ("{ phase = var.key }",),
    "map(object({ip_addresses=optional(list(string),[])dns_names=optional(list(string),[])}))": MAP_OF_NODES,
}
NO_KEY_FITS = ("number", "bool")  # a key is no value of these types: Terraform refuses it before any rule

# The inputs each flavor needs besides the one under test: good values, files from tests/validation/_kit.
BASE = {
    "etcd/signed": {"key_algorithm": '"ECDSA-P256"'},
    "etcd/user-provided": {
        "etcd_ca_crt_pem_path": "var.files.etcd_ca",
        "etcd_server_crt_pem_path": "var.files.etcd_server_cert",
        "etcd_server_key_pem_path": "var.files.etcd_server_key",
        "etcd_peer_crt_pem_path": "var.files.etcd_peer_cert",
        "etcd_peer_key_pem_path": "var.files.etcd_peer_key",
        "etcd_client_crt_pem_path": "var.files.etcd_client_cert",
        "etcd_client_key_pem_path": "var.files.etcd_client_key",
        "service_cidr": '"10.3.0.0/16"',
        "etcd_cert_dns_names": '["etcd-0.example.com"]',
        "etcd_cert_ip_addresses": '["192.168.10.11"]',
    },
    "kube/self-signed": {
        "kube_apiserver_url": '"https://api.example.com:443"',
        "service_cidr": '"10.3.0.0/16"',
        "key_algorithm": '"ECDSA-P256"',
    },
    "kube/user-provided": {
        "ca_cert_pem_path": "var.files.kube_ca",
        "ca_key_pem_path": "var.files.kube_ca_key",
        "apiserver_cert_pem_path": "var.files.kube_apiserver_cert",
        "apiserver_key_pem_path": "var.files.kube_apiserver_key",
        "kubelet_cert_pem_path": "var.files.kube_kubelet_cert",
        "kubelet_key_pem_path": "var.files.kube_kubelet_key",
        "kube_apiserver_url": '"https://api.example.com:443"',
        "service_cidr": '"10.3.0.0/16"',
    },
    "identity/self-signed": {
        "ca_cert_pem": "var.ca_cert",
        "ca_key_pem": "var.ca_key",
        "key_algorithm": '"ECDSA-P256"',
    },
    "identity/user-provided": {
        "ca_cert_pem_path": "var.files.identity_ca",
        "server_cert_pem_path": "var.files.identity_server_cert",
        "server_key_pem_path": "var.files.identity_server_key",
        "client_cert_pem_path": "var.files.identity_client_cert",
        "client_key_pem_path": "var.files.identity_client_key",
    },
    "ingress/self-signed": {
        "base_address": '"console.example.com"',
        "ca_cert_pem": "var.ca_cert",
        "ca_key_pem": "var.ca_key",
        "key_algorithm": '"ECDSA-P256"',
    },
    "ingress/user-provided": {
        "ca_cert_pem_path": "var.files.ingress_ca",
        "cert_pem_path": "var.files.ingress_ingress_cert",
        "key_pem_path": "var.files.ingress_ingress_key",
        "base_address": '"console.example.com"',
    },
}

ROOT_VARIABLES = """
# The key every case carries. Not sensitive, and without a validation: nothing at this level prints it,
# so what does is the module's doing.
variable "key" {
  type = string
}

variable "files" {
  type = map(string)
}

variable "ca_cert" {
  type = string
}

variable "ca_key" {
  type      = string
  sensitive = true
}
"""


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # without spaces or line breaks
    validated: bool
    sensitive: bool


def variables(flavor: str) -> list[Variable]:
    """The variables a flavor declares, read from its variables.tf.json (generated from tfext/catalog.py)."""
    declared = json.loads((MODULES / flavor / "variables.tf.json").read_text())["variable"]
    out = []
    for name, body in declared.items():
        assert "type" in body, f"{flavor} {name}: no type"
        out.append(
            Variable(
                name,
                re.sub(r"\s+", "", body["type"]),
                bool(body.get("validation")),
                body.get("sensitive", False) is True,
            )
        )
    return out


@dataclass(frozen=True)
class Case:
    module: str  # the module call's name
    flavor: str
    variable: Variable
    value: str  # HCL


def cases(flavor: str) -> list[Case]:
    out = []
    for var in variables(flavor):
        if var.type in NO_KEY_FITS:
            continue
        assert var.type in INJECTIONS, f"{flavor} {var.name}: add how a key can be a {var.type} to INJECTIONS"
        for i, value in enumerate(INJECTIONS[var.type]):
            name = f"{flavor.replace('/', '_').replace('-', '_')}_{var.name}_{i}"
            out.append(Case(name, flavor, var, value))
    return out


def test_every_validated_variable_of_every_flavor_takes_a_key_in_some_form():
    for flavor in FLAVORS:
        validated = {v.name for v in variables(flavor) if v.validated and v.type not in NO_KEY_FITS}
        assert validated, flavor
        assert validated <= {c.variable.name for c in cases(flavor)}, flavor


def root_module(dest: Path, flavor: str) -> str:
    """One flavor's cases, each a module call of their own (one root per flavor: Terraform walks every
    module call of a root on each plan, counted out or not)."""
    source = f"{modules_source(dest)}/tls/{flavor}"
    blocks = [ROOT_VARIABLES]
    for case in cases(flavor):
        args = {**BASE[flavor], case.variable.name: case.value}
        lines = [f'  source = "{source}"', ""] + [f"  {name} = {value}" for name, value in args.items()]
        blocks.append(f'module "{case.module}" {{\n' + "\n".join(lines) + "\n}\n")
    return "\n".join(blocks)


KIT_FILES = {
    "etcd-user-provided": ("etcd", ("ca", "server", "peer", "client")),
    "kube-user-provided": ("kube", ("ca", "apiserver", "kubelet")),
    "identity-user-provided": ("identity", ("ca", "server", "client")),
    "ingress-user-provided": ("ingress", ("ca", "ingress")),
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """The variables every plan gets: the key, good files of each user-provided flavor, a CA to sign with."""
    root = tmp_path_factory.mktemp("key-in-every-variable")
    files: dict[str, str] = {}
    for program, (prefix, slots) in KIT_FILES.items():
        kit = Kit.create(good_set(program), root / program)
        for slot in slots:
            name = f"{prefix}_ca" if slot == "ca" else f"{prefix}_{slot}"
            files[name if slot == "ca" else f"{name}_cert"] = kit.query[f"{slot}_cert_path"]
            if f"{slot}_key_path" in kit.query:
                files[f"{name}_key"] = kit.query[f"{slot}_key_path"]
    ca = issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=240, issuer=None
    )
    key = key_pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.TraditionalOpenSSL)
    return root, {"key": key, "files": files, "ca_cert": cert_pem(ca.cert), "ca_key": key_pem(ca.key)}


def key_lines(pem: str) -> list[str]:
    """What must never be printed: the BEGIN line and every body line of the key."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----END")]


def error_blocks(output: str) -> list[str]:
    return [b for b in re.split(r"^(?=(?:Error|Warning): )", output, flags=re.M) if b.startswith("Error: ")]


def refused(case: Case, errors: str) -> bool:
    """Whether the plan's errors refuse `case`: a diagnostic names its module call, or (a precondition
    names no module) the TFEXT-E028 refusal lists its input."""
    if re.search(rf"\b{case.module}\b", errors):
        return True
    return any(
        re.search(rf"\b{case.variable.name}\b", m.group(1))
        for m in re.finditer(r"TFEXT-E028 ([a-z_0-9, ]+):", errors)
    )


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_key_in_any_variable_is_refused_at_plan_and_never_printed(shared, tf_config, flavor):
    root, variables = shared
    work = root / "plan" / flavor.replace("/", "-")
    work.mkdir(parents=True)
    (work / "main.tf").write_text(root_module(work, flavor))
    (work / "case.tfvars.json").write_text(json.dumps(variables))
    tf = Terraform(work, tf_config)
    tf.init()
    result = tf.plan("-var-file=case.tfvars.json")
    output = result.output
    key = variables["key"]
    printed = [line for line in key_lines(key) if line in output]
    # the count only: a failing report never shows the lines themselves
    assert not printed, f"{len(printed)} lines of the key in the output of terraform plan ({flavor})"
    assert_no_leak(output, [key, variables["ca_key"]], f"output of terraform plan ({flavor})")
    assert "Traceback" not in output
    assert result.returncode == 1, redact(output[-3000:])
    errors = "\n".join(error_blocks(output))
    accepted = [
        f"{c.variable.name} = {c.value}"
        for c in cases(flavor)
        if c.variable.validated and not refused(c, errors)
    ]
    assert not accepted, f"{flavor}: a key was accepted in {accepted}\n{redact(output[-3000:])}"
