"""A CA rotation as the human tools show it: the tectonic example applied once through generation 0 and
the phases trust, reissue and finish of generation 1 (both CAs, kube and etcd), read back from
`terraform output -json` and `terraform state pull` (with its outputs, and without them, where the phase
is inferred from the certificates). inspect names the CA each leaf chains to and each module's phase;
check-expiration asks for the rotation (TFEXT-E059) when a CA ends within the window; write-assets,
topology and summary take the two-CA bundles. Nothing here prints a key."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from harness import Terraform, copy_example

from tfext.tools import clock

from ._helpers import T0, Secret, key_body_lines, make_cert, tfext

PHASES = ("trust", "reissue", "finish")
LEAVES = {
    "kube": ("kube/apiserver", "kube/kubelet", "identity/server", "identity/client", "ingress/ingress"),
    "etcd": ("etcd/server", "etcd/peer", "etcd/client"),
}
OUTPUT = {"kube": "kube_certs", "etcd": "etcd_certs"}  # the flat outputs' prefix of each module


class Phase:
    """One applied phase: `terraform output -json` (text, holds keys), the state pull, and the
    `ca_rotation` and `certificates` outputs of each module."""

    def __init__(self, name: str, outputs_json: str, state_json: str):
        self.name = name
        self.outputs_json = outputs_json
        self.state_json = state_json
        values = Secret({k: v["value"] for k, v in json.loads(outputs_json).items()})
        self.rotation = {m: values[f"{p}_ca_rotation"] for m, p in OUTPUT.items()}
        self.certificates = {m: values["certificates"][p] for m, p in OUTPUT.items()}
        self.values = values

    def __repr__(self) -> str:
        return f"<phase {self.name}, outputs not shown>"

    def state_without_outputs(self) -> str:
        state = json.loads(self.state_json)
        state["outputs"] = {}
        return json.dumps(state)


@pytest.fixture(scope="module")
def phases(tf_config, tmp_path_factory) -> dict[str, Phase]:
    """Generation 0, then generation 1's trust, reissue and finish, each read back once (about 20 s)."""
    work = copy_example("tectonic", tmp_path_factory.mktemp("rotation-visibility"))
    tf = Terraform(work, tf_config)
    tf.init()
    out = {}
    for phase in ("initial", *PHASES):
        args = []
        if phase != "initial":
            for variable in ("kube_ca_rotation", "etcd_ca_rotation"):
                args += ["-var", f'{variable}={{generation=1, phase="{phase}"}}']
        tf.apply(*args)
        out[phase] = Phase(phase, tf.run("output", "-json").stdout, tf.run("state", "pull").stdout)
    return out


def inspect_json(text: str) -> dict:
    proc = tfext("inspect", "--json", "-", stdin=text)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def by_file(report: dict) -> dict[str, dict]:
    """inspect --json certificates by each name they were found under."""
    return {name: c for c in report["certificates"] for name in c["files"]}


def assert_no_key_text(phase: Phase, *texts: str) -> None:
    for name, value in phase.values.items():
        if name.endswith("key_pem") and value:
            for line in key_body_lines(value)[:3]:
                assert all(line not in t for t in texts), f"{name} was printed"


SOURCES = ("outputs", "state", "state-without-outputs")


def source_text(phase: Phase, source: str) -> str:
    return {
        "outputs": phase.outputs_json,
        "state": phase.state_json,
        "state-without-outputs": phase.state_without_outputs(),
    }[source]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name", PHASES)
def test_inspect_names_the_ca_of_each_leaf_and_the_phase(phases, name, source):
    phase = phases[name]
    text = source_text(phase, source)
    report = inspect_json(text)
    certs = by_file(report)
    rotations = {r["ca"]: r for r in report["rotations"]}
    assert set(rotations) == {"kube/ca", "etcd/ca"}
    for module in ("kube", "etcd"):
        said = phase.rotation[module]
        rotation = rotations[f"{module}/ca"]
        assert rotation["phase"] == name == said["phase"]
        assert rotation["signing_ca"] == said["signing_ca"]
        assert rotation["trusted_cas"] == said["trusted_cas"]  # signing CA first, as the module says
        assert rotation["generation"] == 1
        inferred = source == "state-without-outputs"
        assert rotation["source"].startswith("inferred") is inferred
        # the two CAs are named as the `certificates` output names them
        other = {"trust": "ca_incoming", "reissue": "ca_outgoing", "finish": None}[name]
        entries = phase.certificates[module]
        assert certs[f"{module}/ca"]["sha256_fingerprint"] == entries["ca"]["sha256_fingerprint"]
        assert certs[f"{module}/ca"]["rotation"]["part"] == "signing"
        if other:
            assert certs[f"{module}/{other}"]["sha256_fingerprint"] == entries[other]["sha256_fingerprint"]
            assert certs[f"{module}/{other}"]["rotation"]["part"] == other.removeprefix("ca_")
            assert rotation["other_ca"] == entries[other]["sha256_fingerprint"]
        else:
            assert f"{module}/ca_incoming" not in certs and f"{module}/ca_outgoing" not in certs
            assert rotation["other_ca"] is None
        for leaf in LEAVES[module]:
            chains = certs[leaf]["chains_to"]
            slot = leaf.split("/")[1] if leaf.startswith(module) else None
            if slot:  # the module's own `chains_to` says the same
                assert entries[slot]["chains_to"] == "ca"
            assert chains == {
                "ca": f"{module}/ca",
                "part": "signing",
                "fingerprint": said["signing_ca"],
                "phase": name,
            }, leaf
    # which CA that is changes with the phase: the old one in trust, the new one from reissue on
    old = phases["initial"].rotation["kube"]["signing_ca"]
    new = phase.rotation["kube"]["trusted_cas"][-1 if name == "trust" else 0]
    assert (certs["kube/apiserver"]["chains_to"]["fingerprint"] == old) is (name == "trust")
    assert (certs["kube/apiserver"]["chains_to"]["fingerprint"] == new) is (name != "trust")
    # the tree says it in words
    proc = tfext("inspect", "-", stdin=text)
    assert proc.returncode == 0, proc.stderr
    signing = phase.rotation["kube"]["signing_ca"]
    # apiserver, kubelet, identity server and client, ingress, and (issue 14) apiserver_kubelet_client, admin
    assert proc.stdout.count(f"chains to signing CA {signing[:8]} of kube/ca") == 7
    summary = re.search(r"^  kube/ca \(also identity/ca, ingress/ca\): phase (\w+)", proc.stdout, re.M)
    assert summary and summary.group(1) == name
    if name != "finish":
        incoming = "incoming" if name == "trust" else "outgoing"
        assert f"rotation  {incoming} CA of kube/ca, phase {name}, generation 1" in proc.stdout
    assert_no_key_text(phase, proc.stdout, proc.stderr)


def test_a_leaf_left_on_the_outgoing_ca_is_named_so_and_the_phase_is_inferred(phases):
    """reissue's outputs with the kubelet of trust put back (still signed by the old CA, which the bundle
    still holds) and no `ca_rotation` output: the leaves on the newer CA say reissue; the kubelet chains
    to the outgoing CA, and inspect says it must be issued again."""
    trust, reissue = phases["trust"], phases["reissue"]
    outputs = json.loads(reissue.outputs_json)
    for name in ("kube_certs_kubelet_cert_pem", "kube_certs_kubelet_key_pem"):  # the pair, as trust had it
        outputs[name] = json.loads(trust.outputs_json)[name]
    del outputs["kube_certs_ca_rotation"]
    text = json.dumps(outputs)
    report = inspect_json(text)
    rotation = next(r for r in report["rotations"] if r["ca"] == "kube/ca")
    assert rotation["phase"] == "reissue" and rotation["source"] == "inferred: leaves on the newer CA"
    outgoing = trust.rotation["kube"]["signing_ca"]
    certs = by_file(report)
    assert certs["kube/kubelet"]["chains_to"]["part"] == "outgoing"
    assert certs["kube/kubelet"]["chains_to"]["fingerprint"] == outgoing
    assert certs["kube/apiserver"]["chains_to"]["part"] == "signing"
    assert rotation["leaves"][certs["kube/kubelet"]["sha256_fingerprint"]] == "outgoing"
    tree = tfext("inspect", "-", stdin=text).stdout
    assert f"chains to outgoing CA {outgoing[:8]} of kube/ca" in tree
    assert "TFEXT-E057 signed by the outgoing CA, but in phase reissue" in tree


def not_after(pem: str) -> dt.datetime:
    return x509.load_pem_x509_certificates(pem.encode())[0].not_valid_after_utc


def check_expiration(text: str, now: dt.datetime, *args: str):
    return tfext("check-expiration", "-", *args, stdin=text, env={"TFEXT_NOW": clock.rfc3339(now)})


@pytest.mark.parametrize("source", ("outputs", "state-without-outputs"))
def test_check_expiration_asks_for_the_next_phase_when_both_cas_of_trust_end_soon(phases, source):
    trust = phases["trust"]
    text = source_text(trust, source)
    end = not_after(trust.values["kube_certs_ca_cert_pem"])
    proc = check_expiration(text, end - dt.timedelta(days=10))
    assert proc.returncode == 1, proc.stderr
    warnings = [line for line in proc.stdout.splitlines() if line.startswith("TFEXT-E059")]
    named = {line.split()[1].rstrip(":") for line in warnings}
    assert named == {"kube/ca", "kube/ca_incoming", "etcd/ca", "etcd/ca_incoming"}  # both CAs of each bundle
    outgoing = next(line for line in warnings if line.startswith("TFEXT-E059 kube/ca:"))
    assert 'ca_rotation = { generation = 1, phase = "reissue" }' in outgoing
    assert "docs/ca-rotation.md" in outgoing
    incoming = next(line for line in warnings if line.startswith("TFEXT-E059 kube/ca_incoming:"))
    assert 'ca_rotation = { generation = 2, phase = "trust" }' in incoming and "finish" in incoming
    assert not any("E059" in line for line in proc.stdout.splitlines() if line.startswith("kube/apiserver"))
    report = json.loads(check_expiration(text, end - dt.timedelta(days=10), "--json").stdout)
    codes = {c["name"]: c.get("code") for c in report["certificates"]}
    assert codes["kube/ca_incoming"] == codes["etcd/ca"] == "TFEXT-E059"
    assert codes["kube/apiserver"] is None and len(report["warnings"]) == 4
    # a year earlier, nothing is due: no warning, exit 0
    calm = check_expiration(text, end - dt.timedelta(days=365))
    assert calm.returncode == 0 and "E059" not in calm.stdout + calm.stderr
    assert_no_key_text(trust, proc.stdout, proc.stderr)


def test_check_expiration_after_finish_points_to_the_next_generation(phases):
    finish = phases["finish"]
    end = not_after(finish.values["kube_certs_ca_cert_pem"])
    proc = check_expiration(finish.state_json, end - dt.timedelta(hours=100), "--window-hours", "200")
    assert proc.returncode == 1
    warning = next(line for line in proc.stdout.splitlines() if line.startswith("TFEXT-E059 kube/ca:"))
    assert 'rotate it: ca_rotation = { generation = 2, phase = "trust" } (docs/ca-rotation.md)' in warning
    assert "within 200 hours" in warning
    # outside that smaller window: no warning
    quiet = check_expiration(finish.state_json, end - dt.timedelta(hours=100), "--window-hours", "50")
    assert "E059" not in quiet.stdout


def test_check_expiration_of_a_two_ca_pem_file_checks_both_cas(tmp_path):
    """A hand-made bundle (no ca_rotation to read): both CAs are judged, each E059 says `N + 1`; a leaf
    inside the window keeps its plain `renew` row and no code."""
    old = make_cert("kube-ca", ca=True, days=400)
    new = make_cert("kube-ca", ca=True, days=40, start=T0 + dt.timedelta(days=1))
    leaf = make_cert("kube-apiserver", old, days=30)
    bundle = tmp_path / "ca.crt"
    bundle.write_text(old.cert_pem + new.cert_pem)
    proc = tfext(
        "check-expiration", str(bundle), env={"TFEXT_NOW": clock.rfc3339(T0 + dt.timedelta(days=20))}
    )
    warnings = [line for line in proc.stdout.splitlines() if line.startswith("TFEXT-E059")]
    assert len(warnings) == 1 and warnings[0].startswith("TFEXT-E059 ca.crt[1]:"), proc.stdout
    assert 'generation = N + 1, phase = "trust"' in warnings[0]
    later = tfext(
        "check-expiration", str(tmp_path), env={"TFEXT_NOW": clock.rfc3339(T0 + dt.timedelta(days=390))}
    )
    (tmp_path / "apiserver.crt").write_text(leaf.cert_pem)
    both = [line for line in later.stdout.splitlines() if line.startswith("TFEXT-E059")]
    assert [w.split()[1] for w in both] == ["ca.crt[0]:"]  # the other one has expired by then: no E059
    assert later.returncode == 1
    rows = tfext(
        "check-expiration", str(tmp_path), env={"TFEXT_NOW": clock.rfc3339(T0 + dt.timedelta(days=20))}
    )
    apiserver = next(line for line in rows.stdout.splitlines() if line.startswith("apiserver.crt"))
    assert apiserver.split()[-1] == "renew" and "E0" not in apiserver


def spki(key_or_cert) -> bytes:
    public = key_or_cert.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("source", ("outputs", "state-without-outputs"))
def test_write_assets_of_trust_writes_the_bundles_signing_ca_first(phases, source, tmp_path):
    trust = phases["trust"]
    proc = tfext("write-assets", str(tmp_path / "tls"), stdin=source_text(trust, source))
    assert proc.returncode == 0, proc.stderr
    tls = tmp_path / "tls"
    for name, module in (("ca.crt", "kube"), ("identity-ca.crt", "kube"), ("etcd-client-ca.crt", "etcd")):
        cas = x509.load_pem_x509_certificates((tls / name).read_bytes())
        assert [c.fingerprint(hashes.SHA256()).hex() for c in cas] == trust.rotation[module]["trusted_cas"]
    head = x509.load_pem_x509_certificates((tls / "ca.crt").read_bytes())[0]
    key = serialization.load_pem_private_key((tls / "ca.key").read_bytes(), None)
    assert spki(key) == spki(head), "ca.key is the signing CA's key"
    apiserver = x509.load_pem_x509_certificate((tls / "apiserver.crt").read_bytes())
    apiserver.verify_directly_issued_by(head)
    # the files are read back as the same rotation: topology draws both CAs, from the files and the outputs
    drawn = tfext("topology", str(tls))
    assert drawn.returncode == 0, drawn.stderr
    assert "kube-ca (CA, signing)" in drawn.stdout and "kube-ca (CA, incoming)" in drawn.stdout
    assert "c_ca -->|signs| c_apiserver" in drawn.stdout
    assert drawn.stdout == tfext("topology", stdin=trust.outputs_json).stdout


def test_summary_lists_both_cas_of_reissue(phases):
    reissue = phases["reissue"]
    proc = tfext("summary", stdin=reissue.state_json)
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()[1:]]
    assert {"kube/ca", "kube/ca_outgoing", "etcd/ca", "etcd/ca_outgoing"} <= set(names)
    assert_no_key_text(reissue, proc.stdout, proc.stderr)


@pytest.mark.parametrize("source", SOURCES)
def test_write_assets_of_each_phase_into_one_directory_replaces_no_ca_but_a_skip_does(
    phases, source, tmp_path
):
    """The runbook writes every phase into the deployed directory: each phase's bundle (or finish's CA)
    holds a CA the directory holds, so no write is a CA replacement (TFEXT-E067). Writing finish straight
    over generation 0's files is one: consumers never trusted the new CA."""
    tls = tmp_path / "tls"
    for name in ("initial", *PHASES):
        proc = tfext("write-assets", str(tls), stdin=source_text(phases[name], source))
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        assert_no_key_text(phases[name], proc.stdout, proc.stderr)
    skipped = tmp_path / "skipped"
    assert tfext("write-assets", str(skipped), stdin=source_text(phases["initial"], source)).returncode == 0
    before = (skipped / "ca.crt").read_bytes()
    proc = tfext("write-assets", str(skipped), stdin=source_text(phases["finish"], source))
    assert proc.returncode == 2 and (skipped / "ca.crt").read_bytes() == before
    refused = {line.split(": ")[1].split()[1] for line in proc.stderr.splitlines()}
    assert refused == {
        str(skipped / f) for f in ("ca.crt", "etcd-client-ca.crt", "identity-ca.crt", "ingress-ca.crt")
    }
    assert_no_key_text(phases["finish"], proc.stdout, proc.stderr)
