"""Expiry you can see, with real Terraform: certificates inside the renewal window make `plan` warn (check
blocks) and still succeed, in the generated and the user-provided flavors alike; the `certificates`
output has one shape in every flavor; `tfext check-expiration` and `tfext inspect` read the same facts
from the real state, the asset files and `terraform state pull`."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from harness import Terraform, copy_example

from tfext.tools import clock

from ._helpers import Secret, certificates_by_name, key_body_lines, tfext

pytestmark = pytest.mark.terraform

INFO_KEYS = {"subject", "issuer", "sans", "serial", "sha256_fingerprint", "not_before", "not_after", "is_ca"}
INFO_KEYS |= {"subject_key_id", "authority_key_id", "key_from_csr"}  # the last one false but for a CSR
CA_OWNERS = {"kube_certs", "etcd_certs"}  # their entries also say which CA each one chains to
# What each module warns about (the E043 message of its check block lists these names; an expiring CA
# is E059, which points to a CA rotation).
EXPECTED_WARNINGS = {
    "kube": {"ca", "apiserver", "kubelet"},
    "etcd": {"ca", "server", "peer", "client"},
    "identity": {"server", "client"},
    "ingress": {"ingress"},
}


def warnings_by_module(plan_output: str) -> dict[str, str]:
    """Module => the text of its check warnings, re-joined (Terraform wraps long messages)."""
    out: dict[str, str] = {}
    for block in plan_output.split("Warning: Check block assertion failed")[1:]:
        text = " ".join(block.split())
        module = re.search(r"TFEXT-E0(?:4\d|59) (\w+)[/ ]", text).group(1)  # "E043 kube/...", "E059 kube/ca"
        out[module] = out.get(module, "") + " " + text
    return out


def warns_about(text: str, name: str) -> bool:
    """Generated flavors list `kube/name (2026-...)`; user-provided ones say `E043 kube/name: ...` or
    `E043 kube/ca certificate (path): ...`."""
    return any(f in text for f in (f"/{name} (20", f"/{name}:", f"/{name} certificate"))


def assert_warns_and_succeeds(result) -> None:
    assert result.returncode == 0, (
        f"plan must succeed (0 = no changes), got {result.returncode}:\n{result.output[-3000:]}"
    )
    warnings = warnings_by_module(result.output)
    for module, names in EXPECTED_WARNINGS.items():
        for name in names:
            assert warns_about(warnings.get(module, ""), name), (module, name, result.output[-3000:])


def test_plan_warns_about_certificates_inside_the_window_and_still_succeeds(expiring):
    assert_warns_and_succeeds(expiring.tf.plan(*expiring.args))


def test_an_expiring_ca_asks_for_a_rotation_not_a_re_issue(expiring, user_provided):
    generated = " ".join(expiring.tf.plan(*expiring.args).output.split())
    provided = " ".join(user_provided[0].plan(*user_provided[2]).output.split())
    for kind in ("kube", "etcd"):
        assert f"TFEXT-E059 {kind}/ca expires within" in generated, kind
        assert f"TFEXT-E059 {kind}/ca certificate" in provided, kind
    for text in (generated, provided):
        assert 'phase = "trust"' in text and "docs/ca-rotation.md" in text
        assert not re.search(r"TFEXT-E043 \w+/ca[ :]", text)  # a CA is never told to just re-issue


def test_a_window_shorter_than_what_is_left_is_quiet(expiring):
    # The window only judges; it shapes no certificate, so the plan has no changes either.
    result = expiring.tf.plan(*expiring.args, "-var", "renewal_window_hours=1")
    assert result.returncode == 0, result.output[-3000:]
    assert "Check block assertion failed" not in result.output


@pytest.fixture(scope="module")
def user_provided(expiring, tf_config, tmp_path_factory) -> tuple[Terraform, dict, tuple[str, ...]]:
    """The user-provided example applied on the expiring example's files."""
    base = tmp_path_factory.mktemp("user-provided")
    tls = base / "generated" / "tls"
    proc = tfext("write-assets", str(tls), stdin=expiring.tf.run("output", "-json").stdout)
    assert proc.returncode == 0, proc.stderr
    tf = Terraform(copy_example("tectonic-user-provided", base / "root"), tf_config)
    args = ("-var", f"tls_dir={tls}")
    tf.init()
    tf.apply(*args)
    return tf, Secret(tf.outputs()), args


def test_certificates_output_has_the_same_shape_and_facts_in_every_flavor(expiring, user_provided):
    generated, provided = expiring.outputs["certificates"], user_provided[1]["certificates"]
    for certificates in (generated, provided):
        assert set(certificates) == {"kube_certs", "etcd_certs", "identity_certs", "ingress_certs"}
        for module, certs in certificates.items():
            for name, info in certs.items():
                assert set(info) == INFO_KEYS | ({"chains_to"} if module in CA_OWNERS else set()), (
                    module,
                    name,
                )
                assert isinstance(info["sans"], list) and isinstance(info["is_ca"], bool)
                clock.parse_time(info["not_after"])
    assert {m: set(c) for m, c in generated.items()} == {m: set(c) for m, c in provided.items()}
    assert provided == generated  # the same files, so the same facts


def test_user_provided_flavors_warn_too_and_plan_still_succeeds(user_provided):
    tf, _, args = user_provided
    result = tf.plan(*args)
    assert result.output.count("Warning: Check block assertion failed") == 4  # one per module
    assert_warns_and_succeeds(result)


# --- the same facts through tfext ------------------------------------------------------------------------


def report(proc) -> dict:
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def test_check_expiration_reads_the_real_state_as_the_certificates_output_describes_it(expiring):
    # One fixed clock for every run below, so their reports can be compared byte for byte.
    earliest = min(clock.parse_time(c["not_before"]) for c in certificates_by_name(expiring.outputs).values())
    now = {"TFEXT_NOW": clock.rfc3339(earliest + dt.timedelta(hours=1))}
    from_file = tfext("check-expiration", str(expiring.state), "--json", env=now)
    assert from_file.returncode == 1, "every certificate expires within the default 720 hours"
    certs = {c["name"]: c for c in report(from_file)["certificates"]}
    # The example calls module kube `kube_certs`: its certificates are named by module and role.
    described = {
        name.replace("_certs.", "/"): info for name, info in certificates_by_name(expiring.outputs).items()
    }
    # kube/ca is also identity's and ingress's CA: one certificate, one row.
    assert set(certs) == set(described)
    for name, info in described.items():
        assert certs[name]["sha256_fingerprint"] == info["sha256_fingerprint"]
        assert certs[name]["not_after"] == info["not_after"]
        assert certs[name]["status"] == "renew"
    assert certs["identity/server"]["certificate_authority"] == "kube/ca"
    assert certs["etcd/peer"]["certificate_authority"] == "etcd/ca"
    pulled = expiring.tf.run("state", "pull").stdout
    assert tfext("check-expiration", "-", "--json", stdin=pulled, env=now).stdout == from_file.stdout
    for name, value in expiring.outputs.items():
        if name.endswith("key_pem") and value:
            assert not any(line in from_file.stdout for line in key_body_lines(value))


def test_check_expiration_verdicts_follow_the_clock_and_the_window(expiring):
    latest = max(clock.parse_time(c["not_after"]) for c in certificates_by_name(expiring.outputs).values())
    later = {"TFEXT_NOW": clock.rfc3339(latest + dt.timedelta(hours=1))}
    expired = tfext("check-expiration", str(expiring.state), "--json", env=later)
    assert expired.returncode == 1
    assert {c["status"] for c in report(expired)["certificates"]} == {"expired"}
    quiet = tfext("check-expiration", str(expiring.state), "--window-hours", "1")
    assert quiet.returncode == 0, quiet.stdout
    assert "RESIDUAL TIME" in quiet.stdout and "CERTIFICATE AUTHORITY" in quiet.stdout


def test_the_asset_files_tell_the_same_story(expiring, tmp_path):
    tls = tmp_path / "tls"
    assert tfext("write-assets", str(tls), stdin=expiring.tf.run("output", "-json").stdout).returncode == 0
    from_dir = report(tfext("check-expiration", str(tls), "--json"))
    fingerprints = {c["sha256_fingerprint"] for c in from_dir["certificates"]}
    assert fingerprints == {i["sha256_fingerprint"] for i in certificates_by_name(expiring.outputs).values()}
    ca = next(c for c in from_dir["certificates"] if c["name"] == "ca.crt")
    assert ca["aliases"] == ["identity-ca.crt", "ingress-ca.crt"]

    inspected = tfext("inspect", str(tls))
    assert inspected.returncode == 0, inspected.stderr
    roots = [
        line for line in inspected.stdout.splitlines() if line and not line[0].isspace() and "[CA]" in line
    ]
    assert [r.split()[0] for r in roots] == ["etcd-ca", "kube-ca"]
    assert f"{tls / 'ca.crt'}, {tls / 'identity-ca.crt'}, {tls / 'ingress-ca.crt'}" in inspected.stdout
    keys = [line for line in inspected.stdout.splitlines() if line.startswith(f"  {tls}") and ".key:" in line]
    # Tectonic's 9 keys, and since issue 14 the kube module's own clients: admin, apiserver-kubelet-client.
    assert len(keys) == 11 and all("private key (not shown), RSA 2048; belongs to" in k for k in keys)
    assert "BEGIN" not in inspected.stdout
