"""No interruption loses a key (issue 19): `terraform apply` itself is stopped by SIGINT or SIGKILL at spread
moments of an apply that issues - a per-node add (with a stage per node, and with the nodes in groups of
stages, `node_groups`), and a CA rotation's reissue - on a backend that survives SIGKILL (PostgreSQL,
Terraform's `pg` backend), and then plain applies finish the job:

- every certificate in the outputs has its key, and the key matches it;
- no certificate kept in state (with its key) when Terraform stopped changes serial afterwards;
- the next plan is quiet, and no command printed a key.

With the local backend a SIGKILL can empty `terraform.tfstate` itself (Terraform rewrites it in place):
the last test shows that the next plan refuses to issue a new CA over it (TFEXT-E072) and that restoring
the backup converges with every serial kept.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from daytwo._postgres import start_postgres
from harness import Terraform, modules_source, require
from test_state_layer import KeyScan

from tfext import certinfo

pytestmark = pytest.mark.terraform

ROOT = """
variable "nodes" {
  type = list(string)
}
variable "members" {
  type = list(string)
}
variable "kube_rotation" {
  type = object({ generation = number, phase = string })
}
variable "node_groups" {
  type    = number
  default = 0
}

module "etcd" {
  source        = "MODULES/etcd/signed"
  self_signed   = true
  members       = { for m in var.members : m => {} }
  key_algorithm = "ECDSA-P256"
}

module "kube" {
  source             = "MODULES/kube/self-signed"
  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
  nodes              = var.nodes
  kubelet_serving    = { for n in var.nodes : n => {} }
  key_algorithm      = "ECDSA-P256"
  ca_rotation        = var.kube_rotation
  node_groups        = var.node_groups
}

output "kube" {
  value     = module.kube
  sensitive = true
}

output "etcd" {
  value     = module.etcd
  sensitive = true
}
"""

FINISHED = {"generation": 0, "phase": "finish"}
# name => (settings the base state was applied with, settings of the apply that is interrupted)
SCENARIOS = {
    "per-node-add": (
        {"nodes": ["n0", "n1"], "members": ["m0"], "kube_rotation": FINISHED},
        {"nodes": ["n0", "n1", "n2", "n3", "n4", "n5"], "members": ["m0", "m1"], "kube_rotation": FINISHED},
    ),
    # the same add with the nodes in 2 stages (node_groups, issue 22): a stop leaves a stage half made
    "grouped-add": (
        {"nodes": ["n0", "n1"], "members": ["m0"], "kube_rotation": FINISHED, "node_groups": 2},
        {
            "nodes": ["n0", "n1", "n2", "n3", "n4", "n5"],
            "members": ["m0", "m1"],
            "kube_rotation": FINISHED,
            "node_groups": 2,
        },
    ),
    "rotation-reissue": (
        {
            "nodes": ["n0", "n1", "n2"],
            "members": ["m0"],
            "kube_rotation": {"generation": 1, "phase": "trust"},
        },
        {
            "nodes": ["n0", "n1", "n2"],
            "members": ["m0"],
            "kube_rotation": {"generation": 1, "phase": "reissue"},
        },
    ),
}
# When each interrupted run is stopped: after this share of the resource operations that the
# uninterrupted reference run completed (at least one), counted from Terraform's own output.
FRACTIONS = (0.0, 0.3, 0.6)
DONE = re.compile(r": (?:Creation|Destruction) complete after")


def var_args(settings: dict) -> list[str]:
    return [f"-var={name}={json.dumps(value)}" for name, value in settings.items()]


@pytest.fixture(scope="module")
def postgres():
    server = start_postgres()
    try:
        server.run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "tfext")
        yield server
    finally:
        server.stop()


class Workspace:
    """One root module directory on its own schema of the PostgreSQL server; every command's output is kept
    for the key scan."""

    def __init__(self, tmp: Path, name: str, server, tf_config: Path) -> None:
        work = tmp / name
        work.mkdir()
        (work / "main.tf").write_text(textwrap.dedent(ROOT).replace("MODULES", f"{modules_source(work)}/tls"))
        (work / "backend.tf").write_text('terraform {\n  backend "pg" {}\n}\n')
        self.tf = Terraform(work, tf_config, env_extra={"PG_CONN_STR": server.conn_str("tfext")})
        self.outputs_seen: list[str] = []
        self.record(self.tf.run("init", "-input=false", "-no-color", f"-backend-config=schema_name={name}"))

    def record(self, result):
        self.outputs_seen.append(result.output)
        return result

    def push(self, state: str) -> None:
        path = self.tf.workdir / "base.tfstate"
        path.write_text(state)
        self.record(self.tf.run("state", "push", str(path)))
        path.unlink()

    def apply(self, settings: dict, check: bool = True):
        return self.record(self.tf.apply("-lock-timeout=30s", *var_args(settings), check=check))

    def interrupted_apply(self, settings: dict, sig: int, after: int) -> tuple[str, int]:
        """Run `terraform apply` and signal Terraform itself once it has completed `after` resource
        operations (never, with a huge `after`); returns its output and how many it had completed."""
        cmd = [
            require("terraform"),
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            *var_args(settings),
        ]
        log = self.tf.workdir / f"apply-{sig}-{after}.log"
        with log.open("w") as sink:
            proc = subprocess.Popen(
                cmd, cwd=self.tf.workdir, env=self.tf.env, stdout=sink, stderr=subprocess.STDOUT
            )
            deadline = time.monotonic() + 240
            while proc.poll() is None and time.monotonic() < deadline:
                if len(DONE.findall(log.read_text())) >= after:
                    proc.send_signal(sig)
                    break
                time.sleep(0.002)
            proc.wait(timeout=240)
        text = log.read_text()
        self.outputs_seen.append(text)
        return text, len(DONE.findall(text))

    def kept_serials(self) -> dict[str, str]:
        """Address => serial of every certificate kept in state together with its key, read from the raw
        state (outputs may not evaluate in a half-applied one)."""
        pulled = self.tf.run("state", "pull").stdout
        out = {}
        for resource in json.loads(pulled)["resources"] if pulled.strip() else []:
            if resource["type"] != "terraform_data" or resource["name"] not in ("kept", "healed"):
                continue
            for inst in resource["instances"]:
                record = inst["attributes"]["triggers_replace"]
                record = record.get("value", record)
                if record.get("info") and record.get("key_pem"):
                    out[f"{resource['module']}.{resource['name']}[{inst['index_key']}]"] = certinfo.facts_of(
                        record["info"]
                    )["serial"]
        return out

    def serials_by_slot(self) -> dict[str, str]:
        """`<module>/<slot>` => serial, from the modules' `certificates` outputs."""
        out = self.tf.outputs()
        return {f"{m}/{n}": c["serial"] for m in ("kube", "etcd") for n, c in out[m]["certificates"].items()}


def _spki(key_or_cert) -> bytes:
    public = key_or_cert.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def unmatched_pairs(outputs: dict) -> tuple[int, list[str]]:
    """(pairs checked, names of the pairs whose key is missing or is not the certificate's) over every
    `*_key_pem` output of both modules and its certificate (`*_cert_pem` or `*_crt_pem`, the signing one
    first in a bundle); per-node maps pair by name."""
    checked, bad = 0, []
    for module in ("kube", "etcd"):
        values = outputs[module]
        for name, key in values.items():
            if not name.endswith("_key_pem"):
                continue
            stem = name[: -len("_key_pem")]
            cert_name = next(
                (f"{stem}{s}" for s in ("_cert_pem", "_crt_pem") if f"{stem}{s}" in values), None
            )
            if cert_name is None:
                continue
            certs, keys = values[cert_name], key
            pairs = certs.items() if isinstance(certs, dict) else [("", certs)]
            for who, cert_pem in pairs:
                key_pem = keys.get(who, "") if isinstance(keys, dict) else keys
                label = f"{module}.{name}{f'[{who}]' if who else ''}"
                checked += 1
                if not cert_pem or not key_pem:
                    bad.append(f"{label}: empty")
                    continue
                cert = x509.load_pem_x509_certificates(cert_pem.encode())[0]
                private = serialization.load_pem_private_key(key_pem.encode(), None)
                if _spki(private) != _spki(cert):
                    bad.append(f"{label}: key does not match")
    return checked, bad


@pytest.fixture(scope="module")
def bases(postgres, tf_config, tmp_path_factory):
    """Per scenario: the base state, the certificates it keeps, the serials that an uninterrupted apply
    keeps, and how many resource operations it completed."""
    tmp = tmp_path_factory.mktemp("interrupted")
    out = {}
    for name, (base, target) in SCENARIOS.items():
        slug = name.replace("-", "_")
        ws = Workspace(tmp, f"{slug}_base", postgres, tf_config)
        if base["kube_rotation"] != FINISHED:
            ws.apply({**base, "kube_rotation": FINISHED})
        ws.apply(base)
        state, base_kept, serials = ws.tf.run("state", "pull").stdout, ws.kept_serials(), ws.serials_by_slot()
        reference = Workspace(tmp, f"{slug}_ref", postgres, tf_config)
        reference.push(state)
        _, operations = reference.interrupted_apply(target, signal.SIGINT, after=10**9)
        assert reference.tf.plan(*var_args(target)).returncode == 0
        kept_by_reference = {s: n for s, n in reference.serials_by_slot().items() if serials.get(s) == n}
        out[name] = (state, base_kept, kept_by_reference, operations, tmp)
    return out


@pytest.mark.parametrize("fraction", FRACTIONS)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_an_interrupted_apply_loses_no_key_and_plain_applies_finish_it(
    bases, postgres, tf_config, scenario, sig, fraction
):
    state, base_kept, kept_by_reference, operations, tmp = bases[scenario]
    _, target = SCENARIOS[scenario]
    ws = Workspace(
        tmp, f"{scenario.replace('-', '_')}_{sig.name.lower()}_{int(fraction * 100)}", postgres, tf_config
    )
    ws.push(state)

    ws.interrupted_apply(target, sig, after=max(1, int(fraction * operations)))
    kept = ws.kept_serials()
    for _attempt in (1, 2):
        if ws.apply(target, check=False).returncode == 0:
            break
    else:
        pytest.fail(f"two plain applies after {sig.name} did not converge:\n{ws.outputs_seen[-1][-3000:]}")

    assert ws.record(ws.tf.plan(*var_args(target))).returncode == 0, ws.outputs_seen[-1][-3000:]
    outputs = ws.tf.outputs()
    checked, bad = unmatched_pairs(outputs)
    # kube: CA, 4 leaves, 2 per node; etcd: 3 leaves, 2 per member
    assert checked == 5 + 2 * len(target["nodes"]) + 3 + 2 * len(target["members"]) and bad == [], bad
    # What the interrupted apply had issued and kept when Terraform stopped is not issued again, and what
    # an uninterrupted apply keeps from before is kept too.
    made = {a: n for a, n in kept.items() if base_kept.get(a) != n}
    after = ws.kept_serials()
    assert {a: after.get(a) for a in made} == made, "a certificate kept with its key before the stop changed"
    now = ws.serials_by_slot()
    assert {s: now.get(s) for s in kept_by_reference} == kept_by_reference
    scan = KeyScan()
    for module in ("kube", "etcd"):
        for value in outputs[module].values():
            for text in value.values() if isinstance(value, dict) else [value]:
                if isinstance(text, str) and "PRIVATE KEY" in text:
                    scan.lines |= {ln for ln in text.splitlines() if ln and not ln.startswith("-----")}
    for step, text in enumerate(ws.outputs_seen):
        scan.assert_clean(f"command {step}", text)


def test_a_local_state_emptied_by_a_kill_stops_the_next_plan_and_the_backup_restores_it(tf_config, tmp_path):
    work = tmp_path / "local"
    work.mkdir()
    (work / "main.tf").write_text(textwrap.dedent(ROOT).replace("MODULES", f"{modules_source(work)}/tls"))
    tf = Terraform(work, tf_config)
    base, _ = SCENARIOS["per-node-add"]
    tf.init()
    tf.apply(*var_args(base))
    tf.apply(*var_args(base))  # a second apply, so that terraform.tfstate.backup holds the whole PKI
    before = tf.outputs()
    state, backup = work / "terraform.tfstate", work / "terraform.tfstate.backup"
    assert json.loads(backup.read_text())["resources"]
    # What a runner killed while Terraform rewrites the file in place leaves (seen in most SIGKILL runs).
    state.write_text("")
    refused = tf.plan(*var_args(base))
    text = " ".join(refused.output.split())
    assert refused.returncode == 1 and "TFEXT-E072 kube/ca" in text and "TFEXT-E072 etcd/ca" in text
    assert "cp " in text and state.read_text() == ""  # nothing was written; the message says what to do
    state.write_text(backup.read_text())
    assert tf.plan(*var_args(base)).returncode == 0
    after = tf.outputs()
    for module in ("kube", "etcd"):
        assert {n: c["serial"] for n, c in after[module]["certificates"].items()} == {
            n: c["serial"] for n, c in before[module]["certificates"].items()
        }
