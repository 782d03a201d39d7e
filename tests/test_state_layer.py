"""The state layer with real Terraform: no key text in anything Terraform prints, upgrades from tfext 0.1
keep every certificate, failures heal with a plain `terraform apply`, misconfigurations fail the plan,
and the modules work fetched as a git `//` source.

Leak scans read the real output of each real command and look for every PEM private-key header and
every base64 body line of every key the workspace ever held (taken from `terraform output -json`, so a
key of an earlier step is still searched for after it was rotated)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from harness import (
    KUBE_CA_TREE,
    REPO,
    TECTONIC_CERTS,
    TFEXT_BIN,
    Terraform,
    assert_chains,
    cert,
    copy_example,
    modules_source,
    require,
)

from tfext import certinfo
from tfext.tools.assets import write_assets

pytestmark = pytest.mark.terraform

RELEASE_0_1 = "42cd1e0b0f24008fb61bdeefcf97781743759cbf"  # the last commit of tfext 0.1's state layer
# Certificates that kube/self-signed issues since issue 14 and no release before it did: an upgrade issues
# them (marker, capture and seal each) and re-issues nothing else.
NEW_SINCE_RELEASES = {"kube_certs.apiserver_kubelet_client", "kube_certs.admin"}
PROGRAMS = ("etcd-signed", "kube-self-signed", "identity-self-signed", "ingress-self-signed")
TFEXT = str(TFEXT_BIN / "tfext")
KEY_HEADER = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


class KeyScan:
    """Every key line the workspace has handed out so far, and a scan of text for any of them."""

    def __init__(self) -> None:
        self.lines: set[str] = set()

    def learn(self, tf: Terraform) -> None:
        for value in tf.outputs().values():
            if isinstance(value, str) and "PRIVATE KEY" in value:
                self.lines |= {ln for ln in value.splitlines() if ln and not ln.startswith("-----")}

    def leaks(self, text: str) -> int:
        """How many key headers and key lines `text` holds (a count: a test never prints key lines)."""
        return len(KEY_HEADER.findall(text)) + sum(ln in text for ln in self.lines)

    def assert_clean(self, step: str, text: str) -> None:
        assert self.lines, "no key was learned: the scan would find nothing"
        leaks = self.leaks(text)
        assert leaks == 0, f"{step}: {leaks} private-key lines in Terraform's output"


def serials(tf: Terraform) -> dict[str, str]:
    return {
        f"{m}.{n}": c["serial"] for m, certs in tf.outputs()["certificates"].items() for n, c in certs.items()
    }


# --- (1) no key text in any Terraform output ----------------------------------------------------------


def stage_records(tf: Terraform) -> tuple[list, list[tuple[set[str], list]]]:
    """Every issuing stage's marker inputs, and its `kept` records as (elements, sensitive attributes).
    A record written now is asserted lean on the way: its facts a list in their order (no names), no role."""
    markers, kept = [], []
    for resource in json.loads(tf.run("state", "pull").stdout)["resources"]:
        if resource["mode"] != "managed" or resource["type"] != "terraform_data":
            continue
        for instance in resource["instances"]:
            attributes = instance["attributes"]
            if resource["name"] == "issued":
                markers.append(attributes["input"]["value"])
            elif resource["name"] == "kept":
                elements = attributes["triggers_replace"]["value"]
                assert "role" not in elements, resource
                facts = json.loads(elements["info"])
                assert isinstance(facts, list) and len(facts) >= len(certinfo.FACT_ORDER) - 2, resource
                kept.append((set(elements), instance.get("sensitive_attributes", [])))
    return markers, kept


def test_no_key_text_in_any_output_through_a_whole_lifecycle(tf_config, tmp_path):
    tf = Terraform(copy_example("tectonic", tmp_path / "life"), tf_config)
    scan = KeyScan()
    tf.init()
    first = tf.apply()
    scan.learn(tf)
    scan.assert_clean("first apply", first.output)
    # Each record holds what its mode has and no more (state per certificate, docs/performance.md): a
    # marker's time as a number, no key-file elements, the key (sensitive) where it is kept.
    markers, kept = stage_records(tf)
    assert markers and all(isinstance(m, int) for m in markers)
    key_file_elements = {"key_file", "key_path", "key_sha256"}
    assert kept and all("key_pem" in e and e.isdisjoint(key_file_elements) for e, _ in kept)
    quiet = tf.plan()
    assert quiet.returncode == 0
    scan.assert_clean("quiet plan", quiet.output)

    before = serials(tf)
    names = ("-var", 'etcd_dns_names=["etcd-a.example.com","etcd-b.example.com"]')
    changed = tf.apply(*names)
    scan.assert_clean("apply of an input change", changed.output)
    after = serials(tf)
    assert {n for n in before if before[n] != after[n]} == {"etcd_certs.server", "etcd_certs.peer"}
    scan.learn(tf)

    one = 'module.kube_certs.module.certs.terraform_data.issued["apiserver"]'
    scan.assert_clean("plan -replace of one certificate", tf.plan(*names, f"-replace={one}").output)
    before = serials(tf)
    scan.assert_clean("apply -replace of one certificate", tf.apply(*names, f"-replace={one}").output)
    assert {n for n, s in serials(tf).items() if before[n] != s} == {"kube_certs.apiserver"}
    scan.learn(tf)

    ca = 'module.kube_certs.module.ca["0"].terraform_data.issued["ca"]'
    before = serials(tf)
    rotation = tf.apply(*names, f"-replace={ca}")
    scan.assert_clean("kube CA rotation", rotation.output)
    rotated = {n for n, s in serials(tf).items() if before[n] != s}
    assert rotated == KUBE_CA_TREE
    assert_chains(tf)
    scan.learn(tf)

    # The data source's result window (README: Secrets): closed by a refresh-only apply.
    scan.assert_clean(
        "apply -refresh-only", tf.run("apply", "-refresh-only", "-auto-approve", "-no-color").output
    )
    scan.assert_clean("terraform show", tf.run("show", "-no-color").output)
    plan_out = tf.plan(*names, f"-replace={one}", "-out=replace.tfplan")
    scan.assert_clean("plan -out", plan_out.output)
    scan.assert_clean("terraform show PLANFILE", tf.run("show", "-no-color", "replace.tfplan").output)
    scan.assert_clean("terraform output", tf.run("output", "-no-color").output)
    scan.assert_clean("plan -destroy", tf.run("plan", "-destroy", "-no-color", *names).output)
    scan.assert_clean("destroy", tf.run("destroy", "-auto-approve", "-no-color", *names).output)


def test_user_provided_flavors_keep_key_files_out_of_state_and_output(tf_config, tmp_path):
    generated = Terraform(copy_example("tectonic", tmp_path / "gen"), tf_config)
    generated.init()
    generated.apply()
    scan = KeyScan()
    scan.learn(generated)
    tls = tmp_path / "tls"
    write_assets(generated.outputs(), tls)
    tf = Terraform(copy_example("tectonic-user-provided", tmp_path / "provided"), tf_config)
    args = ("-var", f"tls_dir={tls}")
    tf.init()
    scan.assert_clean("user-provided apply", tf.apply(*args).output)
    # Every plan reads the files again; neither the plan, the state, nor a destroy shows a key.
    scan.assert_clean("user-provided plan", tf.plan(*args).output)
    scan.assert_clean("user-provided show", tf.run("show", "-no-color").output)
    # Root outputs live in state (sensitive ones marked, as always); nothing else may hold a key.
    resources = json.dumps(json.loads(tf.run("state", "pull").stdout)["resources"])
    assert scan.leaks(resources) == 0, "a user-provided key sits in a resource or data source in state"
    out = tf.outputs()
    assert out["kube_certs_apiserver_key_pem"] == (tls / "apiserver.key").read_text()
    scan.assert_clean("user-provided destroy", tf.run("destroy", "-auto-approve", "-no-color", *args).output)


# --- (2) upgrading from tfext 0.1 keeps every certificate ------------------------------------------------


def release_0_1_modules(dest: Path, commit: str = RELEASE_0_1) -> Path:
    """terraform/ of a release (tfext 0.1 by default) from this repository's history, under `dest`."""
    git = require("git")
    dest.mkdir(parents=True)
    archive = subprocess.run(
        [git, "-C", str(REPO), "archive", commit, "terraform"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        pytest.fail(f"release {commit[:7]} is not in this clone's history: clone without --depth")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest / "terraform"


def test_a_state_from_tfext_0_1_upgrades_in_place_keeping_every_certificate(tf_config, tmp_path):
    old = release_0_1_modules(tmp_path / "v0.1")
    work = tmp_path / "work"
    shutil.copytree(old / "examples" / "tectonic", work)
    for tf_file in work.glob("*.tf"):  # the 0.1 example, calling the 0.1 modules
        tf_file.write_text(
            tf_file.read_text().replace('"../../modules/', f'"{modules_source(work, old / "modules")}/')
        )
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply()
    legacy_state = tf.run("state", "pull").stdout
    assert '"captured"' in legacy_state and "PRIVATE KEY" in legacy_state
    before, before_out = serials(tf), tf.outputs()
    scan = KeyScan()
    scan.learn(tf)

    for tf_file in work.glob("*.tf"):  # the same root module, now calling these modules
        tf_file.unlink()
    copy_example("tectonic", work)
    tf.init()
    upgrade = tf.apply()
    # 10 seals, the CA rotation's bookkeeping of kube and etcd (2 records and 3 marks each), the 2 new
    # certificates of issue 14 (a marker and the record that keeps it each), and kube's node_layout
    # (issue 22): 10 + 10 + 4 + 1
    assert "Plan: 25 to add, 0 to change, 0 to destroy." in upgrade.output, upgrade.output[-3000:]
    scan.assert_clean("upgrade apply", upgrade.output)
    upgraded = serials(tf)
    assert {n: upgraded[n] for n in before} == before  # no existing certificate is re-issued
    assert set(upgraded) - set(before) == NEW_SINCE_RELEASES
    assert same_outputs(tf.outputs(), before_out)  # the same keys too, now read from the seals
    quiet = tf.plan()
    assert quiet.returncode == 0 and "TFEXT-E052" in quiet.output  # the warning that points to the fix
    # The upgrade issued the 2 new certificates, so the issuing data source's result holds their keys
    # (README: Secrets); a refresh-only apply closes that window, as after any apply that issues.
    scan.learn(tf)
    tf.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")

    pulled = tf.run("state", "pull").stdout
    migrated = subprocess.run(
        [TFEXT, "migrate-state"], input=pulled, capture_output=True, text=True, env=tf.env, check=True
    )
    assert "dropped 10 legacy key copies" in migrated.stderr
    assert scan.leaks(migrated.stderr) == 0
    push = subprocess.run(
        [require("terraform"), "state", "push", "-"],
        input=migrated.stdout,
        cwd=work,
        env=tf.env,
        capture_output=True,
        text=True,
    )
    assert push.returncode == 0, push.stderr
    scan.assert_clean("show after migrate-state", tf.run("show", "-no-color").output)
    quiet = tf.plan()
    assert quiet.returncode == 0 and "TFEXT-E052" not in quiet.output
    assert serials(tf) == upgraded and same_outputs(tf.outputs(), before_out)


def same_outputs(now: dict, before: dict) -> bool:
    """Every output the old release had is unchanged; `certificates` keeps each old fact (it gains
    chains_to); outputs added since are ignored."""
    for name, value in before.items():
        if name == "certificates":
            for module, certs in value.items():
                for slot, facts in certs.items():
                    if {k: now[name][module][slot].get(k) for k in facts} != facts:
                        return False
        elif now.get(name) != value:
            return False
    return True


# The last commit before CA rotation (issue 13), whose CA stages were not per generation; and the last
# release, with CA rotation and before one identity per node (issue 14).
RELEASE_0_2 = "bd2f5bb2def85d108d978091132c985f36aaebdb"
RELEASE_0_3 = "3aca4b4b14b1c55675b0e88070dd9b61cfa2088a"
# The last commit whose stages kept a certificate's key in a record apart from its capture (issue 19).
RELEASE_0_4 = "5cd1bf37650069b993aa89176513f65660b6c4fd"


@pytest.mark.parametrize(
    ("release", "added", "moves", "new"),
    [
        # (each: + kube's node_layout, the node_groups its nodes were issued with, issue 22)
        # the CA stages move to their generation-0 instance; new are the rotation's bookkeeping (2 records
        # and 3 marks per module) and the 2 new certificates of issue 14 (2 records each): 10 + 4 + 1
        pytest.param(RELEASE_0_2, 15, 6, NEW_SINCE_RELEASES, id="before-rotation"),
        # the rotation's marks and the 2 new certificates of issue 14: 6 + 4 + 1
        pytest.param(RELEASE_0_3, 11, 0, NEW_SINCE_RELEASES, id="0.3"),
        # the last release: only the rotation's marks (3 per CA-owning module) + 1
        pytest.param(RELEASE_0_4, 7, 0, set(), id="last-release"),
    ],
)
def test_a_state_from_the_last_release_applies_without_re_issuing_anything(
    tf_config, tmp_path, release, added, moves, new
):
    old = release_0_1_modules(tmp_path / release[:7], release)
    work = tmp_path / "work"
    shutil.copytree(old / "examples" / "tectonic", work)
    for tf_file in work.glob("*.tf"):
        tf_file.write_text(
            tf_file.read_text().replace('"../../modules/', f'"{modules_source(work, old / "modules")}/')
        )
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply()
    before, before_out = serials(tf), tf.outputs()
    for tf_file in work.glob("*.tf"):
        tf_file.unlink()
    copy_example("tectonic", work)
    tf.init()
    upgrade = tf.apply()
    assert f"Plan: {added} to add, 0 to change, 0 to destroy." in upgrade.output, upgrade.output[-3000:]
    assert upgrade.output.count("has moved to") >= moves, upgrade.output[-3000:]
    upgraded = serials(tf)
    assert {n: upgraded[n] for n in before} == before  # no existing certificate is re-issued
    assert set(upgraded) - set(before) == new
    assert same_outputs(tf.outputs(), before_out)
    assert tf.plan().returncode == 0


def test_migrate_state_refuses_to_drop_a_key_that_is_not_sealed_yet():
    state = {
        "version": 4,
        "serial": 3,
        "resources": [
            {
                "mode": "managed",
                "type": "terraform_data",
                "name": "captured",
                "module": "module.kube_certs.module.ca",
                "instances": [{"index_key": "ca", "attributes": {"input": {"value": {"key_pem": "K"}}}}],
            }
        ],
    }
    proc = subprocess.run([TFEXT, "migrate-state"], input=json.dumps(state), capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "terraform apply" in proc.stderr and 'captured["ca"]' in proc.stderr


# --- (3) failures heal with a plain apply ------------------------------------------------------------------

FAULTY_TFEXT = """#!/bin/bash
# tfext that SIGKILLs itself on its first run of $FI_KILL, or sleeps $FI_SLEEP s on it (to be interrupted)
echo "$1" >> "$FI_DIR/runs"
if [ "$1" = "${FI_KILL:-}" ] && mkdir "$FI_DIR/killed" 2>/dev/null; then kill -9 $$; fi
if [ "$1" = "${FI_SLEEP_ON:-}" ] && mkdir "$FI_DIR/slept" 2>/dev/null; then sleep 6; fi
exec "%s" "$@"
"""


def faulty_terraform(tf_config: Path, work: Path, **env: str) -> Terraform:
    bin_dir = work / "fault-bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "tfext"
    wrapper.write_text(FAULTY_TFEXT % shutil.which("tfext", path=str(Path(sys.executable).parent)))
    wrapper.chmod(0o755)
    tf = Terraform(work, tf_config, env_extra={"FI_DIR": str(work), **env})
    tf.env_extra["PATH"] = f"{bin_dir}{os.pathsep}{tf.env['PATH']}"
    return tf


def deferred_wiring(work: Path) -> None:
    """Make every module wait for a resource, so that its programs can only run during apply."""
    main = work / "main.tf"
    text = re.sub(
        r'(module "\w+" \{\n  source = "[^"]+"\n)',
        r"\1  depends_on = [terraform_data.gate]\n",
        main.read_text(),
    )
    main.write_text(text + '\nresource "terraform_data" "gate" {\n  input = "first"\n}\n')


def sealed_serials(tf: Terraform) -> dict[str, str]:
    """Serials of every certificate kept in state with its key (outputs can't be evaluated in a
    half-applied state): `kept` (or `healed` beside an empty one), and the `sealed` of earlier releases."""
    out = {}
    pulled = tf.run("state", "pull").stdout
    for resource in json.loads(pulled)["resources"] if pulled.strip() else []:
        if resource["type"] != "terraform_data" or resource["name"] not in ("kept", "healed", "sealed"):
            continue
        for inst in resource["instances"]:
            attributes = inst["attributes"]
            record = attributes["triggers_replace"] if resource["name"] != "sealed" else attributes["input"]
            record = record.get("value", record)
            key = attributes["triggers_replace"].get("value", attributes["triggers_replace"])
            if record.get("info") and (key.get("key_pem") or key.get("key")):
                out[f"{resource['module']}/{inst['index_key']}"] = certinfo.facts_of(record["info"])["serial"]
    return out


@pytest.mark.parametrize("wiring", ["plan-time", "apply-time"])
@pytest.mark.parametrize("program", PROGRAMS)
def test_a_program_killed_during_a_first_apply_heals_with_a_plain_apply(tf_config, tmp_path, program, wiring):
    work = copy_example("tectonic", tmp_path / "w")
    if wiring == "apply-time":
        deferred_wiring(work)
    tf = faulty_terraform(tf_config, work, FI_KILL=program)
    tf.init()
    failed = tf.apply(check=False)
    assert failed.returncode == 1 and "signal: killed" in failed.output
    kept = sealed_serials(tf)
    if wiring == "plan-time":
        assert kept == {}, "a program killed while planning must leave nothing behind"
    healed = tf.apply()
    assert "Error" not in healed.output
    after = sealed_serials(tf)
    assert len(after) == len(TECTONIC_CERTS)
    assert {k: after[k] for k in kept} == kept, "a certificate sealed before the failure was re-issued"
    assert tf.plan().returncode == 0
    assert_chains(tf)


def test_ctrl_c_during_an_apply_heals_with_a_plain_apply(tf_config, tmp_path):
    work = copy_example("tectonic", tmp_path / "w")
    deferred_wiring(work)
    tf = faulty_terraform(tf_config, work, FI_SLEEP_ON="identity-self-signed")
    tf.init()
    proc = subprocess.Popen(
        [require("terraform"), "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=work,
        env=tf.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (work / "slept").exists():
        assert time.monotonic() < deadline and proc.poll() is None, "the identity program never started"
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "Interrupt received" in out
    kept = sealed_serials(tf)
    assert kept, "the interrupt came before anything was sealed: the test proves nothing"
    healed = tf.apply()
    after = sealed_serials(tf)
    assert len(after) == len(TECTONIC_CERTS) and {k: after[k] for k in kept} == kept
    assert "Error" not in healed.output and tf.plan().returncode == 0
    assert_chains(tf)


def test_a_certificate_lost_twice_is_named_by_tfext_heal_and_its_command_converges(tf_config, tmp_path):
    tf = Terraform(copy_example("tectonic", tmp_path / "w"), tf_config)
    tf.init()
    tf.apply()
    before = serials(tf)
    # What two stopped applies leave: a record made without its certificate while its marker was old (the
    # first stop), and no `healed` beside it (the healing apply stopped too).
    state = json.loads(tf.run("state", "pull").stdout)
    for resource in state["resources"]:
        if resource["name"] == "kept" and resource["module"] == "module.ingress_certs.module.certs":
            record = resource["instances"][0]["attributes"]["triggers_replace"]["value"]
            record.update(cert_pem="", info="", key_alg="", key_pem="")
    state["serial"] += 1
    push = subprocess.run(
        [require("terraform"), "state", "push", "-"],
        input=json.dumps(state),
        cwd=tf.workdir,
        env=tf.env,
        capture_output=True,
        text=True,
    )
    assert push.returncode == 0, push.stderr
    stuck = tf.plan()
    assert stuck.returncode == 1 and "TFEXT-E050 ingress/ingress" in " ".join(stuck.output.split())
    command = subprocess.run(
        [TFEXT, "heal"], input=tf.run("state", "pull").stdout, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (
        command
        == "terraform apply -replace='module.ingress_certs.module.certs.terraform_data.issued[\"ingress\"]'"
    )
    subprocess.run(
        ["bash", "-c", command + " -auto-approve -input=false -no-color"],
        cwd=tf.workdir,
        env=tf.env,
        check=True,
        capture_output=True,
    )
    after = serials(tf)
    assert {n for n in before if before[n] != after[n]} == {"ingress_certs.ingress"}
    assert tf.plan().returncode == 0


# --- (4) misconfigurations fail the plan -----------------------------------------------------------------


def root(tmp_path: Path, body: str) -> Path:
    work = tmp_path / "root"
    work.mkdir()
    (work / "main.tf").write_text(textwrap.dedent(body).replace("MODULES", f"{modules_source(work)}/tls"))
    return work


def test_identity_and_ingress_without_a_ca_key_fail_the_plan(tf_config, tmp_path):
    work = root(
        tmp_path,
        """
        module "kube" {
          source             = "MODULES/kube/self-signed"
          kube_apiserver_url = "https://api.example.com"
          service_cidr       = "10.3.0.0/16"
        }
        module "identity" {
          source      = "MODULES/identity/self-signed"
          ca_cert_pem = module.kube.ca_cert_pem
          ca_key_pem  = ""
        }
        module "ingress" {
          source       = "MODULES/ingress/self-signed"
          base_address = "console.example.com"
          ca_cert_pem  = module.kube.ca_cert_pem
          ca_key_pem   = ""
        }
        """,
    )
    tf = Terraform(work, tf_config)
    tf.init()
    plan = tf.plan()
    assert plan.returncode == 1
    shown = " ".join(plan.output.split())
    assert shown.count("TFEXT-E053") == 2, shown
    assert "TFEXT-E053 identity: no private key of the CA" in shown
    assert "TFEXT-E053 ingress: no private key of the CA" in shown
    assert not (work / "terraform.tfstate").exists() or tf.state_resources() == []  # nothing was created


def test_pem_text_in_a_plain_input_fails_the_plan_without_showing_it(tf_config, tmp_path):
    secret = "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    work = root(
        tmp_path,
        """
        variable "cidr" {
          type = string
        }
        module "etcd" {
          source       = "MODULES/etcd/signed"
          self_signed  = true
          service_cidr = var.cidr
        }
        """,
    )
    tf = Terraform(work, tf_config)
    tf.init()
    plan = tf.plan("-var", f"cidr={secret}")
    assert plan.returncode == 1
    text = " ".join(plan.output.split())
    assert "TFEXT-E028 service_cidr: PEM text" in text
    assert "MIIEvQIBADAN" not in plan.output and "BEGIN PRIVATE KEY" not in plan.output


def test_etcd_signed_with_a_ca_certificate_but_no_key_fails_the_plan(tf_config, tmp_path):
    generated = Terraform(copy_example("etcd", tmp_path / "gen"), tf_config)
    generated.init()
    generated.apply()
    ca = tmp_path / "ca.crt"
    ca.write_text(next(v for k, v in generated.outputs().items() if k.endswith("ca_crt_pem")))
    work = root(
        tmp_path,
        f"""
        module "etcd" {{
          source            = "MODULES/etcd/signed"
          self_signed       = false
          etcd_ca_cert_path = "{ca}"
        }}
        """,
    )
    tf = Terraform(work, tf_config)
    tf.init()
    plan = tf.plan()
    assert plan.returncode == 1 and "TFEXT-E006 query.client_cert_path" in " ".join(plan.output.split())
    assert not (work / "terraform.tfstate").exists()


# --- (5) one copy of each building block, fetched as a git // source ----------------------------------------


def test_modules_work_fetched_as_a_git_subdirectory_source(tf_config, tmp_path):
    git = require("git")
    clone = tmp_path / "tfext.git"
    subprocess.run([git, "clone", "-q", "--bare", str(REPO), str(clone)], check=True)
    ref = subprocess.run(
        [git, "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    source = f"git::file://{clone}//terraform/modules/tls"
    work = tmp_path / "fetched"
    work.mkdir()
    (work / "main.tf").write_text(
        textwrap.dedent(
            f"""
            module "kube" {{
              source             = "{source}/kube/self-signed?ref={ref}"
              kube_apiserver_url = "https://api.example.com"
              service_cidr       = "10.3.0.0/16"
            }}
            module "ingress" {{
              source       = "{source}/ingress/self-signed?ref={ref}"
              base_address = "console.example.com"
              ca_cert_pem  = module.kube.ca_cert_pem
              ca_key_pem   = module.kube.ca_key_pem
            }}
            output "ingress" {{
              value = module.ingress.cert_pem
            }}
            output "ca" {{
              value = module.kube.ca_cert_pem
            }}
            """
        )
    )
    tf = Terraform(work, tf_config)
    tf.init()
    assert list((work / ".terraform" / "modules").glob("*/terraform/modules/tls/internal/issue/main.tf"))
    tf.apply()
    out = tf.outputs()
    cert(out["ingress"]).verify_directly_issued_by(cert(out["ca"]))
    assert tf.plan().returncode == 0


def test_a_missing_tfext_command_is_explained_and_a_quiet_plan_needs_none(tf_config, tmp_path):
    work = copy_example("tectonic", tmp_path / "w")
    tf = Terraform(work, tf_config)
    tf.init()
    no_tfext = {"PATH": "/usr/local/bin:/usr/bin:/bin"}  # terraform and sh, not the venv's tfext
    assert not any(Path(d, "tfext").exists() for d in no_tfext["PATH"].split(":"))
    tf.env_extra.update(no_tfext)
    plan = tf.plan()
    text = " ".join(plan.output.split())
    assert plan.returncode == 1 and "TFEXT-E094 the tfext command is not on PATH" in text
    assert "tfext env" in text and "executable file not found" not in text
    del tf.env_extra["PATH"]
    tf.apply()
    tf.env_extra.update(no_tfext)
    assert tf.plan().returncode == 0  # nothing to issue: no program runs, so none is needed
