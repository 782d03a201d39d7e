"""Item 6: no tracebacks. Deep JSON, JSON of the wrong shape and certificates that fail only when fully
parsed end in a coded message or a coded row, and the rest of the report is still given."""

from __future__ import annotations

import json

import pytest

from tfext.errors import Code
from tfext.tools.assets import LAYOUT

from . import _gen
from .conftest import assert_clean

DEEP = "[" * 100000


@pytest.mark.parametrize(
    "argv",
    [("summary",), ("check-expiration", "-"), ("topology",), ("topology", "-"), ("write-assets", "{dir}")],
)
@pytest.mark.parametrize("document", [DEEP, '{"a":' * 5000 + "1" + "}" * 5000, "[" * 70 + "]" * 70])
def test_deep_json_is_a_coded_error(cli, tmp_path, argv, document):
    run = cli(*(a.format(dir=tmp_path / "tls") for a in argv), stdin=document)
    assert_clean(run)
    assert run.code == 2 and ("TFEXT-E002" in run.err or "TFEXT-E064" in run.err or "TFEXT-E003" in run.err)


def test_summary_reads_a_plain_terraform_output_json(cli):
    info = {"subject": "CN=kube-ca", "issuer": "CN=kube-ca", "sans": [], "not_after": "2031-01-01T00:00:00Z"}
    document = {
        "certificates": {"sensitive": False, "type": ["object", {}], "value": {"kube": {"ca": info}}},
        "kube_certs_ca_cert_pem": {"sensitive": False, "type": "string", "value": "-----BEGIN..."},
    }
    run = cli("summary", stdin=json.dumps(document))
    assert_clean(run)
    assert run.code == 0 and "kube.ca" in run.out and "kube-ca" in run.out


@pytest.mark.parametrize(
    "document",
    [
        {"a": 1},
        {"m": {"x": {"subject": 5}}},
        {"m": {"x": {"subject": "CN=a", "sans": "DNS:a"}}},
        {"m": {"x": {"subject": "CN=a", "sans": [1, 2]}}},
        {"m": [1, 2]},
    ],
)
def test_summary_reports_rows_of_the_wrong_shape_with_a_code(cli, document):
    run = cli("summary", stdin=json.dumps(document))
    assert_clean(run)
    assert run.code == 1 and Code.BAD_JSON_SHAPE.tag in run.err


def test_summary_shows_sans_without_a_colon_whole(cli):
    run = cli("summary", stdin=json.dumps({"m": {"x": {"subject": "CN=a", "sans": ["no-colon", "DNS:b"]}}}))
    assert run.code == 0 and "no-colon, b" in run.out


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    """A directory with one good certificate and one of each kind that fails when fully parsed."""
    root = tmp_path_factory.mktemp("mixed")
    key = _gen.ec_key()
    (root / "good.crt").write_text(
        _gen.cert_pem(_gen.build(_gen.name("good"), key.public_key(), key, ca=True))
    )
    for kind in ("duplicate", "bad-san", "bad-eku", "unknown-key"):
        (root / f"{kind}.crt").write_text(_gen.cert_failing_full_parse(kind))
    return root


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
@pytest.mark.parametrize("command", ["inspect", "check-expiration"])
def test_a_bad_certificate_is_a_row_with_its_code_and_the_rest_is_shown(cli, mixed, command, json_flag):
    run = cli(command, *json_flag, str(mixed), now="2030-06-01T00:00:00Z")
    assert_clean(run)
    assert run.code == 1
    for kind in ("duplicate", "bad-san", "bad-eku", "unknown-key"):
        assert kind in run.out, kind
    assert "good" in run.out
    assert Code.MALFORMED_CERT.tag in run.out and Code.UNSUPPORTED_KEY.tag in run.out


def test_a_bad_certificate_in_the_topology_is_reported_and_the_rest_drawn(cli, tmp_path):
    key = _gen.ec_key()
    (tmp_path / "ca.crt").write_text(
        _gen.cert_pem(_gen.build(_gen.name("kube-ca"), key.public_key(), key, ca=True))
    )
    (tmp_path / "apiserver.crt").write_text(_gen.cert_failing_full_parse("duplicate"))
    run = cli("topology", str(tmp_path))
    assert_clean(run)
    assert run.code == 1 and "kube-ca (CA)" in run.out and Code.MALFORMED_CERT.tag in run.err


def test_a_bad_certificate_in_a_state_is_a_row(cli):
    state = {
        "version": 4,
        "resources": [
            {
                "mode": "data",
                "type": "external",
                "name": "x",
                "instances": [
                    {"attributes": {"result": {"ca_cert_pem": _gen.cert_failing_full_parse("bad-eku")}}}
                ],
            }
        ],
    }
    run = cli("check-expiration", "-", stdin=json.dumps(state))
    assert_clean(run)
    assert run.code == 1 and Code.MALFORMED_CERT.tag in run.out


def test_write_assets_of_a_deep_value_is_refused(cli, tmp_path):
    run = cli("write-assets", str(tmp_path / "t"), stdin=json.dumps({next(iter(LAYOUT)): {"value": [[[]]]}}))
    assert_clean(run)
    assert run.code == 2
