"""The tools with real Terraform, on the committed examples (issue 23, "tools short of their anchors").

- terraform/examples/per-node applied, written out, then a node, a node's serving certificate and an etcd
  member removed and applied: `write-assets` names the eight files they leave (TFEXT-E096) and exits 0;
  docs/day-two.md's `--prune` command removes exactly those and the two directories left empty, and every
  other member's and node's file is byte for byte what it was.
- Every certificate written: its serial in `inspect --json` and `check-expiration --json` is what
  `openssl x509 -noout -serial` prints, its signature algorithm what `openssl x509 -text` names.
- `tfext check-expiration` with no SOURCE, as docs/day-two.md gives it, in the applied tectonic example:
  the report of `terraform state pull | tfext check-expiration -`, said to come from `terraform state
  pull`; with terraform off PATH, from ./terraform.tfstate.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from harness import TFEXT_BIN, Terraform, copy_example, require

from ._helpers import doc_block, files_written, key_body_lines

pytestmark = pytest.mark.terraform

TLS = "generated/tls"
MEMBERS = (
    '{"etcd-0"={ip_addresses=["10.0.0.10"],dns_names=["etcd-0.example.com"]},'
    '"etcd-1"={ip_addresses=["10.0.0.11"],dns_names=["etcd-1.example.com"]}}'
)
REMOVED = (
    "-var",
    'nodes=["master-0","worker-0","worker-1","worker-2"]',  # worker-3 removed
    "-var",
    'kubelet_serving={"worker-0"={ip_addresses=["10.0.1.10"]},"worker-1"={ip_addresses=["10.0.1.11"]}}',
    "-var",
    f"etcd_members={MEMBERS}",  # etcd-2 removed, the others as they were
)
STALE = [
    "etcd/members/etcd-2/peer.crt",
    "etcd/members/etcd-2/peer.key",
    "etcd/members/etcd-2/server.crt",
    "etcd/members/etcd-2/server.key",
    "kube/nodes/worker-2/kubelet-serving.crt",
    "kube/nodes/worker-2/kubelet-serving.key",
    "kube/nodes/worker-3/kubelet-client.crt",
    "kube/nodes/worker-3/kubelet-client.key",
]


def sh(tf: Terraform, script: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`script` in bash (pipefail) in the root module's directory, as a user types it."""
    return subprocess.run(
        [require("bash"), "-o", "pipefail", "-c", script],
        cwd=tf.workdir,
        env=env or tf.env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def key_lines(tf: Terraform) -> list[str]:
    from tfext.tools import state

    records = state.records(json.loads(tf.run("state", "pull").stdout))
    return [line for r in records if r.key_pem for line in key_body_lines(r.key_pem)]


@pytest.fixture(scope="module")
def per_node(tf_config, tmp_path_factory) -> Terraform:
    tf = Terraform(copy_example("per-node", tmp_path_factory.mktemp("per-node")), tf_config)
    tf.init()
    tf.apply()
    return tf


def test_write_assets_names_then_prunes_what_removed_members_and_nodes_leave(per_node):
    tf = per_node
    keys = key_lines(tf)
    written = sh(tf, f"terraform output -json | tfext write-assets {TLS}")
    assert written.returncode == 0 and written.stderr == "", written.stderr
    before = files_written(tf.workdir / TLS)
    assert set(STALE) <= set(before)

    tf.apply(*REMOVED)
    report = sh(tf, f"terraform output -json | tfext write-assets {TLS}")
    assert report.returncode == 0, report.stderr
    assert files_written(tf.workdir / TLS).keys() == before.keys()
    assert report.stderr.splitlines()[:9] == [
        f"tfext write-assets: TFEXT-E096 {TLS}: 8 files of members or nodes the input no longer holds, left "
        "as they were:",
        *(f"  {TLS}/{f}" for f in STALE),
    ]
    assert "--prune" in report.stderr.splitlines()[9]

    pruned = sh(tf, doc_block("write-assets-prune"))
    assert pruned.returncode == 0, pruned.stderr
    after = files_written(tf.workdir / TLS)
    assert sorted(set(before) - set(after)) == STALE
    assert {f: before[f] for f in after} == after, "nothing else changed: every other file is as it was"
    assert not (tf.workdir / TLS / "kube/nodes/worker-3").exists()
    assert not (tf.workdir / TLS / "etcd/members/etcd-2").exists()
    assert (tf.workdir / TLS / "kube/nodes/worker-2/kubelet-client.key").exists()
    assert f"  {TLS}/kube/nodes/worker-3/" in pruned.stderr.splitlines()
    for run in (written, report, pruned):
        assert not any(line in run.stdout + run.stderr for line in keys)

    again = sh(tf, f"terraform state pull | tfext write-assets --prune {TLS}")
    assert again.returncode == 0 and again.stderr == "" and files_written(tf.workdir / TLS) == after


def test_serials_and_signature_algorithms_are_openssls(per_node):
    tf = per_node
    assert sh(tf, f"terraform state pull | tfext write-assets {TLS}").returncode == 0
    tls = tf.workdir / TLS
    inspected = json.loads(sh(tf, f"tfext inspect --json {TLS}").stdout)
    by_file = {f: c for c in inspected["certificates"] for f in c["files"]}
    expiring = json.loads(sh(tf, f"tfext check-expiration --json {TLS}").stdout)
    by_name = {c["name"]: c for c in expiring["certificates"]}
    openssl = require("openssl")
    crts = sorted(tls.rglob("*.crt"))
    assert len(crts) >= 15  # every certificate of the example, each member's and node's too
    for crt in crts:
        name = crt.relative_to(tls).as_posix()
        printed = subprocess.run(
            [openssl, "x509", "-noout", "-serial", "-in", str(crt)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        text = subprocess.run(
            [openssl, "x509", "-noout", "-text", "-in", str(crt)], capture_output=True, text=True, check=True
        ).stdout
        assert printed == f"serial={by_file[TLS + '/' + name]['serial']}\n", name
        if name in by_name:  # a CA in three files is one row, under one of them
            assert printed == f"serial={by_name[name]['serial']}\n", name
        assert f"Signature Algorithm: {by_file[TLS + '/' + name]['signature_algorithm']}\n" in text, name
        assert (
            by_file[TLS + "/" + name]["public_key_algorithm"] == "ECDSA P-256"
        )  # the example's key_algorithm


def test_check_expiration_reads_the_root_modules_state_by_itself(expiring, tmp_path):
    tf = expiring.tf
    piped = sh(tf, "terraform state pull | tfext check-expiration -")
    here = sh(tf, doc_block("check-expiration-here"))
    assert here.returncode == piped.returncode == 1  # the example's certificates expire within the window
    assert here.stdout == piped.stdout and "kube/apiserver" in here.stdout
    assert here.stderr.splitlines()[0] == (
        f"tfext check-expiration: no SOURCE given: reading `terraform state pull` in {tf.workdir}"
    )
    as_json = sh(tf, "tfext check-expiration --json")
    by_itself = json.loads(as_json.stdout)["certificates"]
    piped_json = sh(tf, "terraform state pull | tfext check-expiration --json -")
    from_pipe = json.loads(piped_json.stdout)["certificates"]
    # The piped run comes moments later: each certificate's time left is shorter by those moments, no more.
    for a, b in zip(by_itself, from_pipe, strict=True):
        assert 0 <= a.pop("residual_seconds") - b.pop("residual_seconds") <= 60, (a, b)
        del a["residual"], b["residual"]  # its words follow the seconds
    assert by_itself == from_pipe

    # terraform not on PATH: the local backend's file, said so
    no_terraform = dict(tf.env, PATH=str(tmp_path))
    local = sh(tf, f"{TFEXT_BIN / 'tfext'} check-expiration", env=no_terraform)
    assert local.stdout == piped.stdout
    assert local.stderr.splitlines()[0] == (
        f"tfext check-expiration: no SOURCE given: reading {tf.workdir / 'terraform.tfstate'} "
        "(terraform is not on PATH)"
    )
    keys = key_lines(tf)
    for run in (here, as_json, local):
        assert not any(line in run.stdout + run.stderr for line in keys)
