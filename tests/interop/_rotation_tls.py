"""A kube CA rotation through real Terraform, kept phase by phase for test_ca_rotation_tls.py.

One `rotate()` per key algorithm: `terraform apply` of a copy of terraform/examples/tectonic (generation
0), then the three applies of the rotation (generation 1: trust, reissue, finish). After each apply the
outputs are kept and written out by `tfext write-assets` into a directory of that phase, so the consumer
tests can replay any phase (and pair one phase's server with another phase's clients). Every terraform
command's captured output is kept for the key-leak scan; `terraform output -json` is the only one left
out: it is where the keys come from.

The oracle is written out here, not read from the outputs: which CA a phase trusts (EXPECTED_TRUST)
and which CA signs its leaves (SIGNER). "old" is the generation-0 CA, "new" the one the rotation brings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from harness import Result, Terraform, copy_example

from tfext import profiles
from tfext.tools.assets import LAYOUT

from ._pki import COMMON_VARS, TERRAFORM_TIMEOUT, Pki, impostor, write_assets

PHASES = ("initial", "trust", "reissue", "finish")  # initial: generation 0, before the rotation
GENERATION = 1
# What each phase's bundle trusts, and which CA signed the leaves it hands out.
EXPECTED_TRUST = {
    "initial": ("old",),
    "trust": ("old", "new"),
    "reissue": ("new", "old"),
    "finish": ("new",),
}
SIGNER = {"initial": "old", "trust": "old", "reissue": "new", "finish": "new"}

KUBE_BUNDLES = ("kube_certs_ca_cert_pem", "identity_certs_ca_cert_pem", "ingress_certs_ca_cert_pem")
LEAVES = (
    "kube_certs_apiserver_cert_pem",
    "kube_certs_kubelet_cert_pem",
    "identity_certs_server_cert_pem",
    "identity_certs_client_cert_pem",
    "ingress_certs_cert_pem",
)
KEY_HEADER = re.compile(r"PRIVATE KEY")


def rotation_var(phase: str, generation: int = GENERATION) -> tuple[str, str]:
    return ("-var", f'kube_ca_rotation={{generation={generation}, phase="{phase}"}}')


def phase_var(name: str) -> tuple[str, str]:
    """The -var of one of our phases (initial is generation 0's finish)."""
    return rotation_var("finish", 0) if name == "initial" else rotation_var(name)


def certs(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


class KeyScan:
    """Every key line handed out so far (from `terraform output -json`), and a scan of text for them
    and for any PEM private-key label. Counts only: a key line is never shown."""

    def __init__(self) -> None:
        self.lines: set[str] = set()

    def learn(self, values: dict) -> None:
        for value in values.values():
            if isinstance(value, str) and "PRIVATE KEY" in value:
                self.lines |= {ln for ln in value.splitlines() if ln.strip() and not ln.startswith("-----")}

    def leaks(self, text: str) -> int:
        return len(KEY_HEADER.findall(text)) + sum(ln in text for ln in self.lines)

    def assert_clean(self, steps: list[tuple[str, Result]]) -> int:
        """Assert no step's stdout+stderr holds key text; returns how many steps were scanned."""
        assert self.lines, "no key was learned: the scan would find nothing"
        dirty = {what: n for what, result in steps if (n := self.leaks(result.output))}
        assert not dirty, f"private-key text in Terraform's output (step: line count): {dirty}"
        return len(steps)


@dataclass
class Phase:
    """One phase's outputs (all values) and the files write-assets made of them."""

    name: str
    raw: str = field(repr=False)
    values: dict = field(repr=False)
    pki: Pki

    def bundle(self, output: str = "kube_certs_ca_cert_pem") -> list[x509.Certificate]:
        return certs(self.values[output])


@dataclass
class Foreign:
    """A client certificate signed by neither CA: its CA has the kube CA's very name (CN=kube-ca,
    O=bootkube) and its own key, and the leaf is the kubelet's (CN=kubelet, O=system:masters,
    clientAuth), so only a signature check can tell it apart."""

    cert: Path
    key: Path
    ca: x509.Certificate = field(repr=False)

    def pem_pair(self) -> tuple[bytes, bytes]:
        return self.cert.read_bytes(), self.key.read_bytes()


@dataclass
class Rotation:
    algorithm: str
    root: Path
    config: Path
    phases: dict[str, Phase]
    foreign: Foreign
    scan: KeyScan
    steps: list[tuple[str, Result]] = field(repr=False)
    skip_plan: Result = field(repr=False)

    def ca(self, which: str) -> x509.Certificate:
        """ "old" (generation 0's CA) or "new" (the finished rotation's)."""
        return self.phases["initial" if which == "old" else "finish"].bundle()[0]


def make_foreign(directory: Path, algorithm: str) -> Foreign:
    """A kubelet pair signed by a CA with the kube CA's very name but a key of its own."""
    ca, cert, key = impostor(profiles.KUBE_CA, profiles.KUBELET, algorithm, directory, "foreign-kubelet")
    return Foreign(cert, key, ca)


def rotate(root: Path, tf_config: Path, algorithm: str) -> Rotation:
    """Generation 0, then trust, reissue, finish, each a real `terraform apply`; and, at generation 0, a
    plan that skips to reissue (which must fail with TFEXT-E055)."""
    work = copy_example("tectonic", root / "tectonic")
    tf = Terraform(work, tf_config, timeout=TERRAFORM_TIMEOUT)
    steps: list[tuple[str, Result]] = [("init", tf.init())]
    scan = KeyScan()
    phases: dict[str, Phase] = {}
    skip_plan = None
    base = (*COMMON_VARS, "-var", f"key_algorithm={algorithm}")
    for name in PHASES:
        steps.append((f"apply {name}", tf.apply(*base, *phase_var(name))))
        raw = tf.run("output", "-json").stdout
        values = {k: item["value"] for k, item in json.loads(raw).items()}
        scan.learn(values)
        directory = root / f"tls-{name}"
        write_assets(raw, directory)  # `terraform output -json | tfext write-assets DIR`
        strings = {k: v for k, v in values.items() if isinstance(v, str)}
        phases[name] = Phase(
            name, raw, values, Pki(f"{algorithm}-{name}", algorithm, "generated", directory, strings)
        )
        if name == "initial":
            skip_plan = tf.plan(*base, *rotation_var("reissue"))
            steps.append(("plan skipping trust", skip_plan))
    assert set(LAYOUT) <= set(phases["initial"].values), "the example lost an output write-assets writes"
    return Rotation(
        algorithm, root, tf_config, phases, make_foreign(root / "foreign", algorithm), scan, steps, skip_plan
    )
