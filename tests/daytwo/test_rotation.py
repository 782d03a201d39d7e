"""Rotation with real Terraform, by the commands of docs/day-two.md as written: one certificate, one CA
with everything it signed (across modules), everything; nothing else changes, every rotated leaf
chains to its (new) CA, and the next plan is quiet. Also: a plain apply finishes an interrupted one.

One applied working directory is shared by the tests of this file (each compares before and after)."""

from __future__ import annotations

import json
import subprocess

import pytest
from harness import KUBE_CA_TREE, TECTONIC_CERTS, Terraform, assert_chains, copy_example

from tfext import certinfo
from tfext.tools import state as states

from ._helpers import certificates_by_name, doc_block

pytestmark = pytest.mark.terraform

ALL = TECTONIC_CERTS


def run_doc_block(tf: Terraform, tag: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run a documented block with bash in the working directory; applies are approved by
    TF_CLI_ARGS_apply, as a person would type `yes`."""
    env = dict(tf.env, TF_CLI_ARGS_apply="-auto-approve -input=false -no-color")
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", doc_block(tag)],
        cwd=tf.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check:
        assert proc.returncode == 0, (
            f"<!-- {tag} --> exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-4000:]}"
        )
    return proc


def identities(tf: Terraform) -> dict[str, tuple[str, str]]:
    """Certificate => (serial, fingerprint), from the non-secret `certificates` output."""
    return {
        name: (info["serial"], info["sha256_fingerprint"])
        for name, info in certificates_by_name(tf.outputs()).items()
    }


def changed(before: dict, after: dict) -> set[str]:
    assert set(before) == set(after) == ALL
    return {name for name in before if before[name] != after[name]}


@pytest.fixture(scope="module")
def tectonic(tf_config, tmp_path_factory) -> Terraform:
    tf = Terraform(copy_example("tectonic", tmp_path_factory.mktemp("rotation")), tf_config)
    tf.init()
    tf.apply()
    return tf


def rotate(tf: Terraform, tag: str) -> set[str]:
    before = identities(tf)
    run_doc_block(tf, tag)
    after = identities(tf)
    assert_chains(tf)
    plan = tf.plan()
    assert plan.returncode == 0, f"the plan after <!-- {tag} --> is not quiet:\n{plan.output[-3000:]}"
    return changed(before, after)


def test_replacing_one_marker_reissues_that_certificate_only(tectonic):
    assert rotate(tectonic, "rotate-one") == {"etcd_certs.server"}


def test_replacing_the_kube_ca_marker_reissues_everything_it_signed_in_every_module(tectonic):
    assert rotate(tectonic, "rotate-ca") == KUBE_CA_TREE


def test_replacing_every_marker_reissues_everything(tectonic):
    assert rotate(tectonic, "rotate-all") == ALL


def test_an_apply_interrupted_before_the_capture_is_finished_by_a_plain_apply(tectonic):
    # What a stopped apply leaves: the marker was created, the record keeping its certificate never was.
    record = 'module.kube_certs.module.certs.terraform_data.kept["apiserver"]'
    tectonic.run("state", "rm", record)
    pending = tectonic.plan()
    assert pending.returncode == 2, pending.output[-3000:]  # not stuck: the next apply heals it
    before = identities_without(tectonic, "kube_certs.apiserver")
    run_doc_block(tectonic, "recover")
    after = identities(tectonic)
    assert {n for n in before if before[n] != after[n]} == set()  # nothing else was touched
    assert after["kube_certs.apiserver"] not in before.values()
    assert_chains(tectonic)
    assert tectonic.plan().returncode == 0


def identities_without(tf: Terraform, missing: str) -> dict[str, tuple[str, str]]:
    """Identities from state while one record is missing (outputs cannot be evaluated): via the records'
    `info` (read by tfext's one state reader), which is what the `certificates` output is made of."""
    out = {}
    for record in states.records(json.loads(tf.run("state", "pull").stdout)):
        if record.cert_pem:
            info = certinfo.facts_of(record.info)
            out[f"{record.owner}.{record.slot}"] = (info["serial"], info["sha256_fingerprint"])
    assert set(out) == ALL - {missing}
    return out
