"""Running real Terraform (and other real programs) from tests.

`Terraform` wraps one working directory; `cli_config()` makes a CLI config that installs
hashicorp/external offline - ours (`tfext install-provider`), or a real one when TFEXT_PROVIDER_MIRROR
names a filesystem mirror that holds it. Required tools fail loudly under CI=true and skip locally.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509

REPO = Path(__file__).resolve().parent.parent
MODULES = REPO / "terraform" / "modules" / "tls"
EXAMPLES = REPO / "terraform" / "examples"
TFEXT_BIN = Path(sys.executable).parent  # the venv's bin, where the `tfext` console script lives


def require(tool: str) -> str:
    """The path of a required program; fails under CI=true, skips with a clear message locally."""
    found = shutil.which(tool)
    if found:
        return found
    message = f"{tool} is not installed (CI installs it in .ci/run)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def cli_config(directory: Path) -> Path:
    """A Terraform CLI config installing hashicorp/external from a filesystem mirror; returns its path."""
    from tfext.provider.install import cli_config_text, install_provider

    mirror = os.environ.get("TFEXT_PROVIDER_MIRROR")
    mirror_dir = Path(mirror) if mirror else install_provider(directory / "mirror")
    config = directory / "terraformrc"
    config.write_text(cli_config_text(mirror_dir))
    return config


@dataclass(frozen=True)
class Run:
    """What one in-process `tfext` command did, and how long it took."""

    code: int
    out: str
    err: str
    seconds: float = 0.0


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Terraform:
    """The terraform CLI in one working directory, with a fixed environment."""

    workdir: Path
    config: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    timeout: float = 300

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            TF_CLI_CONFIG_FILE=str(self.config),
            TF_IN_AUTOMATION="1",
            TF_INPUT="0",
            CHECKPOINT_DISABLE="1",
            PATH=f"{TFEXT_BIN}{os.pathsep}{env.get('PATH', '')}",
        )
        env.pop("TF_LOG", None)
        env.update(self.env_extra)
        return env

    def run(self, *args: str, check: bool = True) -> Result:
        cmd = [require("terraform"), *args]
        proc = subprocess.run(
            cmd, cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=self.timeout
        )
        result = Result(cmd, proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            # Terraform never prints sensitive values, so its output is safe to show.
            raise AssertionError(
                f"terraform {' '.join(args)} exited {proc.returncode}:\n{result.output[-4000:]}"
            )
        return result

    def init(self) -> Result:
        return self.run("init", "-input=false", "-no-color")

    def apply(self, *args: str, check: bool = True) -> Result:
        return self.run("apply", "-auto-approve", "-input=false", "-no-color", *args, check=check)

    def plan(self, *args: str) -> Result:
        """`plan -detailed-exitcode`: returncode 0 = no changes, 2 = changes, 1 = error."""
        return self.run("plan", "-detailed-exitcode", "-input=false", "-no-color", *args, check=False)

    def destroy(self) -> Result:
        return self.run("destroy", "-auto-approve", "-input=false", "-no-color")

    def outputs(self) -> dict:
        """Every root output's value (sensitive ones included: `output -json` shows them)."""
        raw = json.loads(self.run("output", "-json").stdout)
        return {name: item["value"] for name, item in raw.items()}

    def state_resources(self) -> list[str]:
        return self.run("state", "list").stdout.split()


def modules_source(dest: Path, modules: Path = REPO / "terraform" / "modules") -> str:
    """A terraform/modules tree (this checkout's by default) as a local module source seen from `dest`.

    Relative, because Terraform takes an absolute path for a package of its own, and the flavors call the
    shared blocks in `tls/internal` by `../../internal/...`, which must stay inside the package.
    """
    return os.path.relpath(modules, dest.resolve())


def copy_example(name: str, dest: Path) -> Path:
    """Copy an example root module, pointing its module sources at this checkout's modules."""
    src = EXAMPLES / name
    dest.mkdir(parents=True, exist_ok=True)
    for tf in [*src.glob("*.tf"), *src.glob("*.tfvars")]:  # through links: key-dir's are tectonic's
        text = tf.read_text().replace('"../../modules/', f'"{modules_source(dest)}/')
        (dest / tf.name).write_text(text)
    return dest


# The certificates of the tectonic example, as `<module>.<slot>`, and those the kube CA signs. Since
# issue 14, kube/self-signed also issues the apiserver's own kubelet client and an admin client (fixed
# slots, issued whether or not `nodes` is set): 12, where Tectonic had 10.
TECTONIC_CERTS = frozenset(
    {
        "etcd_certs.ca",
        "etcd_certs.server",
        "etcd_certs.peer",
        "etcd_certs.client",
        "kube_certs.ca",
        "kube_certs.apiserver",
        "kube_certs.kubelet",
        "kube_certs.apiserver_kubelet_client",
        "kube_certs.admin",
        "identity_certs.server",
        "identity_certs.client",
        "ingress_certs.ingress",
    }
)
KUBE_CA_TREE = frozenset(n for n in TECTONIC_CERTS if not n.startswith("etcd_certs."))


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def assert_chains(tf: Terraform) -> None:
    """Every leaf of the tectonic example is signed by the CA its module hands out now."""
    out = tf.outputs()
    kube_ca, etcd_ca = cert(out["kube_certs_ca_cert_pem"]), cert(out["etcd_certs_etcd_ca_crt_pem"])
    for name in (
        "etcd_certs_etcd_server_crt_pem",
        "etcd_certs_etcd_peer_crt_pem",
        "etcd_certs_etcd_client_crt_pem",
    ):
        cert(out[name]).verify_directly_issued_by(etcd_ca)
    for name in (
        "kube_certs_apiserver_cert_pem",
        "kube_certs_kubelet_cert_pem",
        "identity_certs_server_cert_pem",
        "identity_certs_client_cert_pem",
        "ingress_certs_cert_pem",
    ):
        cert(out[name]).verify_directly_issued_by(kube_ca)
    assert (
        out["identity_certs_ca_cert_pem"] == out["ingress_certs_ca_cert_pem"] == out["kube_certs_ca_cert_pem"]
    )
