"""The polymorphism contract, read from the HCL itself: every flavor of a module declares exactly the same
outputs with the same `sensitive` marks, so swapping `source` can never break a caller."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from harness import MODULES, require

FLAVORS = {
    "etcd": ("signed", "user-provided"),
    "kube": ("self-signed", "user-provided"),
    "identity": ("self-signed", "user-provided"),
    "ingress": ("self-signed", "user-provided"),
}

# The outputs each module promises (issues 2 and 3), beside `certificates`, `id` and (issue 21) `key_files`.
PROMISED = {
    "etcd": {
        "etcd_ca_crt_pem": False,
        "etcd_server_crt_pem": False,
        "etcd_server_key_pem": True,
        "etcd_peer_crt_pem": False,
        "etcd_peer_key_pem": True,
        "etcd_client_crt_pem": False,
        "etcd_client_key_pem": True,
        # issue 13: the CA rotation
        "etcd_signing_ca_crt_pem": False,
        "ca_rotation": False,
        # issue 14: one identity per member (maps keyed by member name)
        "etcd_member_server_crt_pem": False,
        "etcd_member_server_key_pem": True,
        "etcd_member_peer_crt_pem": False,
        "etcd_member_peer_key_pem": True,
    },
    "kube": {
        "ca_cert_pem": False,
        "ca_key_alg": False,
        "ca_key_pem": True,
        "apiserver_cert_pem": False,
        "apiserver_key_pem": True,
        "kubelet_cert_pem": False,
        "kubelet_key_pem": True,
        # issue 13: the CA rotation
        "signing_ca_cert_pem": False,
        "ca_rotation": False,
        # issue 14: least-privilege clients, and one identity per node (maps keyed by node name)
        "apiserver_kubelet_client_cert_pem": False,
        "apiserver_kubelet_client_key_pem": True,
        "admin_cert_pem": False,
        "admin_key_pem": True,
        "node_kubelet_client_cert_pem": False,
        "node_kubelet_client_key_pem": True,
        "node_kubelet_serving_cert_pem": False,
        "node_kubelet_serving_key_pem": True,
        # issue 21: where the signing CA's key file is, for identity and ingress
        "ca_key_path": False,
    },
    "identity": {
        "client_cert_pem": False,
        "client_key_pem": True,
        "server_cert_pem": False,
        "server_key_pem": True,
        "ca_cert_pem": False,
    },
    "ingress": {"ca_cert_pem": False, "cert_pem": False, "key_pem": True},
}

BLOCK = re.compile(r'^(output|variable) "([^"]+)" \{(.*?)^\}', re.S | re.M)


def blocks(directory, kind: str) -> dict[str, str]:
    text = "\n".join(p.read_text() for p in sorted(directory.glob("*.tf")))
    return {name: body for k, name, body in BLOCK.findall(text) if k == kind}


def outputs(directory) -> dict[str, bool]:
    """Output name => declared sensitive."""
    return {
        name: bool(re.search(r"^\s*sensitive\s*=\s*true", body, re.M))
        for name, body in blocks(directory, "output").items()
    }


@pytest.mark.parametrize("module", sorted(FLAVORS))
def test_every_flavor_declares_the_same_outputs_with_the_same_sensitivity(module):
    first, second = (outputs(MODULES / module / flavor) for flavor in FLAVORS[module])
    assert first == second


@pytest.mark.parametrize("module", sorted(FLAVORS))
def test_outputs_are_the_promised_ones_and_keys_are_sensitive(module):
    for flavor in FLAVORS[module]:
        declared = outputs(MODULES / module / flavor)
        expected = dict(PROMISED[module], certificates=False, id=False, key_files=False)
        assert declared == expected, f"{module}/{flavor}"


def test_no_other_module_directories_exist():
    found = {p.parent.relative_to(MODULES).as_posix() for p in MODULES.glob("*/*/main.tf")}
    expected = {f"{m}/{f}" for m, fl in FLAVORS.items() for f in fl} | {
        "internal/issue",
        "internal/verify",
        "internal/rotation",
    }
    assert found == expected


@pytest.mark.parametrize("flavor", [f"{m}/{f}" for m, fl in FLAVORS.items() for f in fl])
def test_every_variable_is_typed_and_described(flavor):
    for name, body in blocks(MODULES / flavor, "variable").items():
        assert re.search(r"^\s*type\s*=", body, re.M), f"{flavor}: variable {name} has no type"
        assert re.search(r'^\s*description\s*=\s*"\S', body, re.M), (
            f"{flavor}: variable {name} has no description"
        )


@pytest.mark.parametrize("flavor", [f"{m}/{f}" for m, fl in FLAVORS.items() for f in fl])
def test_flavors_call_the_one_copy_of_each_building_block(flavor):
    """internal/{issue,verify,rotation} live once; flavors call them by relative path, in the package."""
    main = (MODULES / flavor / "main.tf").read_text()
    sources = re.findall(r'source\s*=\s*"([^"]+)"', main)
    assert sources, f"{flavor} calls no building block"
    assert all(re.fullmatch(r"\.\./\.\./internal/(issue|verify|rotation)", s) for s in sources), sources
    assert not (MODULES / flavor / "internal").exists(), f"{flavor} carries a copy of a building block"


def test_hcl_is_terraform_fmt_clean():
    result = subprocess.run(
        [require("terraform"), "fmt", "-check", "-recursive", str(MODULES.parent.parent)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"not fmt-clean: {result.stdout}"


def test_no_program_list_can_hold_an_empty_string():
    """hashicorp/external 2.1 panics on "" in `program`: every program list is built from validated parts."""
    for tf in MODULES.rglob("*.tf"):
        for line in tf.read_text().splitlines():
            if "program" in line and "=" in line and '""' in line:
                pytest.fail(f"{tf}: {line.strip()}")


def test_module_readmes_list_the_current_inputs_and_outputs():
    script = MODULES.parent.parent.parent / "scripts" / "module_docs.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
