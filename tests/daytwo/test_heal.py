"""`terraform state pull | tfext heal` on states the issuing stages really write (terraform/examples/per-node,
one stage per member and node), broken the ways issue 19 found them broken: a record whose key belongs to
another certificate, a record without its key, one without its certificate. heal names each slot and
what is wrong with it on stderr (never a key), prints the one `-replace` command, and that command
converges: exactly those certificates are issued again, the next plan is quiet. write-assets and inspect
refuse or report the same records. Legacy records (tfext 0.2-0.3 seals, 0.1 captures) are read too."""

from __future__ import annotations

import json
import subprocess
from types import SimpleNamespace

import pytest
from harness import Terraform, copy_example

from tfext import certinfo
from tfext.tools import state as states
from tfext.tools.nodegroups import group_of

from ._helpers import (
    Secret,
    capture_resource,
    files_written,
    kept_stage,
    key_body_lines,
    make_cert,
    marker_resource,
    seal_resource,
    state,
    tfext,
)

pytestmark = pytest.mark.terraform

NOTHING = "# every certificate is sealed; nothing to heal (a plain `terraform apply` finishes the rest)\n"


class Applied:
    """The per-node example applied once; each test starts again from the state of that apply."""

    def __init__(self, tf: Terraform):
        self.tf = tf
        self.pristine = tf.run("state", "pull").stdout  # holds keys: never in a report

    def __repr__(self) -> str:
        return "<per-node example, state not shown>"

    def pull(self) -> dict:
        return json.loads(self.tf.run("state", "pull").stdout)

    def push(self, document: dict) -> None:
        proc = subprocess.run(
            ["terraform", "state", "push", "-force", "-"],
            input=json.dumps(document),
            cwd=self.tf.workdir,
            env=self.tf.env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]

    def serials(self) -> dict[str, str]:
        """marker address => serial of the certificate its record holds."""
        return {
            r.marker: certinfo.facts_of(r.info).get("serial", "")
            for r in states.records(self.pull())
            if r.cert_pem
        }


@pytest.fixture(scope="module")
def applied(tf_config, tmp_path_factory) -> Applied:
    tf = Terraform(copy_example("per-node", tmp_path_factory.mktemp("heal")), tf_config)
    tf.init()
    tf.apply()
    return Applied(tf)


@pytest.fixture
def fresh(applied) -> Applied:
    applied.push(json.loads(applied.pristine))
    return applied


def kept(document: dict, module: str, slot: str) -> dict:
    """The `triggers_replace` map of `module`'s kept[slot] in a pulled state (to break it)."""
    for resource in document["resources"]:
        if resource["name"] == "kept" and resource.get("module") == module:
            for instance in resource["instances"]:
                if instance["index_key"] == slot:
                    return instance["attributes"]["triggers_replace"]["value"]
    raise AssertionError(f"no kept[{slot}] in {module}")


def keys_of(document: dict) -> list[str]:
    return [r.key_pem for r in states.records(document) if r.key_pem]


def assert_no_key(text: str, document: dict) -> None:
    assert "PRIVATE KEY" not in text
    for key in keys_of(document):
        assert not any(line in text for line in key_body_lines(key))


CERTS = "module.kube_certs.module.certs"
# The example's nodes share 64 stages (node_groups unset in a new workspace): worker-0's is its group's.
NODE0 = f'module.kube_certs.module.node["{group_of("worker-0", 64)}"]'
MEMBER1 = 'module.etcd_certs.module.member["etcd-1"]'


def heal(document: dict) -> subprocess.CompletedProcess:
    proc = tfext("heal", stdin=json.dumps(document))
    assert proc.returncode == 0, proc.stderr
    assert_no_key(proc.stdout + proc.stderr, document)
    return proc


def run_command(tf: Terraform, command: str) -> None:
    proc = subprocess.run(
        ["bash", "-c", command + " -auto-approve -input=false -no-color"],
        cwd=tf.workdir,
        env=tf.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]


def test_an_applied_state_has_nothing_to_heal(fresh):
    proc = heal(fresh.pull())
    assert proc.stdout == NOTHING and proc.stderr == ""


def test_a_key_of_another_certificate_and_a_lost_key_are_named_and_the_command_reissues_only_them(
    fresh, tmp_path
):
    document = fresh.pull()
    document["outputs"] = {}  # outputs hold the keys of the last apply; the records are what is kept
    kept(document, CERTS, "apiserver")["key_pem"] = kept(document, NODE0, "kubelet:worker-0")["key_pem"]
    kept(document, MEMBER1, "peer:etcd-1")["key_pem"] = ""
    fresh.push(document)
    broken = fresh.pull()
    before = fresh.serials()

    proc = heal(broken)
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith(
        'tfext heal: TFEXT-E068 etcd/peer:etcd-1 (module.etcd_certs.module.member["etcd-1"].terraform_data'
        '.kept["peer:etcd-1"]): a certificate without its private key'
    ), lines[0]
    assert lines[1].startswith(
        "tfext heal: TFEXT-E030 kube/apiserver (module.kube_certs.module.certs.terraform_data"
        '.kept["apiserver"]): the private key does not belong to the certificate'
    ), lines[1]
    replace = [
        f'{MEMBER1}.terraform_data.issued["peer:etcd-1"]',
        f'{CERTS}.terraform_data.issued["apiserver"]',
    ]
    assert proc.stdout == "terraform apply " + " ".join(f"-replace='{m}'" for m in replace) + "\n"

    # write-assets refuses the pairs before writing anything, inspect reports them with the remedy
    target = tmp_path / "tls"
    written = tfext("write-assets", str(target), stdin=json.dumps(broken))
    assert written.returncode == 2 and not target.exists(), written.stderr
    assert "TFEXT-E030 kube/apiserver: apiserver.key: the private key does not belong" in written.stderr
    assert "TFEXT-E068 etcd/peer:etcd-1: etcd/members/etcd-1/peer.crt would be written without" in (
        written.stderr
    )
    inspected = tfext("inspect", "-", stdin=json.dumps(broken))
    assert inspected.returncode == 1
    assert "TFEXT-E030 kube/apiserver key: the private key does not belong" in inspected.stderr
    assert "TFEXT-E068 etcd/peer:etcd-1: a certificate without its private key" in inspected.stderr
    assert inspected.stderr.count("tfext heal") == 2
    for text in (written.stdout + written.stderr, inspected.stdout + inspected.stderr):
        assert_no_key(text, broken)

    run_command(fresh.tf, proc.stdout.strip())
    after = fresh.serials()
    assert {m for m in before if before[m] != after[m]} == set(replace)
    assert fresh.tf.plan().returncode == 0
    healed = fresh.pull()
    assert heal(healed).stdout == NOTHING
    ok = tfext("write-assets", str(target), stdin=json.dumps(healed))
    assert ok.returncode == 0, ok.stderr
    assert tfext("inspect", str(target)).returncode == 0


def test_a_record_without_its_certificate_is_issued_again(fresh):
    """What an apply stopped while healing leaves: a kept without its certificate, and no healed."""
    document = fresh.pull()
    held = kept(document, NODE0, "serving:worker-0")
    held["cert_pem"] = held["key_pem"] = ""
    fresh.push(document)
    before = fresh.serials()
    proc = heal(fresh.pull())
    assert "TFEXT-E050 kube/serving:worker-0" in proc.stderr and "no certificate" in proc.stderr
    marker = f'{NODE0}.terraform_data.issued["serving:worker-0"]'
    assert proc.stdout == f"terraform apply -replace='{marker}'\n"
    run_command(fresh.tf, proc.stdout.strip())
    after = fresh.serials()
    assert set(after) == set(before) | {marker}
    assert {m for m in before if before[m] != after[m]} == set()
    assert fresh.tf.plan().returncode == 0
    assert heal(fresh.pull()).stdout == NOTHING


# --- synthetic states: every layout, without Terraform --------------------------------------------------


@pytest.fixture(scope="module")
def pki() -> dict:
    ca = make_cert("kube-ca", ca=True)
    return Secret(
        ca=ca,
        apiserver=make_cert("kube-apiserver", ca, sans=("kubernetes",)),
        kubelet=make_cert("kubelet", ca, server=False),
        ingress=make_cert("ingress", ca),
    )


def test_a_seal_with_an_empty_key_is_named_by_its_marker(pki):
    """The loss of issue 19: a capture sealed with an empty key by the next plain apply (tfext 0.2-0.3)."""
    document = state(
        marker_resource("module.kube_certs.module.certs", ["apiserver", "kubelet"], legacy=True),
        seal_resource(
            "module.kube_certs.module.certs",
            "kube",
            {"apiserver": pki["apiserver"], "kubelet": pki["kubelet"]},
        ),
    )
    for instance in document["resources"][1]["instances"]:
        if instance["index_key"] == "apiserver":
            instance["attributes"]["triggers_replace"]["value"]["key"] = ""
    proc = heal(document)
    assert proc.stderr == (
        "tfext heal: TFEXT-E068 kube/apiserver (module.kube_certs.module.certs.terraform_data.sealed"
        '["apiserver"]): a certificate without its private key; the command re-issues it\n'
    )
    assert proc.stdout == (
        "terraform apply -replace='module.kube_certs.module.certs.terraform_data.issued[\"apiserver\"]'\n"
    )


def test_a_capture_never_sealed_has_no_key_and_a_capture_of_tfext_0_1_has_one(pki):
    module = "module.ingress_certs.module.certs"
    zero_one = state(
        marker_resource(module, ["ingress"], legacy=True),
        capture_resource(module, {"ingress": pki["ingress"]}),
    )
    assert heal(zero_one).stdout == NOTHING
    never_sealed = json.loads(json.dumps(zero_one))
    for instance in never_sealed["resources"][1]["instances"]:
        instance["attributes"]["input"]["value"].pop("key_pem")
    proc = heal(never_sealed)
    assert proc.stderr == (  # a capture names no role: its module is told by its slots
        f'tfext heal: TFEXT-E068 ingress/ingress ({module}.terraform_data.captured["ingress"]): '
        "a certificate without its private key; the command re-issues it\n"
    )
    assert f"-replace='{module}.terraform_data.issued[\"ingress\"]'" in proc.stdout


@pytest.mark.parametrize(
    ("key", "code", "says"),
    [
        ("garbage", "TFEXT-E023", "the private key is not usable: not a readable private key"),
        ("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", "TFEXT-E023", "not usable"),
        ("kubelet", "TFEXT-E030", "the private key does not belong to the certificate"),
    ],
)
def test_a_kept_or_healed_key_that_is_no_key_or_not_its_own_is_named(pki, key, code, says):
    """In a stage whose apiserver was healed: the healed record is the one judged (its kept is empty)."""
    module = "module.kube_certs.module.certs"
    bad = SimpleNamespace(cert_pem=pki["apiserver"].cert_pem, key_pem=key)
    if key == "kubelet":
        bad.key_pem = pki["kubelet"].key_pem
    document = state(
        *kept_stage(module, "kube", {"apiserver": bad, "kubelet": pki["kubelet"]}, ("apiserver",))
    )
    proc = heal(document)
    assert proc.stderr.startswith(
        f'tfext heal: {code} kube/apiserver ({module}.terraform_data.healed["apiserver"]): '
    ), proc.stderr
    assert says in proc.stderr and proc.stderr.count("\n") == 1
    assert proc.stdout == f"terraform apply -replace='{module}.terraform_data.issued[\"apiserver\"]'\n"


def test_a_marker_without_any_record_is_named(pki):
    module = 'module.kube_certs.module.node["w1"]'
    document = state(marker_resource(module, ["kubelet:w1"]))
    proc = heal(document)
    assert f'TFEXT-E050 kubelet:w1 ({module}.terraform_data.issued["kubelet:w1"], with no record)' in (
        proc.stderr
    )


def test_the_records_of_every_layout_give_the_same_certificates(pki, tmp_path):
    """A legacy stage and a tfext 0.4 stage (one slot healed) of one root module: every tool reads both,
    and write-assets writes what the outputs would give."""
    leaves = {"apiserver": pki["apiserver"], "kubelet": pki["kubelet"]}
    document = state(
        marker_resource('module.kube_certs.module.ca["0"]', ["ca"], legacy=True),
        seal_resource('module.kube_certs.module.ca["0"]', "kube", {"ca": pki["ca"]}),
        *kept_stage("module.kube_certs.module.certs", "kube", leaves, healed=("kubelet",)),
    )
    assert [(r.slot, r.layout) for r in states.records(document)] == [
        ("ca", "sealed"),
        ("apiserver", "kept"),
        ("kubelet", "healed"),
    ]
    assert heal(document).stdout == NOTHING
    proc = tfext("write-assets", str(tmp_path / "tls"), stdin=json.dumps(document))
    assert proc.returncode == 0, proc.stderr
    files = files_written(tmp_path / "tls")
    assert set(files) == {"ca.crt", "ca.key", "apiserver.crt", "apiserver.key", "kubelet.crt", "kubelet.key"}
    assert (tmp_path / "tls" / "kubelet.key").read_text() == pki["kubelet"].key_pem
    assert (tmp_path / "tls" / "ca.key").read_text() == pki["ca"].key_pem


def test_heal_refuses_what_is_not_a_state():
    proc = tfext("heal", stdin='{"kube_certs_ca_cert_pem": {"value": "x"}}')
    assert proc.returncode == 2 and "TFEXT-E064 stdin: not a version 4 Terraform state" in proc.stderr


def test_migrate_state_still_drops_the_copies_of_tfext_0_1(pki):
    module = "module.kube_certs.module.certs"
    document = state(
        marker_resource(module, ["apiserver"], legacy=True),
        capture_resource(module, {"apiserver": pki["apiserver"]}),
        seal_resource(module, "kube", {"apiserver": pki["apiserver"]}),
    )
    proc = tfext("migrate-state", stdin=json.dumps(document))
    assert proc.returncode == 0, proc.stderr
    migrated = json.loads(proc.stdout)
    captured = migrated["resources"][1]["instances"][0]["attributes"]
    assert "key_pem" not in captured["input"]["value"] and "key_pem" not in captured["output"]["value"]
    assert migrated["serial"] == document["serial"] + 1 and "dropped 1 legacy key copies" in proc.stderr
    assert heal(migrated).stdout == NOTHING  # the seal holds the key
