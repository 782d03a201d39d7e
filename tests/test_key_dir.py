"""Key-directory mode with real Terraform (issue 21): no private key in Terraform's state, plan files or
logs, through a whole lifecycle; quiet plans that run no program; key files that go missing or change
fail the plan and re-issue nothing; nodes that bring a CSR; and the CI plan check, on a PostgreSQL
backend, from a directory that has no key directory.

After every step - first apply, a re-issue by an input, a node added and one removed, each CA rotation
phase, destroy - these are scanned for every key header and every body line of every key file the key
directory ever held: `terraform state pull`, the unzipped saved plan (`plan -out`), `terraform show`,
`terraform show -json`, a `TF_LOG=DEBUG terraform plan`, and the output of every command run.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from daytwo._postgres import start_postgres
from harness import Terraform, copy_example, modules_source, require
from test_state_layer import faulty_terraform, stage_records

pytestmark = pytest.mark.terraform

ROOT = """
variable "nodes" {
  type = list(string)
}
variable "kubelet_serving" {
  type = map(object({ ip_addresses = optional(list(string), []), dns_names = optional(list(string), []) }))
}
variable "kube_rotation" {
  type    = object({ generation = number, phase = string })
  default = { generation = 0, phase = "finish" }
}
variable "node_csr_dir" {
  type    = string
  default = ""
}

module "etcd" {
  source        = "MODULES/etcd/signed"
  self_signed   = true
  members       = { "etcd-0" = { ip_addresses = ["10.0.0.10"] }, "etcd-1" = { ip_addresses = ["10.0.0.11"] } }
  key_algorithm = "ECDSA-P256"
  key_dir       = "keys"
}

module "kube" {
  source             = "MODULES/kube/self-signed"
  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
  nodes              = var.nodes
  kubelet_serving    = var.kubelet_serving
  node_csr_dir       = var.node_csr_dir
  key_algorithm      = "ECDSA-P256"
  ca_rotation        = var.kube_rotation
  key_dir            = "keys"
}

module "identity" {
  source        = "MODULES/identity/self-signed"
  ca_cert_pem   = module.kube.ca_cert_pem
  ca_key_pem    = module.kube.ca_key_pem
  ca_key_path   = module.kube.ca_key_path
  key_algorithm = "ECDSA-P256"
  key_dir       = "keys"
}

module "ingress" {
  source        = "MODULES/ingress/self-signed"
  base_address  = "console.example.com"
  ca_cert_pem   = module.kube.ca_cert_pem
  ca_key_pem    = module.kube.ca_key_pem
  ca_key_path   = module.kube.ca_key_path
  key_algorithm = "ECDSA-P256"
  key_dir       = "keys"
}

# The documented pattern: root outputs without keys (a root output is kept in state).
output "kube" {
  value = { for k, v in module.kube : k => v if !endswith(k, "key_pem") }
}
output "certificates" {
  value = {
    etcd = module.etcd.certificates, kube = module.kube.certificates,
    identity = module.identity.certificates, ingress = module.ingress.certificates,
  }
}
output "key_files" {
  value = {
    etcd = module.etcd.key_files, kube = module.kube.key_files,
    identity = module.identity.key_files, ingress = module.ingress.key_files,
  }
}
"""
NODES = ["n0", "n1", "n2"]
SERVING = {"n0": {"ip_addresses": ["10.0.1.10"]}, "n1": {"ip_addresses": ["10.0.1.11"]}}
KEY_HEADER = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


class KeyDirWorkspace:
    """The root module above in key-directory mode: its variables, every command's output, and the key
    lines to scan for (every key file the directory ever held, orphans of discarded plans included)."""

    def __init__(self, tf: Terraform) -> None:
        self.tf = tf
        self.vars: dict = {"nodes": list(NODES), "kubelet_serving": dict(SERVING)}
        self.outputs: list[tuple[str, str]] = []

    @property
    def keys(self) -> Path:
        return self.tf.workdir / "keys"

    def key_lines(self) -> set[str]:
        lines = set()
        for path in self.keys.rglob("*.key"):
            lines |= {ln for ln in path.read_text().splitlines() if ln and not ln.startswith("-----")}
        return lines

    def runs(self) -> list[str]:
        log = self.tf.workdir / "runs"
        return log.read_text().split() if log.exists() else []

    def run(self, step: str, *args: str, check: bool = True, env: dict | None = None):
        done = len(self.runs())
        if env:
            self.tf.env_extra.update(env)
        try:
            result = (
                self.tf.run(*args, "-var-file=vars.tfvars.json", check=check)
                if _takes_vars(args)
                else self.tf.run(*args, check=check)
            )
        finally:
            for name in env or {}:
                self.tf.env_extra.pop(name, None)
        self.outputs.append((step, result.output))
        return result, Counter(self.runs()[done:])

    def write_vars(self) -> None:
        (self.tf.workdir / "vars.tfvars.json").write_text(json.dumps(self.vars))

    def step(self, step: str, **changes) -> dict:
        """Apply with `changes`; the next plan must be quiet and run no program; then scan everything."""
        self.vars.update(changes)
        self.write_vars()
        self.run(step, "apply", "-auto-approve", "-input=false", "-no-color")
        quiet, runs = self.run(
            f"{step}: next plan", "plan", "-detailed-exitcode", "-input=false", "-no-color", check=False
        )
        assert quiet.returncode == 0, f"{step}: the next plan is not quiet:\n{quiet.output[-3000:]}"
        assert runs == Counter(), f"{step}: the quiet plan ran {dict(runs)}"
        self.scan_everything(step)
        return self.tf.outputs()

    def scan_everything(self, step: str) -> None:
        lines = self.key_lines()
        assert lines, f"{step}: no key file to scan for: the scan would find nothing"
        texts = {"state pull": self.tf.run("state", "pull").stdout}
        plan = self.tf.workdir / "saved.tfplan"
        self.run(f"{step}: plan -out", "plan", "-input=false", "-no-color", f"-out={plan}")
        with zipfile.ZipFile(plan) as z:
            for name in z.namelist():
                texts[f"plan file {name}"] = z.read(name).decode("utf-8", "replace")
        plan.unlink()
        texts["show"] = self.tf.run("show", "-no-color").stdout
        texts["show -json"] = self.tf.run("show", "-json").stdout
        debug, _ = self.run(
            f"{step}: TF_LOG=DEBUG plan", "plan", "-input=false", "-no-color", env={"TF_LOG": "DEBUG"}
        )
        texts["TF_LOG=DEBUG plan"] = debug.output
        for name, text in texts.items():
            assert_no_key(f"{step}: {name}", text, lines)
        for name, text in self.outputs:
            assert_no_key(name, text, lines)


def _takes_vars(args: tuple[str, ...]) -> bool:
    return args[0] in ("apply", "plan", "destroy")


def assert_no_key(where: str, text: str, lines: set[str]) -> None:
    found = len(KEY_HEADER.findall(text)) + sum(ln in text for ln in lines)
    assert found == 0, f"{where}: {found} private-key lines"  # a count: never the lines themselves


def serials(out: dict) -> dict[str, str]:
    return {f"{m}/{n}": c["serial"] for m, certs in out["certificates"].items() for n, c in certs.items()}


@pytest.fixture(scope="module")
def workspace(tf_config, tmp_path_factory) -> KeyDirWorkspace:
    work = tmp_path_factory.mktemp("key-dir")
    (work / "main.tf").write_text(textwrap.dedent(ROOT).replace("MODULES", f"{modules_source(work)}/tls"))
    (work / "keys").mkdir(mode=0o700)
    tf = faulty_terraform(tf_config, work)  # no fault asked for: it only logs each program run
    tf.init()
    return KeyDirWorkspace(tf)


def test_no_key_reaches_state_plans_or_logs_through_a_whole_lifecycle(workspace):
    w = workspace
    first = w.step("first apply")
    files = first["key_files"]
    assert set(files["kube"]) >= {"ca", "apiserver", "kubelet:n0", "serving:n1"} and files["identity"]
    for module in files.values():
        for path in module.values():
            key = w.tf.workdir / path
            assert key.stat().st_mode & 0o777 == 0o600 and path.startswith("keys/")
    assert (w.keys.stat().st_mode & 0o777) == 0o700
    # no key element in a record, and so nothing Terraform marks sensitive in state (docs/performance.md)
    markers, kept = stage_records(w.tf)
    assert markers and all(isinstance(m, int) for m in markers)
    assert kept and all("key_pem" not in elements and not marks for elements, marks in kept)

    readdressed = w.step(
        "re-issue by an input", kubelet_serving={**SERVING, "n1": {"ip_addresses": ["10.0.1.99"]}}
    )
    changed = {k for k, v in serials(readdressed).items() if serials(first).get(k) != v}
    assert changed == {"kube/serving:n1"}
    # the re-issued certificate has a new key file; the old one stays (never overwritten)
    assert readdressed["key_files"]["kube"]["serving:n1"] != files["kube"]["serving:n1"]
    assert (w.tf.workdir / files["kube"]["serving:n1"]).exists()

    added = w.step("a node added", nodes=[*NODES, "n3"])
    assert "kube/kubelet:n3" in serials(added)
    w.step("a node removed", nodes=list(NODES))
    for phase in ("trust", "reissue", "finish"):
        w.step(f"rotation {phase}", kube_rotation={"generation": 1, "phase": phase})
    destroyed, _ = w.run("destroy", "destroy", "-auto-approve", "-input=false", "-no-color")
    assert "Destroy complete" in destroyed.output
    for name, text in w.outputs:
        assert_no_key(name, text, w.key_lines())
    assert_no_key("state pull after destroy", w.tf.run("state", "pull").stdout, w.key_lines())


@pytest.fixture
def applied(tf_config, tmp_path) -> KeyDirWorkspace:
    work = tmp_path / "w"
    work.mkdir()
    (work / "main.tf").write_text(textwrap.dedent(ROOT).replace("MODULES", f"{modules_source(work)}/tls"))
    (work / "keys").mkdir(mode=0o700)
    tf = faulty_terraform(tf_config, work)
    tf.init()
    w = KeyDirWorkspace(tf)
    w.write_vars()
    w.run("first apply", "apply", "-auto-approve", "-input=false", "-no-color")
    return w


@pytest.mark.parametrize("damage", ["missing", "changed", "another key"])
def test_a_key_file_missing_or_changed_fails_the_plan_and_re_issues_nothing(applied, damage):
    w = applied
    path = w.tf.workdir / w.tf.outputs()["key_files"]["kube"]["apiserver"]
    other = w.tf.workdir / w.tf.outputs()["key_files"]["kube"]["admin"]
    if damage == "missing":
        path.unlink()
    elif damage == "changed":
        path.write_text(path.read_text() + "\n")
    else:
        shutil.copyfile(other, path)
    before = (w.tf.workdir / "terraform.tfstate").read_bytes()
    plan, runs = w.run("damaged plan", "plan", "-detailed-exitcode", "-input=false", "-no-color", check=False)
    text = " ".join(plan.output.split())
    assert plan.returncode == 1 and f"TFEXT-E074 kube/apiserver ({path.relative_to(w.tf.workdir)})" in text
    assert "restore the file" in text and "-replace" in text and runs == Counter()
    applied_, _ = w.run("damaged apply", "apply", "-auto-approve", "-input=false", "-no-color", check=False)
    assert applied_.returncode == 1 and (w.tf.workdir / "terraform.tfstate").read_bytes() == before


def test_the_ci_plan_check_without_the_key_directory_is_quiet_and_says_so(tf_config, tmp_path):
    server = start_postgres()
    try:
        server.run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "tfstate")
        env = {"PG_CONN_STR": server.conn_str("tfstate")}
        roots = {}
        for name in ("workstation", "ci"):
            work = tmp_path / name
            work.mkdir()
            (work / "main.tf").write_text(
                textwrap.dedent(ROOT).replace("MODULES", f"{modules_source(work)}/tls")
            )
            (work / "backend.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
            (work / "vars.tfvars.json").write_text(json.dumps({"nodes": NODES, "kubelet_serving": SERVING}))
            roots[name] = Terraform(work, tf_config, env_extra=env)
            roots[name].init()
        (tmp_path / "workstation" / "keys").mkdir(mode=0o700)
        roots["workstation"].apply("-var-file=vars.tfvars.json")
        ci = roots["ci"].plan("-var-file=vars.tfvars.json")
        text = " ".join(ci.output.split())
        assert ci.returncode == 0, ci.output[-3000:]
        for kind in ("kube", "etcd", "identity", "ingress"):
            assert f"TFEXT-E076 {kind}: the key directory keys is not here" in text
        assert not (tmp_path / "ci" / "keys").exists()
        state = roots["ci"].run("state", "pull").stdout
        lines = set()
        for path in (tmp_path / "workstation" / "keys").rglob("*.key"):
            lines |= {ln for ln in path.read_text().splitlines() if ln and not ln.startswith("-----")}
        assert_no_key("shared state", state, lines)
        assert_no_key("CI plan", ci.output, lines)
    finally:
        server.stop()


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run([require("openssl"), *args], cwd=cwd, check=True, capture_output=True)


def node_csrs(
    directory: Path,
    node: str,
    *,
    key_args: tuple[str, ...] = ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
) -> None:
    """A node's own key (kept beside, as the node would) and CSRs for its client and serving certificate."""
    d = directory / node
    d.mkdir(parents=True, exist_ok=True)
    for role in ("kubelet-client", "kubelet-serving"):
        openssl("genpkey", *key_args, "-out", f"{role}.key", cwd=d)
        openssl(
            "req",
            "-new",
            "-key",
            f"{role}.key",
            "-subj",
            "/CN=system:masters/O=system:masters",
            "-out",
            f"{role}.csr",
            cwd=d,
        )


def test_nodes_bring_csrs_a_new_csr_re_issues_its_certificate_only_and_bad_ones_fail_the_plan(applied):
    w = applied
    csr = w.tf.workdir / "node-csr"
    for node in NODES:
        node_csrs(csr, node)
    w.vars["node_csr_dir"] = "node-csr"
    out = w.step("nodes bring CSRs")
    for node in NODES:
        cert = x509.load_pem_x509_certificate(out_pem(w, "kube", f"kubelet:{node}"))
        key = serialization.load_pem_private_key((csr / node / "kubelet-client.key").read_bytes(), None)
        assert cert.public_key().public_numbers() == key.public_key().public_numbers()
        assert cert.subject.rfc4514_string() == f"CN=system:node:{node},O=system:nodes"
        assert f"kubelet:{node}" not in out["key_files"]["kube"]  # no key of ours
        facts = out["certificates"]["kube"]  # and its facts say so (the last of a record's list)
        assert facts[f"kubelet:{node}"]["key_from_csr"] is True and facts[f"kubelet:{node}"]["is_ca"] is False
        assert facts["apiserver"]["key_from_csr"] is False
    # write-assets from the outputs: the nodes' certificates without keys (theirs), every other key from keys/
    assets = subprocess.run(
        [str(Path(sys.executable).parent / "tfext"), "write-assets", "assets"],
        input=w.tf.run("output", "-json").stdout,
        cwd=w.tf.workdir,
        capture_output=True,
        text=True,
    )
    assert assets.returncode == 0, assets.stderr[-2000:]
    node_dir = w.tf.workdir / "assets" / "kube" / "nodes" / "n0"
    assert (node_dir / "kubelet-client.crt").is_file() and not (node_dir / "kubelet-client.key").exists()
    assert (w.tf.workdir / "assets" / "apiserver.key").stat().st_mode & 0o777 == 0o600
    before = serials(out)
    node_csrs(csr, "n1")  # n1 makes new keys and new CSRs
    after = w.step("n1 brings new CSRs")
    assert {k for k, v in serials(after).items() if before[k] != v} == {"kube/kubelet:n1", "kube/serving:n1"}

    # A CSR whose signature does not verify (a byte of its subject changed), and a weak key: refused at plan.
    bad = csr / "n2" / "kubelet-client.csr"
    body = "".join(bad.read_text().splitlines()[1:-1])
    der = bytearray(base64.b64decode(body))
    index = bytes(der).find(b"system:masters")
    der[index] = ord("S")
    bad.write_text(
        "-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(bytes(der)).decode()
        + "-----END CERTIFICATE REQUEST-----\n"
    )
    tampered = w.tf.plan("-var-file=vars.tfvars.json")
    # the hash of the CSR changed, so its certificate is issued again: the program refuses it while planning
    assert tampered.returncode == 1 and "TFEXT-E075" in " ".join(tampered.output.split()), tampered.output[
        -2000:
    ]
    node_csrs(csr, "n2", key_args=("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"))
    weak = w.tf.plan("-var-file=vars.tfvars.json")
    assert weak.returncode == 1 and "TFEXT-E044" in " ".join(weak.output.split()), weak.output[-2000:]


def out_pem(w: KeyDirWorkspace, module: str, slot: str) -> bytes:
    """A certificate from state (the root outputs hold facts, not PEM): the module's kept record."""
    state = json.loads(w.tf.run("state", "pull").stdout)
    for resource in state["resources"]:
        if (
            resource["type"] == "terraform_data"
            and resource["name"] == "kept"
            and f"module.{module}" in resource.get("module", "")
        ):
            for inst in resource["instances"]:
                if inst["index_key"] == slot:
                    record = inst["attributes"]["triggers_replace"]
                    return record.get("value", record)["cert_pem"].encode()
    raise AssertionError(f"no kept record for {module}/{slot}")


def test_the_key_dir_example_applies_and_no_file_terraform_writes_holds_a_key(tf_config, tmp_path):
    work = copy_example("key-dir", tmp_path / "example")
    (work / "keys").mkdir(mode=0o700)
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply()
    assert tf.plan().returncode == 0
    lines = set()
    for path in (work / "keys").rglob("*.key"):
        lines |= {ln for ln in path.read_text().splitlines() if ln and not ln.startswith("-----")}
    assert len(list((work / "keys").rglob("*.key"))) >= 12
    for path in work.rglob("*"):
        if path.is_file() and "keys" not in path.relative_to(work).parts and ".terraform" not in path.parts:
            assert_no_key(str(path.relative_to(work)), path.read_text(errors="replace"), lines)
    assert_no_key("output -json", tf.run("output", "-json").stdout, lines)
    assert os.stat(work / "keys").st_mode & 0o077 == 0
