"""`tfext inspect FILE...`: a tree of who signed whom with each certificate's facts; keys recognised,
matched to their certificate and never shown; `--json` for machines; clear errors, no tracebacks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization

from tfext.tools import clock

from ._helpers import T0, key_body_lines, make_cert, per_node_cluster, per_node_shapes


def at(days: float) -> str:
    return clock.rfc3339(T0 + dt.timedelta(days=days))


@pytest.fixture
def files(tmp_path):
    """A kube-like CA with two leaves, the CA also copied as identity-ca.crt, and the apiserver key."""
    ca = make_cert("kube-ca", ca=True, days=3650)
    apiserver = make_cert("kube-apiserver", ca, sans=("kubernetes", "kubernetes.default"))
    kubelet = make_cert("kubelet", ca, server=False)
    (tmp_path / "ca.crt").write_text(ca.cert_pem)
    (tmp_path / "identity-ca.crt").write_text(ca.cert_pem)
    (tmp_path / "apiserver.crt").write_text(apiserver.cert_pem)
    (tmp_path / "apiserver.key").write_text(apiserver.key_pem)
    (tmp_path / "kubelet.crt").write_text(kubelet.cert_pem)
    return {"dir": tmp_path, "ca": ca, "apiserver": apiserver, "kubelet": kubelet}


def paths(files, *names: str) -> list[str]:
    return [str(files["dir"] / n) for n in names]


def test_certificates_form_a_tree_under_the_ca_that_signed_them(cli, files):
    run = cli("inspect", *paths(files, "ca.crt", "apiserver.crt", "kubelet.crt"), now=at(1))
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0].startswith("kube-ca [CA]  ")
    assert any(line.startswith("├── kube-apiserver  ") for line in lines)
    assert any(line.startswith("└── kubelet  ") for line in lines)
    assert "chain     kube-apiserver -> kube-ca (self-signed root)" in run.out
    assert "SANs      DNS:kubernetes, DNS:kubernetes.default" in run.out
    assert "usages    CA (path length 0); digital_signature, key_cert_sign, crl_sign" in run.out
    assert "usages    digital_signature, client_auth" in run.out  # kubelet: a client certificate
    assert "validity  Jan 01, 2030 00:00 UTC -> Jan 01, 2031 00:00 UTC (364d left)" in run.out
    assert f"key type  ECDSA P-256\n{' ' * 8}signature ecdsa-with-SHA256\n" in run.out
    serial = f"{files['apiserver'].cert.serial_number:X}"
    assert f"serial    {serial.zfill(len(serial) + len(serial) % 2)}\n" in run.out  # as openssl prints it
    assert f"sha256    {files['apiserver'].fingerprint}" in run.out


def test_one_certificate_in_two_files_is_shown_once_with_both_names(cli, files):
    run = cli("inspect", *paths(files, "ca.crt", "identity-ca.crt"), now=at(1))
    titles = [line for line in run.out.splitlines() if line.startswith("kube-ca")]
    assert titles == [f"kube-ca [CA]  {files['dir'] / 'ca.crt'}, {files['dir'] / 'identity-ca.crt'}"]


def test_a_private_key_is_matched_to_its_certificate_and_never_shown(cli, files):
    for args in ((), ("--json",)):
        run = cli("inspect", *paths(files, "apiserver.crt", "apiserver.key", "kubelet.crt"), *args, now=at(1))
        assert run.code == 0
        assert not any(line in run.out + run.err for line in key_body_lines(files["apiserver"].key_pem))
    text = cli("inspect", *paths(files, "apiserver.crt", "apiserver.key"), now=at(1)).out
    key = files["dir"] / "apiserver.key"
    assert f"key       {key} (private key, not shown)" in text
    assert f"{key}: private key (not shown), ECDSA P-256; belongs to kube-apiserver" in text
    report = json.loads(cli("inspect", *paths(files, "apiserver.crt", "apiserver.key"), "--json").out)
    assert report["private_keys"] == [
        {
            "file": str(key),
            "algorithm": "ECDSA P-256",
            "encrypted": False,
            "matches": [files["apiserver"].fingerprint],
        }
    ]


def test_a_key_alone_or_encrypted_is_still_not_shown(cli, files, tmp_path):
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        files["kubelet"].key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    run = cli("inspect", str(encrypted), *paths(files, "apiserver.key"))
    assert run.code == 0
    assert f"{encrypted}: encrypted private key (not shown)" in run.out
    assert "private key (not shown), ECDSA P-256; matches none of the certificates given" in run.out
    assert "BEGIN" not in run.out


def test_a_certificate_whose_issuer_was_not_given_says_so(cli, files):
    run = cli("inspect", *paths(files, "apiserver.crt", "kubelet.crt"), now=at(1))
    lines = run.out.splitlines()
    assert lines[0] == "CN=kube-ca  (the issuer: not given)"
    assert lines[1].startswith("├── kube-apiserver  ") and "└── kubelet  " in run.out
    assert "issuer    CN=kube-ca (not given: its signature is not checked)" in run.out
    assert "chain     kube-apiserver -> kube-ca (issuer not given)" in run.out
    assert "not among the inputs" not in run.out
    report = json.loads(cli("inspect", *paths(files, "apiserver.crt"), "--json").out)
    assert report["certificates"][0]["chain_complete"] is False
    assert report["certificates"][0]["signed_by"] is None


def test_json_gives_chains_as_fingerprints_and_validity_at_the_injected_time(cli, files):
    run = cli("inspect", str(files["dir"]), "--json", now=at(400))
    report = json.loads(run.out)
    by_name = {c["name"]: c for c in report["certificates"]}
    ca, apiserver = files["ca"], files["apiserver"]
    assert by_name["kube-apiserver"]["chain"] == [apiserver.fingerprint, ca.fingerprint]
    assert by_name["kube-apiserver"]["signed_by"] == ca.fingerprint
    assert by_name["kube-apiserver"]["status"] == "expired"
    assert by_name["kube-ca"]["status"] == "valid" and by_name["kube-ca"]["self_signed"] is True
    assert by_name["kube-ca"]["files"] == [
        str(files["dir"] / "ca.crt"),
        str(files["dir"] / "identity-ca.crt"),
    ]
    assert by_name["kube-apiserver"]["private_keys"] == [str(files["dir"] / "apiserver.key")]
    assert by_name["kube-apiserver"]["usages"] == ["digital_signature", "server_auth", "client_auth"]
    assert report["now"] == "2031-02-05T00:00:00Z"


def test_expired_and_not_yet_valid_are_spelled_out(cli, files):
    assert "(EXPIRED 35d ago)" in cli("inspect", *paths(files, "apiserver.crt"), now=at(400)).out
    assert "(NOT YET VALID, starts in 2d)" in cli("inspect", *paths(files, "apiserver.crt"), now=at(-2)).out


def test_der_certificates_stdin_and_other_pem_blocks(cli, files, tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding

    der = tmp_path / "ca.der"
    der.write_bytes(files["ca"].cert.public_bytes(Encoding.DER))
    assert "kube-ca [CA]  " + str(der) in cli("inspect", str(der)).out
    run = cli(
        "inspect",
        "-",
        stdin=files["kubelet"].cert_pem + "-----BEGIN CERTIFICATE REQUEST-----\nAA==\n"
        "-----END CERTIFICATE REQUEST-----\n",
    )
    assert "kubelet  stdin" in run.out
    assert "stdin: CERTIFICATE REQUEST" in run.out


def test_unreadable_inputs_are_reported_and_the_rest_still_shown(cli, files, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    damaged = tmp_path / "damaged.crt"
    damaged.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    run = cli("inspect", str(tmp_path / "missing.crt"), str(junk), str(damaged), *paths(files, "ca.crt"))
    assert run.code == 1
    assert "kube-ca [CA]" in run.out
    assert f"tfext inspect: TFEXT-E020 {tmp_path / 'missing.crt'}: no such file" in run.err
    assert f"tfext inspect: {junk}: neither PEM nor a DER certificate" in run.err
    # a damaged certificate is a row of the report, with its code, and the rest is still shown
    assert f"  {damaged}: TFEXT-E023 a CERTIFICATE block cannot be parsed" in run.out
    assert "Traceback" not in run.err


def test_usage_errors_exit_2(cli):
    run = cli("inspect")
    assert run.code == 2 and "usage: tfext inspect" in run.err


# --- one identity per node (docs/per-node.md) -------------------------------------------------------------


@pytest.fixture(scope="module")
def many_nodes() -> tuple[dict, str]:
    """A cluster of 80 nodes, each with its own kubelet key: more keys than inspect once looked at (64)."""
    nodes = tuple(f"node-{i:02d}" for i in range(80))
    pairs = per_node_cluster(nodes=nodes)
    return pairs, per_node_shapes(pairs)["objects"]


def test_each_nodes_key_is_matched_to_its_own_certificate_however_many_nodes(cli, many_nodes):
    pairs, document = many_nodes
    report = json.loads(cli("inspect", "--json", "-", stdin=document, now=at(1)).out)
    by_role = {c["files"][0]: c for c in report["certificates"]}
    for role, pair in pairs.items():
        if role.startswith("kube/kubelet:"):
            assert by_role[role]["private_keys"] == [f"{role} key"], role
            assert by_role[role]["sha256_fingerprint"] == pair.fingerprint
    assert len([k for k in report["private_keys"] if k["matches"]]) == len(report["private_keys"]) > 64


def test_keys_past_the_bound_are_said_to_be_left_unmatched(cli, many_nodes, monkeypatch):
    from tfext.tools import inspection

    monkeypatch.setattr(inspection, "MAX_KEYS", 10)
    run = cli("inspect", "-", stdin=many_nodes[1], now=at(1))
    assert run.code == 1
    assert "TFEXT-E063" in run.err and "more than 10 private keys; the rest are not matched" in run.err
    assert run.err.count("TFEXT-E063") == 1


def test_a_nodes_certificate_is_named_by_its_role_and_node(cli, many_nodes):
    text = cli("inspect", "-", stdin=many_nodes[1], now=at(1)).out
    assert "system:node:node-07  kube/kubelet:node-07" in text
    assert (
        "kube/kubelet:node-07 key: private key (not shown), ECDSA P-256; belongs to system:node:node-07"
        in text
    )
    assert "etcd-1  etcd/peer:etcd-1" in text


# --- a key that is not its certificate's (issue 19) ----------------------------------------------------


def test_a_key_file_beside_a_certificate_it_does_not_belong_to_is_reported(cli, files):
    """`apiserver.key` holding the kubelet's key: matched to the kubelet, and reported against
    `apiserver.crt`, with what to do; exit 1, and never the key."""
    (files["dir"] / "apiserver.key").write_text(files["kubelet"].key_pem)
    run = cli("inspect", str(files["dir"]), now=at(1))
    assert run.code == 1
    key, crt = files["dir"] / "apiserver.key", files["dir"] / "apiserver.crt"
    assert run.err.startswith(
        f"tfext inspect: TFEXT-E030 {key}: the private key does not belong to the certificate in {crt}; "
        "write the pair again"
    ), run.err
    assert "tfext heal" in run.err
    assert f"{key}: private key (not shown), ECDSA P-256; belongs to kubelet" in run.out
    assert "does not belong to the certificate in" in run.out
    report = json.loads(cli("inspect", "--json", str(files["dir"]), now=at(1)).out)
    (entry,) = [k for k in report["private_keys"] if k["file"] == str(key)]
    assert entry["problem"].startswith("TFEXT-E030") and entry["matches"] == [files["kubelet"].fingerprint]
    assert not any(line in run.out + run.err for line in key_body_lines(files["kubelet"].key_pem))


def test_a_key_of_another_certificate_in_the_outputs_is_reported_with_the_remedy(cli, files):
    outputs = {
        "kube_certs_ca_cert_pem": files["ca"].cert_pem,
        "kube_certs_ca_key_pem": files["ca"].key_pem,
        "kube_certs_apiserver_cert_pem": files["apiserver"].cert_pem,
        "kube_certs_apiserver_key_pem": files["kubelet"].key_pem,
        "kube_certs_kubelet_cert_pem": files["kubelet"].cert_pem,
        "kube_certs_kubelet_key_pem": "",
    }
    document = json.dumps({k: {"value": v, "type": "string"} for k, v in outputs.items()})
    run = cli("inspect", "-", stdin=document, now=at(1))
    assert run.code == 1
    assert run.err.splitlines() == [
        "tfext inspect: TFEXT-E030 kube/apiserver key: the private key does not belong to the certificate "
        "(kube/apiserver); `terraform state pull | tfext heal` names it and prints the command that issues "
        "it again",
        "tfext inspect: TFEXT-E068 kube/kubelet: a certificate without its private key; `terraform state "
        "pull | tfext heal` names it and prints the command that issues it again",
    ]
    assert not any(line in run.out + run.err for line in key_body_lines(files["kubelet"].key_pem))


def test_a_key_file_that_is_its_certificates_is_no_problem(cli, files):
    run = cli("inspect", str(files["dir"]), now=at(1))
    assert run.code == 0 and run.err == ""


# --- what `step certificate inspect` and openssl show (issue 23) ---------------------------------------


def openssl(path, *args: str) -> str:
    import subprocess

    from harness import require

    command = [require("openssl"), "x509", "-noout", "-in", str(path), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30).stdout


def test_serials_and_algorithms_are_printed_as_openssl_prints_them(cli, tmp_path):
    """A serial whose first byte is below 0x10 keeps its leading zero (`06F33F...`, never `6f33f...`), in
    the tree and in --json; the signature algorithm is openssl's name, the key its algorithm and size."""
    ca = make_cert("kube-ca", ca=True, days=3650, serial=0x0A)
    leaf = make_cert("kube-apiserver", ca, serial=0x06F33F6A9B0C1D2E3F405162738495A6B7C8D9E0)
    (tmp_path / "ca.crt").write_text(ca.cert_pem)
    (tmp_path / "apiserver.crt").write_text(leaf.cert_pem)
    tree = cli("inspect", str(tmp_path), now=at(1)).out
    report = json.loads(cli("inspect", "--json", str(tmp_path), now=at(1)).out)
    by_name = {c["name"]: c for c in report["certificates"]}
    for name, file in (("kube-ca", "ca.crt"), ("kube-apiserver", "apiserver.crt")):
        serial = openssl(tmp_path / file, "-serial").strip().removeprefix("serial=")
        assert by_name[name]["serial"] == serial
        assert f"serial    {serial}\n" in tree
        signature = openssl(tmp_path / file, "-text").split("Signature Algorithm: ")[1].split()[0]
        assert by_name[name]["signature_algorithm"] == signature == "ecdsa-with-SHA256"
        assert by_name[name]["public_key_algorithm"] == "ECDSA P-256"
    assert by_name["kube-apiserver"]["serial"] == "06F33F6A9B0C1D2E3F405162738495A6B7C8D9E0"
    assert by_name["kube-ca"]["serial"] == "0A"
    assert "key type  ECDSA P-256" in tree and "signature ecdsa-with-SHA256" in tree


def test_a_lone_file_names_its_issuer_by_subject_and_says_it_was_not_given(cli, files):
    run = cli("inspect", *paths(files, "apiserver.crt"), now=at(1))
    assert run.code == 0 and run.err == ""
    assert run.out.splitlines()[:2] == [
        "CN=kube-ca  (the issuer: not given)",
        f"└── kube-apiserver  {files['dir'] / 'apiserver.crt'}",
    ]
    assert "issuer    CN=kube-ca (not given: its signature is not checked)" in run.out


def test_a_ca_of_the_issuers_name_that_did_not_sign_it_is_not_called_missing(cli, files, tmp_path):
    impostor = make_cert("kube-ca", ca=True, days=3650)  # same name, another key
    (tmp_path / "other-ca.crt").write_text(impostor.cert_pem)
    run = cli("inspect", str(tmp_path / "other-ca.crt"), *paths(files, "apiserver.crt"), now=at(1))
    assert "CN=kube-ca  (the issuer: a CA of that name was given, but did not sign it)" in run.out
    assert "(issuer a CA of that name was given, but did not sign it)" in run.out


def test_a_serial_that_is_not_positive_prints_no_python_warning(tmp_path):
    """cryptography warns (a Python warning, with our file and line) when it parses a certificate whose
    serial is 0 or negative; `tfext` is run here as a user runs it, so nothing but its own lines may
    reach stderr."""
    import subprocess
    import sys

    from harness import require

    key, crt = tmp_path / "zero.key", tmp_path / "zero.crt"
    subprocess.run(
        [require("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(key), "-out", str(crt), "-subj", "/CN=zero", "-days", "3650", "-set_serial", "0"],
        capture_output=True, check=True, timeout=30,
    )  # fmt: skip
    assert openssl(crt, "-serial").strip() == "serial=00"
    for args in (["inspect", str(crt)], ["check-expiration", str(crt)]):
        run = subprocess.run(
            [sys.executable, "-m", "tfext", *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert "Warning" not in run.stderr and ".py:" not in run.stderr, (args, run.stderr)
        assert run.returncode == 0 and "zero" in run.stdout, (args, run.returncode, run.stdout, run.stderr)
    # and `inspect` says what Go makes of it (TFEXT-E047, as a user-provided flavor does), tree and JSON
    shown = subprocess.run(
        [sys.executable, "-m", "tfext", "inspect", str(crt)], capture_output=True, text=True
    )
    assert "problem   TFEXT-E047 the serial number is not positive; Go 1.23+ refuses it" in shown.stdout
    (found,) = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tfext", "inspect", "--json", str(crt)], capture_output=True
        ).stdout
    )["certificates"]
    assert [p.split()[0] for p in found["problems"]] == ["TFEXT-E047"]
    fine = make_cert("fine", ca=True, days=30)
    (tmp_path / "fine.crt").write_text(fine.cert_pem)
    report = subprocess.run(
        [sys.executable, "-m", "tfext", "inspect", "--json", str(tmp_path / "fine.crt")], capture_output=True
    )
    assert json.loads(report.stdout)["certificates"][0]["problems"] == []
