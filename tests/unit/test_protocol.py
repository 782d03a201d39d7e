"""The external data source protocol, end to end: programs run as Terraform runs them, as subprocesses."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from tfext import certinfo, issue, keys, profiles, protocol
from tfext.errors import Code
from tfext.programs import MODULES, PROGRAMS

from ._pki import cert_pem, digest, leaked_lines, pem_header, redact

T0 = "2030-01-01T00:00:00Z"
T1 = "2030-01-01T00:05:00Z"
WRAPPER = (
    "import sys\n"
    "from tfext.__main__ import main\n"
    "rc = main(sys.argv[1:])\n"
    "sys.exit(99 if 'cryptography' in sys.modules else rc)\n"
)
CRYPTOGRAPHY_IMPORTED = 99


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TFEXT_DEBUG", None)
    return env


def run_tfext(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfext", *args], input=stdin, capture_output=True, timeout=120, env=_env()
    )


def run_gated(program: str, query: dict) -> subprocess.CompletedProcess:
    """Run a program through a wrapper that exits 99 if cryptography got imported."""
    return subprocess.run(
        [sys.executable, "-c", WRAPPER, program],
        input=json.dumps(query).encode(),
        capture_output=True,
        timeout=120,
        env=_env(),
    )


def assert_one_clear_error(
    result: subprocess.CompletedProcess, program: str, code: Code, secret: str = ""
) -> str:
    """Non-zero exit, nothing on stdout, exactly one message line on stderr, with the code's tag.

    With `secret` (key text that went in), first checks none of it came out, then asserts on redacted text.
    """
    raw = result.stderr.decode("utf-8")
    if secret:
        assert leaked_lines(secret, raw + result.stdout.decode("utf-8", "replace")) == 0, (
            "key material leaked"
        )
    stderr = redact(raw, secret) if secret else raw
    assert result.returncode == 1, stderr
    stdout_bytes = len(result.stdout)
    assert stdout_bytes == 0, "something was printed on stdout"
    assert "Traceback" not in stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"tfext {program}: TFEXT-E0")
    assert stderr.startswith(f"tfext {program}: {code.tag} "), stderr
    return stderr


def result_object(result: subprocess.CompletedProcess) -> dict[str, str]:
    """Exit 0, nothing on stderr, stdout exactly one JSON object of strings."""
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    value = json.loads(result.stdout)  # raises on trailing garbage ("Extra data")
    assert isinstance(value, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    return value


@pytest.fixture(scope="module")
def kube_ca():
    pair = issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=24 * 30, issuer=None
    )
    return pair, cert_pem(pair.cert), keys.to_pem(pair.key)


# --- bad stdin ----------------------------------------------------------------------------------------------

USER_PROVIDED_ETCD = {
    "ca_cert_path": "/tmp/ca.pem",
    "server_cert_path": "/tmp/s.pem",
    "server_key_path": "/tmp/s.key",
    "peer_cert_path": "/tmp/p.pem",
    "peer_key_path": "/tmp/p.key",
    "client_cert_path": "/tmp/c.pem",
}

BAD_STDIN = [
    pytest.param("kube-self-signed", b"nope", Code.NOT_JSON, id="not-json"),
    pytest.param("kube-self-signed", b'{"service_cidr": "10.3.0.0/16"', Code.NOT_JSON, id="truncated-json"),
    pytest.param("kube-self-signed", b'{"a": "b"} {"c": "d"}', Code.NOT_JSON, id="two-documents"),
    pytest.param("kube-self-signed", b"[]", Code.NOT_AN_OBJECT, id="array"),
    pytest.param("kube-self-signed", b"5", Code.NOT_AN_OBJECT, id="number"),
    pytest.param("kube-self-signed", b"null", Code.NOT_AN_OBJECT, id="null"),
    pytest.param("kube-self-signed", b'"text"', Code.NOT_AN_OBJECT, id="string"),
    pytest.param("kube-self-signed", b'{"service_cidr": 5}', Code.NOT_A_STRING, id="number-value"),
    pytest.param("kube-self-signed", b'{"dns_names": ["a.example.com"]}', Code.NOT_A_STRING, id="list-value"),
    pytest.param("ingress-self-signed", b'{"base_address": true}', Code.NOT_A_STRING, id="bool-value"),
    pytest.param("kube-self-signed", b'{"service_cidr": null}', Code.NOT_A_STRING, id="null-value"),
    pytest.param(
        "etcd-user-provided", json.dumps(USER_PROVIDED_ETCD).encode(), Code.MISSING_KEY, id="missing-required"
    ),
    pytest.param(
        "kube-self-signed",
        json.dumps({"ca_issued_at": T0}).encode(),
        Code.MISSING_KEY,
        id="missing-dependent",
    ),
    pytest.param("kube-self-signed", b'{"bogus_key": "x"}', Code.UNKNOWN_KEY, id="unknown-key"),
    pytest.param("kube-self-signed", b"", Code.EMPTY_INPUT, id="empty"),
    pytest.param("kube-self-signed", b" \n\t ", Code.EMPTY_INPUT, id="whitespace"),
    pytest.param("kube-self-signed", b'{"service_cidr": "10.3.\xff"}', Code.NOT_UTF8, id="invalid-utf8"),
    pytest.param(
        "kube-self-signed",
        b'{"dns_names": "' + b"a" * protocol.MAX_INPUT_BYTES + b'"}',
        Code.INPUT_TOO_LARGE,
        id="too-large",
    ),
    pytest.param("kube-self-signed", b'{"key_algorithm": "RSA-1"}', Code.INVALID_VALUE, id="unknown-enum"),
    pytest.param("etcd-signed", b'{"validity_period": "-5"}', Code.INVALID_VALUE, id="bad-hours"),
    pytest.param("kube-self-signed", b'{"service_cidr": "not-a-cidr"}', Code.INVALID_ADDRESS, id="bad-cidr"),
]


@pytest.mark.parametrize(("program", "stdin", "code"), BAD_STDIN)
def test_bad_stdin_gives_one_clear_error_and_no_output(program, stdin, code):
    assert_one_clear_error(run_tfext(program, stdin=stdin), program, code)


def test_unknown_key_message_names_the_key():
    stderr = assert_one_clear_error(
        run_tfext("kube-self-signed", stdin=b'{"bogus_key": "x"}'), "kube-self-signed", Code.UNKNOWN_KEY
    )
    assert "bogus_key" in stderr


def test_missing_required_key_message_names_the_key():
    stderr = assert_one_clear_error(
        run_tfext("etcd-user-provided", stdin=json.dumps(USER_PROVIDED_ETCD).encode()),
        "etcd-user-provided",
        Code.MISSING_KEY,
    )
    assert "client_key_path" in stderr


def test_unknown_enum_message_names_the_key_and_the_allowed_values():
    stderr = assert_one_clear_error(
        run_tfext("kube-self-signed", stdin=b'{"key_algorithm": "RSA-1"}'),
        "kube-self-signed",
        Code.INVALID_VALUE,
    )
    assert "key_algorithm" in stderr and "'RSA-1'" in stderr and "ECDSA-P256" in stderr


def test_a_private_key_pasted_into_the_wrong_field_is_not_echoed(kube_ca):
    _, _, key_text = kube_ca
    stdin = json.dumps({"key_format": key_text}).encode()
    result = run_tfext("kube-self-signed", stdin=stdin)
    stderr = assert_one_clear_error(result, "kube-self-signed", Code.INVALID_VALUE, secret=key_text)
    assert "PRIVATE KEY" not in stderr
    assert "key_format" in stderr


def test_several_query_problems_are_reported_in_one_message():
    stdin = json.dumps({"bogus": "x", "key_algorithm": "RSA-1", "service_cidr": 5}).encode()
    result = run_tfext("kube-self-signed", stdin=stdin)
    stderr = result.stderr.decode()
    assert result.returncode == 1 and result.stdout == b""
    assert stderr.startswith("tfext kube-self-signed: 3 problems found:\n")
    tags = [line.split()[1] for line in stderr.splitlines()[1:]]
    assert (
        tags == sorted(tags) == sorted([Code.NOT_A_STRING.tag, Code.UNKNOWN_KEY.tag, Code.INVALID_VALUE.tag])
    )


def test_deeply_nested_json_is_a_user_error_not_an_internal_one():
    result = run_tfext("kube-self-signed", stdin=b"[" * 100_000 + b"]" * 100_000)
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert stderr.startswith(("tfext kube-self-signed: TFEXT-E002", "tfext kube-self-signed: TFEXT-E003"))


# --- good stdin ---------------------------------------------------------------------------------------------


def test_kube_self_signed_issues_with_defaults_and_prints_one_json_object_of_strings():
    query = {
        "plan_time": T0,
        "ca_issued_at": T0,
        "apiserver_issued_at": T0,
        "kubelet_issued_at": T0,
        "kube_apiserver_url": "https://api.example.com:443",
        "service_cidr": "10.3.0.0/16",
    }
    result = result_object(run_tfext("kube-self-signed", stdin=json.dumps(query).encode()))
    expected = {
        f"{s}_{k}"
        for s in ("ca", "apiserver", "kubelet")
        for k in ("cert_pem", "key_pem", "key_path", "info")
    } | {"ca_key_alg"}
    assert set(result) == expected
    assert result["ca_key_alg"] == "RSA"  # the default algorithm, RSA-2048
    assert pem_header(result["apiserver_key_pem"]) == "-----BEGIN RSA PRIVATE KEY-----"
    assert certinfo.facts_of(result["apiserver_info"])["sans"][:1] == ["DNS:api.example.com"]


def test_an_empty_object_is_a_valid_query_that_yields_an_empty_result():
    assert result_object(run_tfext("kube-self-signed", stdin=b"{}")) == {}


def test_list_shows_all_eight_programs():
    result = run_tfext("--list")
    assert result.returncode == 0 and result.stderr == b""
    listed = [line.split()[0] for line in result.stdout.decode().splitlines() if line.strip()]
    assert sorted(listed) == sorted(PROGRAMS)
    assert len(PROGRAMS) == 8


def test_an_unknown_program_exits_2_with_a_message():
    result = run_tfext("etcd-self-signed", stdin=b"{}")
    assert result.returncode == 2
    assert result.stdout == b""
    assert "etcd-self-signed" in result.stderr.decode() and "--list" in result.stderr.decode()


def test_a_program_given_arguments_exits_2():
    result = run_tfext("kube-self-signed", "--verbose", stdin=b"{}")
    assert result.returncode == 2 and result.stdout == b""
    assert "takes no arguments" in result.stderr.decode()


# --- the issue-time gate ------------------------------------------------------------------------------------


def _gated_query(program: str, issued_at: str, ca_pems: tuple[str, str]) -> dict:
    module = MODULES[PROGRAMS[program]]
    schema = protocol.load_schema(program)
    query = {"plan_time": T1}
    for slot in module.slots:
        if f"{slot.name}_issued_at" in schema["properties"]:
            query[f"{slot.name}_issued_at"] = issued_at
    if "ca_issued_at" not in query:  # identity and ingress sign with a given CA
        query["ca_cert_pem"], query["ca_key_pem"] = ca_pems
    if program == "ingress-self-signed":
        query["base_address"] = "console.example.com"
    return query


SELF_SIGNED = [p for p in PROGRAMS if not p.endswith("user-provided")]


@pytest.mark.parametrize("program", SELF_SIGNED)
def test_gate_closed_gives_placeholders_without_importing_cryptography(program, kube_ca):
    _, ca_text, key_text = kube_ca
    query = _gated_query(program, T0, (ca_text, key_text))
    result = run_gated(program, query)
    assert result.returncode != CRYPTOGRAPHY_IMPORTED, "cryptography was imported for a placeholder answer"
    values = result_object(result)
    gated = [k[: -len("_issued_at")] for k in query if k.endswith("_issued_at")]
    expected = {f"{s}_{k}" for s in gated for k in ("cert_pem", "key_pem", "key_path", "info")}
    if "ca" in gated:
        expected.add("ca_key_alg")
    assert set(values) == expected
    assert {digest(v) for v in values.values()} == {digest("")}


@pytest.mark.parametrize("program", SELF_SIGNED)
def test_gate_open_issues_and_the_wrapper_sees_cryptography(program, kube_ca):
    _, ca_text, key_text = kube_ca
    query = _gated_query(program, T1, (ca_text, key_text)) | {"key_algorithm": "ECDSA-P256"}
    result = run_gated(program, query)
    # the positive control of the check above: issuing does import cryptography
    assert result.returncode == CRYPTOGRAPHY_IMPORTED, result.stderr.decode()
    values = result_object(run_tfext(program, stdin=json.dumps(query).encode()))
    cert_keys = [k for k in values if k.endswith("_cert_pem")]
    assert cert_keys
    for k in cert_keys:
        assert pem_header(values[k]) == "-----BEGIN CERTIFICATE-----"
        assert pem_header(values[k.replace("_cert_pem", "_key_pem")]) == "-----BEGIN EC PRIVATE KEY-----"


def test_gate_open_for_leaves_only_signs_them_with_the_given_ca(kube_ca):
    ca, ca_text, key_text = kube_ca
    query = {
        "plan_time": T1,
        "ca_issued_at": T0,
        "apiserver_issued_at": T1,
        "kubelet_issued_at": T0,
        "ca_cert_pem": ca_text,
        "ca_key_pem": key_text,
        "key_algorithm": "ECDSA-P256",
    }
    values = result_object(run_tfext("kube-self-signed", stdin=json.dumps(query).encode()))
    assert values["ca_cert_pem"] == values["kubelet_cert_pem"] == ""
    from cryptography import x509

    x509.load_pem_x509_certificate(values["apiserver_cert_pem"].encode()).verify_directly_issued_by(ca.cert)


def test_gate_closed_still_rejects_a_bad_input_in_the_plan_that_introduces_it():
    query = {"plan_time": T1, "ca_issued_at": T0, "service_cidr": "10.3.0.0/99"}
    result = run_gated("kube-self-signed", query)
    assert result.returncode != CRYPTOGRAPHY_IMPORTED
    assert_one_clear_error(result, "kube-self-signed", Code.INVALID_ADDRESS)


# --- the protocol module in-process -------------------------------------------------------------------------


def _run_in_process(handler, stdin: bytes = b"{}"):
    out, err = io.StringIO(), io.StringIO()
    rc = protocol.run("kube-self-signed", handler, io.BytesIO(stdin), out, err)
    return rc, out.getvalue(), err.getvalue()


def test_an_unexpected_exception_is_one_internal_error_line_without_traceback(monkeypatch):
    monkeypatch.delenv("TFEXT_DEBUG", raising=False)

    def broken(_query):
        raise KeyError("secret-detail")

    rc, out, err = _run_in_process(broken)
    assert rc == 70 and out == ""
    assert err.startswith(f"tfext kube-self-signed: {Code.INTERNAL.tag} unexpected KeyError")
    assert err.count("\n") == 1 and "Traceback" not in err and "secret-detail" not in err


def test_a_non_string_result_value_is_an_internal_error_and_nothing_is_printed():
    rc, out, err = _run_in_process(lambda _q: {"ok": "yes", "bad": 5})
    assert rc == 1 and out == ""
    assert Code.INTERNAL.tag in err and "bad" in err


def test_write_result_writes_compact_sorted_json():
    out = io.StringIO()
    protocol.write_result({"b": "2", "a": "1"}, out)
    assert out.getvalue() == '{"a":"1","b":"2"}'


def test_tfext_version_prints_the_one_version_pyproject_reads():
    import importlib.metadata
    from pathlib import Path

    from tfext import __version__

    proc = subprocess.run([sys.executable, "-m", "tfext", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == f"tfext {__version__}\n"
    assert importlib.metadata.version("tfext") == __version__
    changelog = (Path(__file__).resolve().parents[2] / "CHANGELOG.md").read_text()
    assert f"## {__version__}" in changelog
