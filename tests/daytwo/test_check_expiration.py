"""`tfext check-expiration`: kubeadm's table, judged against an injected clock (`TFEXT_NOW`), from a
directory of PEM files, a PEM file, a state file or `terraform state pull` on stdin; non-zero exit when
something needs renewing; never a key, never a traceback."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tfext.tools import clock
from tfext.verify import TimeStatus, time_status

from ._helpers import (
    T0,
    Pair,
    capture_resource,
    key_body_lines,
    make_cert,
    state,
    tfext,
    verify_resource,
)


def at(days: float) -> str:
    """TFEXT_NOW `days` after the made-up certificates start."""
    return clock.rfc3339(T0 + dt.timedelta(days=days))


@pytest.fixture
def pki() -> dict[str, Pair]:
    ca = make_cert("kube-ca", ca=True, days=3650)
    return {
        "ca": ca,
        "apiserver": make_cert("kube-apiserver", ca, days=365, sans=("kubernetes",)),
        "kubelet": make_cert("kubelet", ca, days=20, server=False),  # inside a 720-hour window
    }


@pytest.fixture
def asset_dir(tmp_path, pki):
    """A write-assets-like directory: certificates, a key, and a hidden temporary file to be ignored."""
    d = tmp_path / "tls"
    d.mkdir()
    (d / "ca.crt").write_text(pki["ca"].cert_pem)
    (d / "apiserver.crt").write_text(pki["apiserver"].cert_pem)
    (d / "apiserver.key").write_text(pki["apiserver"].key_pem)
    (d / "kubelet.crt").write_text(pki["kubelet"].cert_pem)
    (d / ".kubelet.crt.x1y2.tmp").write_text("half a file")
    return d


def rows(table: str) -> dict[str, list[str]]:
    """Table lines by their first cell (cells are separated by 3+ spaces)."""
    import re

    return {cells[0]: cells for line in table.splitlines() if (cells := re.split(r"\s{3,}", line.strip()))}


def test_table_has_kubeadm_columns_with_cas_in_their_own_table(cli, asset_dir):
    run = cli("check-expiration", str(asset_dir), now=at(1))
    lines = run.out.splitlines()
    assert lines[0].split()[:1] == ["CERTIFICATE"]
    for column in ("EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "STATUS"):
        assert column in lines[0]
    table = rows(run.out)
    assert table["apiserver.crt"][1:] == ["Jan 01, 2031 00:00 UTC", "364d", "ca.crt", "valid"]
    assert table["kubelet.crt"][1:] == ["Jan 21, 2030 00:00 UTC", "19d", "ca.crt", "renew"]
    ca_header = next(line for line in lines if line.startswith("CERTIFICATE AUTHORITY"))
    assert lines.index(ca_header) > lines.index(
        next(line for line in lines if line.startswith("kubelet.crt"))
    )
    assert table["ca.crt"][1:] == ["Dec 30, 2039 00:00 UTC", "9y", "(self)", "valid"]
    assert not any(".tmp" in line for line in lines), "hidden temporary files are not certificates"


def test_exit_status_is_1_when_something_is_inside_the_window_and_0_otherwise(cli, asset_dir):
    assert cli("check-expiration", str(asset_dir), now=at(1)).code == 1  # kubelet: 19 days < 720 hours
    assert cli("check-expiration", str(asset_dir), "--window-hours", str(18 * 24), now=at(1)).code == 0
    run = cli("check-expiration", str(asset_dir), now=at(1))
    assert "1 of 3 certificates need attention" in run.out and "kubelet.crt" in run.out.splitlines()[-1]


def test_the_injected_clock_moves_the_verdict_without_waiting(cli, asset_dir):
    verdicts = {}
    for days in (-1, 1, 30, 400):
        report = json.loads(cli("check-expiration", str(asset_dir), "--json", now=at(days)).out)
        verdicts[days] = {c["name"]: c["status"] for c in report["certificates"]}
    assert verdicts[-1]["apiserver.crt"] == "not yet valid"
    assert verdicts[1] == {"apiserver.crt": "valid", "ca.crt": "valid", "kubelet.crt": "renew"}
    assert verdicts[30]["kubelet.crt"] == "expired"
    assert verdicts[400] == {"apiserver.crt": "expired", "ca.crt": "valid", "kubelet.crt": "expired"}
    table = rows(cli("check-expiration", str(asset_dir), now=at(400)).out)
    assert table["apiserver.crt"][2] == "<expired>"


def test_status_boundaries_count_not_before_and_not_after_as_valid_as_rfc_5280_and_go_do():
    cert = make_cert("b", days=10).cert
    start, end, window = cert.not_valid_before_utc, cert.not_valid_after_utc, dt.timedelta(hours=24)
    assert time_status(cert, end - dt.timedelta(hours=24, seconds=1), window) is TimeStatus.VALID
    assert time_status(cert, end - dt.timedelta(hours=24), window) is TimeStatus.RENEW
    assert time_status(cert, end, window) is TimeStatus.RENEW
    assert time_status(cert, end + dt.timedelta(seconds=1), window) is TimeStatus.EXPIRED
    assert time_status(cert, start, window) is TimeStatus.VALID
    assert time_status(cert, start - dt.timedelta(seconds=1), window) is TimeStatus.NOT_YET_VALID


def test_json_report_carries_exact_times_and_the_verdict(cli, asset_dir, pki):
    report = json.loads(cli("check-expiration", str(asset_dir), "--json", now=at(1)).out)
    assert report["now"] == "2030-01-02T00:00:00Z" and report["window_hours"] == 720 and report["ok"] is False
    kubelet = next(c for c in report["certificates"] if c["name"] == "kubelet.crt")
    assert kubelet == {
        "name": "kubelet.crt",
        "aliases": [],
        "subject": "CN=kubelet",
        "is_ca": False,
        "certificate_authority": "ca.crt",
        "not_before": "2030-01-01T00:00:00Z",
        "not_after": "2030-01-21T00:00:00Z",
        "residual_seconds": 19 * 86400,
        "residual": "19d",
        "status": "renew",
        "serial": openssl_serial(pki["kubelet"].cert.serial_number),
        "sha256_fingerprint": pki["kubelet"].fingerprint,
    }


def openssl_serial(serial: int) -> str:
    """A serial as `openssl x509 -serial` prints it: upper-case hex, two digits a byte."""
    digits = f"{serial:X}"
    return digits.zfill(len(digits) + len(digits) % 2)


def kube_state(pki: dict[str, Pair]) -> dict:
    """Our modules' state: the kube CA captured in module.ca, its leaves in module.certs, plus outputs."""
    return state(
        capture_resource("module.kube_certs.module.ca", {"ca": pki["ca"]}),
        capture_resource(
            "module.kube_certs.module.certs", {"apiserver": pki["apiserver"], "kubelet": pki["kubelet"]}
        ),
        outputs={"kube_certs_ca_cert_pem": {"value": pki["ca"].cert_pem, "type": "string"}},
    )


def test_state_file_and_state_pull_on_stdin_name_certificates_as_the_certificates_output_does(
    cli, tmp_path, pki
):
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(kube_state(pki)))
    from_file = cli("check-expiration", str(path), "--json", now=at(1))
    from_stdin = cli("check-expiration", "-", "--json", stdin=path.read_text(), now=at(1))
    assert from_file.out == from_stdin.out
    report = {c["name"]: c for c in json.loads(from_file.out)["certificates"]}
    assert set(report) == {"kube/ca", "kube/apiserver", "kube/kubelet"}
    assert report["kube/apiserver"]["certificate_authority"] == "kube/ca"


def test_a_ca_passed_on_to_identity_is_still_named_after_the_kube_module(cli, tmp_path, pki):
    # User-provided flavors keep certificates only in their data source results; identity's `ca` is the
    # kube CA it was given, so the name comes from kube even though "identity" sorts first.
    identity = make_cert("tectonic-identity-api", pki["ca"])
    doc = state(
        verify_resource(
            "module.identity_certs.module.given",
            "identity-user-provided",
            {"ca": pki["ca"], "server": identity},
        ),
        verify_resource(
            "module.kube_certs.module.given",
            "kube-user-provided",
            {"ca": pki["ca"], "apiserver": pki["apiserver"]},
        ),
    )
    report = json.loads(cli("check-expiration", "-", "--json", stdin=json.dumps(doc), now=at(1)).out)
    names = {c["name"]: c for c in report["certificates"]}
    assert set(names) == {"kube/ca", "kube/apiserver", "identity/server"}
    assert names["kube/ca"]["aliases"] == ["identity/ca"]
    assert names["identity/server"]["certificate_authority"] == "kube/ca"


def test_private_keys_in_the_state_never_reach_the_output(cli, pki):
    doc = json.dumps(kube_state(pki))
    for args in ((), ("--json",)):
        run = cli("check-expiration", "-", *args, stdin=doc, now=at(1))
        for pair in pki.values():
            assert not any(line in run.out + run.err for line in key_body_lines(pair.key_pem))


def test_a_single_pem_file_and_terraform_output_json_are_accepted(cli, tmp_path, pki):
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(pki["ca"].cert_pem + pki["apiserver"].cert_pem)
    names = {
        c["name"]
        for c in json.loads(cli("check-expiration", str(bundle), "--json", now=at(1)).out)["certificates"]
    }
    assert names == {"bundle.pem[0]", "bundle.pem[1]"}
    outputs = {"kube_certs_ca_cert_pem": {"sensitive": False, "type": "string", "value": pki["ca"].cert_pem}}
    run = cli("check-expiration", "-", "--json", stdin=json.dumps(outputs), now=at(1))
    assert [c["name"] for c in json.loads(run.out)["certificates"]] == ["kube/ca"]


@pytest.mark.parametrize(
    ("args", "stdin", "now", "message"),
    [
        (("/nonexistent/tls",), "", None, "/nonexistent/tls: no such file or directory"),
        (("-",), "not json", None, "stdin: not JSON"),
        (("-",), "", None, "stdin: empty"),
        (("-",), "{}", None, "TFEXT-E070 stdin: no certificate of a tfext module found; expected"),
        (("-",), "{}", "yesterday", "TFEXT_NOW='yesterday' is not an RFC 3339 time"),
        (("-", "--window-hours", "-1"), "{}", None, "--window-hours must not be negative"),
    ],
)
def test_unusable_input_exits_2_with_one_clear_line(cli, args, stdin, now, message):
    run = cli("check-expiration", *args, stdin=stdin, now=now)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err and run.out == ""


def test_a_damaged_certificate_is_a_row_with_its_code_not_a_dump(tmp_path):
    bad = tmp_path / "tls"
    bad.mkdir()
    (bad / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    proc = tfext("check-expiration", str(bad))  # the console script, as users run it
    assert proc.returncode == 1 and proc.stderr == ""
    rows = proc.stdout.splitlines()
    assert rows[0].split() == ["UNUSABLE", "CERTIFICATE", "PROBLEM"]
    assert rows[1].split(None, 1) == [
        "ca.crt",
        "TFEXT-E023 a CERTIFICATE block cannot be parsed (damaged or truncated)",
    ]


def test_json_serials_are_as_openssl_prints_them(cli, tmp_path):
    import subprocess

    from harness import require

    ca = make_cert("kube-ca", ca=True, days=3650, serial=0x06F33F6A)
    (tmp_path / "ca.crt").write_text(ca.cert_pem)
    printed = subprocess.run(
        [require("openssl"), "x509", "-noout", "-serial", "-in", str(tmp_path / "ca.crt")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    report = json.loads(cli("check-expiration", str(tmp_path), "--json", now=at(1)).out)
    assert printed == f"serial={report['certificates'][0]['serial']}\n" == "serial=06F33F6A\n"


# --- no SOURCE: the state of the root module here, as kubeadm needs no argument (issue 23) --------------


def fake_terraform(bin_dir, script: str) -> str:
    """A `terraform` on PATH that runs `script` for `terraform state pull` (and fails for anything else);
    returns the PATH holding it first."""
    import os

    bin_dir.mkdir(exist_ok=True)
    stub = bin_dir / "terraform"
    stub.write_text(f'#!/bin/sh\n[ "$1 $2" = "state pull" ] || exit 9\n{script}\n')
    stub.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def test_without_source_the_local_state_file_is_read_and_said(cli, tmp_path, pki, monkeypatch):
    (tmp_path / "terraform.tfstate").write_text(json.dumps(kube_state(pki)))
    monkeypatch.chdir(tmp_path)
    here = cli("check-expiration", "--json", now=at(1))
    given = cli("check-expiration", "terraform.tfstate", "--json", now=at(1))
    assert here.out == given.out and here.code == given.code == 1
    assert here.err == f"tfext check-expiration: no SOURCE given: reading {tmp_path / 'terraform.tfstate'}\n"


def test_without_source_in_a_root_module_terraform_state_pull_is_read(cli, tmp_path, pki, monkeypatch):
    pulled = tmp_path / "pulled.json"
    pulled.write_text(json.dumps(kube_state(pki)))
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text("# a root module\n")
    (root / "terraform.tfstate").write_text("{}")  # not read: `terraform state pull` is the truth
    monkeypatch.chdir(root)
    path = fake_terraform(tmp_path / "bin", f"cat {pulled}")
    run = cli("check-expiration", env={"PATH": path}, now=at(1))
    assert run.code == 1, run.err
    assert (
        run.err.splitlines()[0]
        == f"tfext check-expiration: no SOURCE given: reading `terraform state pull` in {root}"
    )
    assert run.out == cli("check-expiration", str(pulled), now=at(1)).out
    for pair in pki.values():
        assert not any(line in run.out + run.err for line in key_body_lines(pair.key_pem))


def test_without_source_and_without_terraform_on_path_the_local_state_file_is_read(
    cli, tmp_path, pki, monkeypatch
):
    (tmp_path / "main.tf").write_text("# a root module\n")
    (tmp_path / "terraform.tfstate").write_text(json.dumps(kube_state(pki)))
    monkeypatch.chdir(tmp_path)
    run = cli("check-expiration", env={"PATH": str(tmp_path / "nothing")}, now=at(1))
    assert run.code == 1 and "kube/apiserver" in run.out
    assert "reading" in run.err and "terraform.tfstate (terraform is not on PATH)" in run.err


@pytest.mark.parametrize(
    ("files", "script", "message"),
    [
        ((), None, "TFEXT-E097 {dir}: no SOURCE given, and this is no root module's directory: no *.tf file"),
        (
            ("main.tf",),
            None,
            "TFEXT-E097 {dir}: this directory holds a Terraform configuration, but terraform is not on PATH",
        ),
        (
            ("main.tf",),
            "true",
            "TFEXT-E097 terraform state pull in {dir}: printed no state: this root module (or its selected "
            "workspace) has not been applied yet",
        ),
        (
            (".terraform/",),
            r"printf '\033[31m╷\n│ \033[1mError: \033[0mBackend initialization required, please run "
            '"terraform init"\\n╵\\n\' >&2; exit 1',
            "TFEXT-E098 terraform state pull: exited 1: Error: Backend initialization required, please run "
            '"terraform init"; run `terraform state pull` here to see why',
        ),
    ],
)
def test_without_source_and_no_state_here_one_coded_line_says_what_was_looked_for(
    cli, tmp_path, monkeypatch, files, script, message
):
    root = tmp_path / "root"
    root.mkdir()
    for name in files:
        (root / name).mkdir() if name.endswith("/") else (root / name).write_text("")
    monkeypatch.chdir(root)
    path = fake_terraform(tmp_path / "bin", script) if script else str(tmp_path / "nothing")
    run = cli("check-expiration", "--json", env={"PATH": path})
    assert run.code == 2 and run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tfext check-expiration: " + message.format(dir=root)), (
        run.err
    )
    assert "give a SOURCE" in run.err and "\x1b" not in run.err


def test_a_state_pull_that_hangs_or_floods_is_stopped(cli, tmp_path, monkeypatch):
    from tfext.tools import expiration, rootstate

    (tmp_path / "main.tf").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(rootstate, "PULL_TIMEOUT", 1)
    hangs = fake_terraform(tmp_path / "hangs", "exec sleep 30")
    run = cli("check-expiration", env={"PATH": hangs})
    assert run.code == 2 and "TFEXT-E098 terraform state pull: did not finish within 1 seconds" in run.err
    assert run.seconds < 10
    monkeypatch.setattr(expiration, "MAX_STATE_BYTES", 1 << 20)
    floods = fake_terraform(tmp_path / "floods", "exec yes '{}'")
    run = cli("check-expiration", env={"PATH": floods})
    assert run.code == 2 and "TFEXT-E008 terraform state pull: more than 1 MiB; not read further" in run.err
