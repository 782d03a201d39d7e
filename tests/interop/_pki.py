"""The PKI under test: the tectonic example's Terraform outputs, and the same fed back as files.

A variant is a key algorithm and a flavor:
- "generated": `terraform apply` of terraform/examples/tectonic (kube/identity/ingress self-signed, etcd
  signed), outputs written by `tfext write-assets` (the CLI, as users run it);
- "user-provided": terraform/examples/tectonic-user-provided applied over the generated variant's files;
  ITS outputs are written out again and are what the consumers use.

The names the certificates must carry are written out here from the variables we pass, not read from the
certificates, so the tests are an independent oracle. `Pki` never shows key material in its repr.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from harness import TFEXT_BIN, Terraform, copy_example

from tfext import keys
from tfext.issue import issue
from tfext.profiles import Profile
from tfext.programs.inputs import certificate_inputs
from tfext.tools.assets import LAYOUT

from ._procs import run

ALGORITHMS = ("RSA-2048", "ECDSA-P256")
FLAVORS = ("generated", "user-provided")
VARIANTS = tuple(f"{a}-{f}" for f in FLAVORS for a in ALGORITHMS)

# The variables we pass, and the names they imply (tectonic-reference.md, sections 3 to 6).
CLUSTER_NAME = "interop"
BASE_DOMAIN = "tfext.test"
SERVICE_CIDR = "10.3.0.0/16"
API_HOST = f"{CLUSTER_NAME}-api.{BASE_DOMAIN}"
CONSOLE_HOST = f"{CLUSTER_NAME}.{BASE_DOMAIN}"
ETCD_NODE_NAMES = tuple(f"{CLUSTER_NAME}-etcd-{i}.{BASE_DOMAIN}" for i in range(3))
ETCD_IPS = ("127.0.0.1",)
APISERVER_NAMES = (
    API_HOST,
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
APISERVER_IPS = ("10.3.0.1",)
IDENTITY_NAMES = (
    "tectonic-identity-api.tectonic-system.svc.cluster.local",
    "tectonic-identity-api.tectonic-system.svc",
)
# etcd server and peer: node names and IPs, loopback, the self-hosted etcd service names and IPs.
ETCD_NAMES = (
    *ETCD_NODE_NAMES,
    "localhost",
    "etcd-0.kube-etcd.kube-system.svc.cluster.local",  # matched by the *.kube-etcd... wildcard
    "kube-etcd-client.kube-system.svc.cluster.local",
)
ETCD_ALL_IPS = ("127.0.0.1", "10.3.0.15", "10.3.0.20")

COMMON_VARS = (
    "-var",
    f"cluster_name={CLUSTER_NAME}",
    "-var",
    f"base_domain={BASE_DOMAIN}",
    "-var",
    f"service_cidr={SERVICE_CIDR}",
    "-var",
    f"etcd_ip_addresses={json.dumps(list(ETCD_IPS))}",
)

TERRAFORM_TIMEOUT = 180


@dataclass
class Pki:
    """One variant's certificates: output values and the files `tfext write-assets` made of them."""

    variant: str
    algorithm: str
    flavor: str
    directory: Path
    outputs: dict[str, str] = field(repr=False)

    def file(self, output: str) -> Path:
        """The file holding one output, e.g. file("etcd_certs_etcd_server_key_pem")."""
        path = self.directory / LAYOUT[output]
        if not path.is_file():
            raise AssertionError(f"{self.variant}: write-assets wrote no file for output {output}")
        return path

    def pem(self, output: str) -> bytes:
        return self.file(output).read_bytes()

    def cert(self, output: str) -> x509.Certificate:
        assert not output.endswith("_key_pem"), "not a certificate output"
        return x509.load_pem_x509_certificate(self.pem(output))


def write_assets(outputs_json: str, directory: Path) -> None:
    """`terraform output -json | tfext write-assets DIR`, the way the README tells users to run it."""
    proc = run(
        [str(TFEXT_BIN / "tfext"), "write-assets", str(directory)], timeout=60, input_text=outputs_json
    )
    # write-assets prints modes and paths only
    assert proc.returncode == 0, f"tfext write-assets exited {proc.returncode}: {proc.stderr[-2000:]}"


def _outputs(tf: Terraform) -> tuple[str, dict[str, str]]:
    raw = tf.run("output", "-json").stdout
    values = {name: item["value"] for name, item in json.loads(raw).items()}
    return raw, {k: v for k, v in values.items() if isinstance(v, str)}


def build_generated(root: Path, tf_config: Path, algorithm: str) -> Pki:
    work = copy_example("tectonic", root / "tectonic")
    tf = Terraform(work, tf_config, timeout=TERRAFORM_TIMEOUT)
    tf.init()
    tf.apply(*COMMON_VARS, "-var", f"key_algorithm={algorithm}")
    raw, outputs = _outputs(tf)
    directory = root / "tls"
    write_assets(raw, directory)
    return Pki(f"{algorithm}-generated", algorithm, "generated", directory, outputs)


def build_user_provided(root: Path, tf_config: Path, generated: Pki) -> Pki:
    work = copy_example("tectonic-user-provided", root / "tectonic-user-provided")
    tf = Terraform(work, tf_config, timeout=TERRAFORM_TIMEOUT)
    tf.init()
    tf.apply(*COMMON_VARS, "-var", f"tls_dir={generated.directory}")
    raw, outputs = _outputs(tf)
    directory = root / "tls"
    write_assets(raw, directory)
    return Pki(
        f"{generated.algorithm}-user-provided", generated.algorithm, "user-provided", directory, outputs
    )


def parse_variant(variant: str) -> tuple[str, str]:
    for algorithm in ALGORITHMS:
        for flavor in FLAVORS:
            if variant == f"{algorithm}-{flavor}":
                return algorithm, flavor
    raise ValueError(f"unknown PKI variant {variant!r}")


def impostor(ca_profile: Profile, leaf_profile: Profile, algorithm: str, directory: Path, name: str):
    """A CA with the real one's very name but a key of its own, and a `leaf_profile` pair it signed, made by
    tfext's own issuer: only a signature check tells them from the real ones. Writes `<name>.crt` (the
    leaf) and `<name>.key` (0600) in `directory`; returns (CA certificate, leaf file, key file)."""
    directory.mkdir(parents=True, exist_ok=True)
    inputs = certificate_inputs({})
    ca = issue(ca_profile, inputs, key_algorithm=algorithm, validity_hours=24 * 30, issuer=None)
    leaf = issue(leaf_profile, inputs, key_algorithm=algorithm, validity_hours=24 * 30, issuer=ca)
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    cert.write_bytes(leaf.cert.public_bytes(serialization.Encoding.PEM))
    key.touch(mode=0o600)
    key.write_text(keys.to_pem(leaf.key, keys.DEFAULT_KEY_FORMAT))
    return ca.cert, cert, key
