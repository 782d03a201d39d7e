"""Per-node names and limits at every plan (issue 19, item 6), in HCL: more than 1000 members or nodes, a
name shaped like a bad address, an address among DNS names, a wildcard, and a name or address on two
members or nodes are refused by the variables' validations, with the code and the fix, before any program
runs: so a root can't grow one node at a time past what a CA rotation can issue, and no quiet plan lets a
bad list through. A name that is an IPv4 address, and a member naming itself twice, pass. The CA key of
identity and ingress: empty or a path is E053 at plan (the value is safe to show), other text the
program's E023, never echoed.

One root module holds every case (one plan); a validation's diagnostic names the module call it failed in.
Those values are known when Terraform validates the configuration, which stops there: what the programs
refuse gets a plan of its own.
"""

from __future__ import annotations

import json
import re

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from harness import Terraform, modules_source

from tfext import issue, profiles
from tfext.errors import redact

from ._kit import assert_no_leak, key_pem

pytestmark = pytest.mark.terraform

KUBE = '  kube_apiserver_url = "https://api.example.com:443"\n  service_cidr = "10.3.0.0/16"\n'
NODES_1001 = '[for i in range(1001) : "n${i}"]'
MEMBERS_1001 = '{ for i in range(1001) : "m${i}" => {} }'

# module call => (flavor, arguments, the code and words of its refusal; None: it passes every validation)
CASES = {
    "nodes_1001": ("kube/self-signed", f"nodes = {NODES_1001}", ("TFEXT-E084", "at most 1000 per module")),
    "nodes_bad_ip": ("kube/self-signed", 'nodes = ["w1", "10.0.0.256"]', ("TFEXT-E086", '"10.0.0.256"')),
    "nodes_zero_padded": ("kube/user-provided", 'nodes = ["010.0.0.1"]', ("TFEXT-E086", "no leading zeros")),
    "nodes_twice": ("kube/self-signed", 'nodes = ["w1", "w1"]', ("TFEXT-E084", 'more than once: "w1"')),
    # The names are checked joined by commas: one holding a comma is no two good names.
    "nodes_comma": (
        "kube/self-signed",
        'nodes = ["w1", "w2,w3"]',
        ("TFEXT-E084", "Not valid: (a value of 5"),
    ),
    "members_upper": (
        "etcd/signed",
        "members = { etcd-0 = {}, Etcd-1 = {} }",
        ("TFEXT-E084", 'Not valid: "Etcd-1"'),
    ),
    "serving_1001": (
        "kube/self-signed",
        'nodes = ["w1"]\n  kubelet_serving = { for i in range(1001) : "n${i}" => {} }',
        ("TFEXT-E084", "1001 nodes"),
    ),
    "serving_dns_ip": (
        "kube/self-signed",
        'nodes = ["w1"]\n  kubelet_serving = { w1 = { dns_names = ["10.0.1.5"] } }',
        ("TFEXT-E086", "Move it to the same node's ip_addresses"),
    ),
    "serving_wildcard": (
        "kube/user-provided",
        'nodes = ["w1"]\n  kubelet_serving = { w1 = { dns_names = ["*.nodes.example.com"] } }',
        ("TFEXT-E088", '"*.nodes.example.com"'),
    ),
    "serving_shared_ip": (
        "kube/self-signed",
        'nodes = ["w1", "w2"]\n  kubelet_serving = { w1 = { ip_addresses = ["10.0.1.1"] }, '
        'w2 = { ip_addresses = ["10.0.1.1"] } }',
        ("TFEXT-E087", '"10.0.1.1"'),
    ),
    "members_1001": ("etcd/signed", f"members = {MEMBERS_1001}", ("TFEXT-E084", "1001 members")),
    "members_shared_ip": (
        "etcd/signed",
        'members = { etcd-0 = { ip_addresses = ["10.0.0.10"] }, etcd-1 = { ip_addresses = ["10.0.0.10"] } }',
        ("TFEXT-E087", "two members", '"10.0.0.10"'),
    ),
    "members_named_by_another": (
        "etcd/user-provided",
        'members = { etcd-0 = {}, etcd-1 = { dns_names = ["ETCD-0."] } }',
        ("TFEXT-E087", '"etcd-0"'),
    ),
    "members_dns_ip": (
        "etcd/signed",
        'members = { etcd-0 = { dns_names = ["fd00::10"] } }',
        ("TFEXT-E086", '"fd00::10"', "ip_addresses"),
    ),
    "members_wildcard": (
        "etcd/signed",
        'members = { etcd-0 = { dns_names = ["*.etcd.example.com"] } }',
        ("TFEXT-E088", "wildcard"),
    ),
    "members_bad_ip_name": ("etcd/signed", 'members = { "10.0.0.300" = {} }', ("TFEXT-E086", '"10.0.0.300"')),
    "members_bad_address": (
        "etcd/signed",
        'members = { etcd-0 = { ip_addresses = ["10.0.0.10/32"] } }',
        ("TFEXT-E012", '"10.0.0.10/32"'),
    ),
    "apiserver_dns_ip": (
        "kube/self-signed",
        'apiserver_extra_dns_names = ["10.0.0.5"]',
        ("TFEXT-E086", "apiserver_extra_ip_addresses"),
    ),
    "etcd_dns_ip": (
        "etcd/signed",
        'etcd_cert_dns_names = ["10.0.0.5"]',
        ("TFEXT-E086", "etcd_cert_ip_addresses"),
    ),
    # An empty ca_key_pem (and no ca_key_path) is E053 too, but a precondition, which Terraform reaches only
    # once every validation passed: tests/test_state_layer.py plans it alone.
    "identity_key_path": (
        "identity/self-signed",
        'ca_key_pem = "tls/ca.key"',
        ("TFEXT-E053", "a file path was given, not the key", 'file("<path>")'),
    ),
    # what passes: names that are addresses, a member naming itself twice, shared names at module level
    "good_etcd": (
        "etcd/signed",
        'members = { "10.0.0.10" = { ip_addresses = ["10.0.0.10"] }, etcd-1 = { dns_names = ["etcd-1", '
        '"etcd-1.example.com"], ip_addresses = ["10.0.0.11"] } }\n'
        '  etcd_cert_dns_names = ["*.etcd.example.com"]',
        None,
    ),
    "good_kube": (
        "kube/self-signed",
        'nodes = ["10.0.1.1", "w1"]\n'
        '  kubelet_serving = { "10.0.1.1" = {}, w1 = { dns_names = ["w1.example.com"] } }',
        None,
    ),
}

BASE = {
    "kube/self-signed": KUBE + '  key_algorithm = "ECDSA-P256"\n',
    "kube/user-provided": KUBE
    + "".join(
        f'  {name}_pem_path = "{name}"\n'
        for name in ("ca_cert", "apiserver_cert", "apiserver_key", "kubelet_cert", "kubelet_key")
    ),
    "etcd/signed": '  key_algorithm = "ECDSA-P256"\n',
    "etcd/user-provided": "".join(
        f'  etcd_{p}_pem_path = "{p}"\n'
        for p in ("ca_crt", "server_crt", "server_key", "peer_crt", "peer_key", "client_crt", "client_key")
    ),
    "identity/self-signed": '  ca_cert_pem = var.ca_cert\n  key_algorithm = "ECDSA-P256"\n',
    "ingress/self-signed": '  base_address = "console.example.com"\n  ca_cert_pem = var.ca_cert\n'
    '  key_algorithm = "ECDSA-P256"\n',
}


def root_module(dest) -> str:
    out = [
        'variable "ca_cert" {\n  type = string\n}\n',
    ]
    for name, (flavor, args, _) in CASES.items():
        source = f"{modules_source(dest)}/tls/{flavor}"
        out.append(f'module "{name}" {{\n  source = "{source}"\n{BASE[flavor]}  {args}\n}}\n')
    return "\n".join(out)


def ca_and_garbage() -> tuple[str, str, str]:
    """A CA's certificate and key, and text that is no key but as long as a key's body (its own body
    lines, unwrapped), which Terraform would print if a rule failed on it."""
    ca = issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=240, issuer=None
    )
    key = key_pem(ca.key)
    garbage = "".join(line for line in key.splitlines() if not line.startswith("-----"))
    return ca.cert.public_bytes(Encoding.PEM).decode(), key, garbage


def plan_of(root, tf_config, main_tf: str, variables: dict[str, str]):
    (root / "main.tf").write_text(main_tf)
    (root / "case.tfvars.json").write_text(json.dumps(variables))
    tf = Terraform(root, tf_config)
    tf.init()
    return tf.plan("-var-file=case.tfvars.json")


@pytest.fixture(scope="module")
def planned(tmp_path_factory, tf_config):
    root = tmp_path_factory.mktemp("per-node-names")
    cert, key, _ = ca_and_garbage()
    result = plan_of(root, tf_config, root_module(root), {"ca_cert": cert})
    assert_no_leak(result.output, [key], "output of terraform plan")
    return result


def test_a_ca_key_that_is_no_key_is_refused_by_the_program_without_echo(tmp_path, tf_config):
    cert, key, garbage = ca_and_garbage()
    source = f"{modules_source(tmp_path)}/tls/ingress/self-signed"
    main_tf = (
        'variable "ca_cert" {\n  type = string\n}\n\nvariable "garbage" {\n  type = string\n}\n\n'
        f'module "ingress" {{\n  source = "{source}"\n{BASE["ingress/self-signed"]}'
        "  ca_key_pem = var.garbage\n}\n"
    )
    result = plan_of(tmp_path, tf_config, main_tf, {"ca_cert": cert, "garbage": garbage})
    text = " ".join(result.output.split())
    assert result.returncode == 1 and "Traceback" not in text
    assert "TFEXT-E023 ca_key_pem: not a readable private key" in text, redact(text[-3000:])
    assert "not a certificate, a path or a copy cut short" in text
    assert garbage[:40] not in result.output and garbage[-40:] not in result.output
    assert_no_leak(result.output, [key], "output of terraform plan")


def blocks_of(output: str, module: str) -> str:
    """The error diagnostics of one module call: a validation names it ('in module "x"'), a program's
    failure its resources ('with module.x.')."""
    blocks = re.split(r"^(?=(?:Error|Warning): )", output, flags=re.M)
    return "\n".join(
        b for b in blocks if b.startswith("Error: ") and re.search(rf'module[ .]"?{module}\b', b)
    )


@pytest.mark.parametrize("case", list(CASES))
def test_each_list_is_judged_at_plan_with_its_code_and_fix(planned, case):
    _, _, expected = CASES[case]
    assert planned.returncode == 1, redact(planned.output[-3000:])
    assert "Traceback" not in planned.output
    errors = " ".join(blocks_of(planned.output, case).split())  # Terraform wraps messages
    if expected is None:
        assert errors == "", redact(errors[:3000])
        return
    assert errors, f"{case}: not refused\n{redact(planned.output[-3000:])}"
    for words in expected:
        assert words in errors, f"{case}: {words!r} not in\n{redact(errors[:3000])}"
