"""No key material in any message, and keys on disk only with mode 0600.

Private keys are fed into every failure path: as the value of every query key of every program (a path, a
PEM input, a list item, an enum, a URL), as a file where a certificate belongs, inside an exception - and
the output is searched for any fragment of them.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tfext import protocol
from tfext.errors import Code, TfextError, redact
from tfext.programs import PROGRAMS, handler
from tfext.programs.inputs import certificate_inputs, json_list, options

from ._kit import TFEXT, USER_PROVIDED, Kit, assert_no_leak, good_set, key_pem, run_tfext

TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL


@pytest.fixture(scope="module")
def secrets() -> dict[str, str]:
    """Private keys in the forms users hold them."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_pem = key_pem(ec.generate_private_key(ec.SECP256R1()), TRADITIONAL)
    body = "".join(line for line in ec_pem.splitlines() if not line.startswith("-----"))
    return {
        "ec_sec1": ec_pem,
        "rsa_pkcs1": key_pem(rsa_key, TRADITIONAL),
        "ed25519_pkcs8": key_pem(ed25519.Ed25519PrivateKey.generate()),
        "encrypted_pkcs8": key_pem(rsa_key, password=b"hunter2"),
        "base64_body_on_one_line": body,
    }


@pytest.fixture(scope="module")
def good_queries(tmp_path_factory) -> dict[str, dict[str, str]]:
    root = tmp_path_factory.mktemp("secrets")
    queries = {p: Kit.create(good_set(p), root / p).query for p in USER_PROVIDED}
    return {p: queries.get(p, {}) for p in PROGRAMS}


def _run(program: str, query: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin = io.BytesIO(json.dumps(query).encode())
    return (
        protocol.run(program, handler(program), stdin=stdin, stdout=out, stderr=err),
        out.getvalue(),
        err.getvalue(),
    )


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_a_private_key_in_any_query_value_never_reaches_stderr(program, secrets, good_queries):
    keys = sorted(protocol.load_schema(program)["properties"])
    for name in keys:
        for form, pem in secrets.items():
            values = [pem, json.dumps([pem]), json.dumps(["ok.example.com", pem])]
            for value in values:
                query = {**good_queries[program], name: value}
                code, out, err = _run(program, query)
                where = f"{program} {name}={form}: exit {code}"
                assert code in (0, 1), where
                assert_no_leak(err, [pem], where)
                if code == 1:
                    assert len(out) == 0, where


@pytest.mark.parametrize("program", USER_PROVIDED)
def test_a_private_key_as_an_unknown_key_name_is_not_echoed(program, secrets, good_queries):
    code, out, err = _run(program, {**good_queries[program], secrets["ec_sec1"]: "x"})
    assert code == 1 and len(out) == 0 and Code.UNKNOWN_KEY.tag in redact(err)
    assert_no_leak(err, [secrets["ec_sec1"]])


def test_a_private_key_file_given_as_every_certificate_is_rejected_without_echo(secrets, tmp_path):
    kit = Kit.create(good_set("etcd-user-provided"), tmp_path)
    (tmp_path / "stray.key").write_text(secrets["rsa_pkcs1"] + secrets["ec_sec1"])
    for slot in ("ca", "server", "peer", "client"):
        kit.point(slot, "cert", str(tmp_path / "stray.key"))
    outcome = run_tfext(
        "etcd-user-provided", json.dumps(kit.query), [secrets["rsa_pkcs1"], secrets["ec_sec1"]]
    )
    assert outcome.returncode == 1 and len(outcome.stdout) == 0
    assert Code.NOT_PEM.tag in redact(outcome.stderr) and outcome.leaked == 0


def test_openssl_text_dump_of_a_key_as_a_certificate_is_rejected_without_echo(secrets, tmp_path):
    """`openssl pkey -text` prints the key in PEM and as colon-separated hex: neither may be echoed."""
    from harness import require

    dump = tmp_path / "key.txt"
    key_file = tmp_path / "k.pem"
    key_file.write_text(secrets["rsa_pkcs1"])
    subprocess.run([require("openssl"), "pkey", "-in", key_file, "-text", "-out", dump], check=True)
    kit = Kit.create(good_set("ingress-user-provided"), tmp_path / "kit")
    kit.point("ingress", "cert", str(dump))
    outcome = run_tfext("ingress-user-provided", json.dumps(kit.query), [secrets["rsa_pkcs1"]])
    assert outcome.returncode == 1 and Code.NOT_PEM.tag in redact(outcome.stderr)
    assert outcome.leaked == 0 and "00:" not in redact(outcome.stderr)


def test_an_unexpected_exception_carrying_a_key_prints_only_its_type(secrets, monkeypatch):
    monkeypatch.delenv("TFEXT_DEBUG", raising=False)

    def broken(query):
        raise ValueError(secrets["ec_sec1"])

    out, err = io.StringIO(), io.StringIO()
    code = protocol.run("kube-self-signed", broken, stdin=io.BytesIO(b"{}"), stdout=out, stderr=err)
    assert code == 70 and len(out.getvalue()) == 0
    assert Code.INTERNAL.tag in redact(err.getvalue()) and "ValueError" in redact(err.getvalue())
    assert_no_leak(err.getvalue(), [secrets["ec_sec1"]])


def test_exception_texts_of_the_input_parsers_hold_no_key(secrets):
    pem = secrets["ec_sec1"]
    for query in (
        {"dns_names": json.dumps([pem])},
        {"ip_addresses": json.dumps([pem])},
        {"service_cidr": pem},
        {"kube_apiserver_url": pem},
        {"base_address": pem},
        {"identity_dns_names": json.dumps(["a", pem])},
    ):
        with pytest.raises(TfextError) as info:
            certificate_inputs(query, 20)
        assert_no_leak(str(info.value) + repr(info.value.args), [pem])
    for query in (
        {"validity_period": pem},
        {"key_algorithm": pem},
        {"renewal_window_hours": secrets["base64_body_on_one_line"]},
    ):
        with pytest.raises(TfextError) as info:
            options(query)
        assert_no_leak(str(info.value), list(secrets.values()))
    with pytest.raises(TfextError) as info:
        json_list({"dns_names": pem}, "dns_names")
    assert_no_leak(str(info.value), [pem])


# --- keys on disk ---------------------------------------------------------------------------------


def _write_assets(outputs: dict[str, str], directory, umask: int) -> subprocess.CompletedProcess:
    doc = json.dumps(
        {name: {"value": value, "sensitive": name.endswith("key_pem")} for name, value in outputs.items()}
    )
    old = os.umask(umask)
    try:
        return subprocess.run(
            [TFEXT, "write-assets", str(directory)], input=doc.encode(), capture_output=True, timeout=30
        )
    finally:
        os.umask(old)


def _ca_cert_pem(key_text: str | None = None) -> str:
    """A real CA certificate (write-assets checks content against its role): for `key_text` when given
    (write-assets also checks that a key is its certificate's), else for a new key."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from tfext import issue, keys, profiles

    if key_text is None:
        cert = issue.issue(
            profiles.KUBE_CA, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=24, issuer=None
        ).cert
    else:
        key = keys.load_private_key(key_text, "test key")
        cert = issue.sign(
            profiles.KUBE_CA, profiles.Inputs(), key.public_key(), validity_hours=24, issuer=None, own_key=key
        )
    return cert.public_bytes(Encoding.PEM).decode()


def test_write_assets_writes_keys_0600_and_certificates_0644_whatever_the_umask(secrets, tmp_path):
    outputs = {
        "kube_certs_ca_cert_pem": _ca_cert_pem(secrets["ec_sec1"]),
        "kube_certs_ca_key_pem": secrets["ec_sec1"],
        "etcd_certs_etcd_server_key_pem": secrets["rsa_pkcs1"],
        "etcd_certs_etcd_server_crt_pem": _ca_cert_pem(
            secrets["rsa_pkcs1"]
        ),  # keys go beside their certificate
    }
    target = tmp_path / "generated" / "tls"
    target.mkdir(parents=True)
    (target / "ca.key").write_text("old, world-readable")
    (target / "ca.key").chmod(0o666)
    proc = _write_assets(outputs, target, umask=0)
    assert proc.returncode == 0, redact(proc.stderr.decode()[-500:])
    modes = {
        p.relative_to(target).as_posix(): stat.S_IMODE(p.stat().st_mode)
        for p in target.rglob("*")
        if p.is_file()
    }
    assert modes == {"ca.crt": 0o644, "ca.key": 0o600, "etcd/server.crt": 0o644, "etcd/server.key": 0o600}
    assert (target / "ca.key").read_text() == secrets["ec_sec1"]
    assert_no_leak(proc.stdout.decode() + proc.stderr.decode(), list(secrets.values()))


def test_write_assets_refuses_a_key_without_its_certificate_and_writes_nothing(secrets, tmp_path):
    target = tmp_path / "tls"
    target.mkdir()
    alone = {"kube_certs_ca_cert_pem": _ca_cert_pem(), "kube_certs_apiserver_key_pem": secrets["rsa_pkcs1"]}
    proc = _write_assets(alone, target, umask=0o022)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and "TFEXT-E064" in err and "without its certificate" in err
    assert list(target.iterdir()) == []
    # A key with no certificate of any module beside it: nothing to place it by, and it says what it expected.
    proc = _write_assets({"etcd_certs_etcd_server_key_pem": secrets["rsa_pkcs1"]}, target, umask=0o022)
    assert proc.returncode == 2 and "TFEXT-E070" in proc.stderr.decode()
    assert list(target.iterdir()) == []
    assert_no_leak(err + proc.stdout.decode() + proc.stderr.decode(), list(secrets.values()))
