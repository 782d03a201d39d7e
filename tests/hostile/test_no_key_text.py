"""Item 4: no key text in any message - not through `*_path` values (hex, base64url, base64 wrapped or
spaced), not through CLI arguments or TFEXT_NOW; and the redactor keeps its own hints."""

from __future__ import annotations

import pytest

from tfext.errors import Code, TfextError, echo_path, redact
from tfext.files import read_file
from tfext.verify import load_given, parse_certificates

from . import _gen
from .conftest import assert_clean, tfext_process

DISGUISES = ["pem", "hex", "base64url", "base64-32-columns", "base64-spaced"]


def _leaks(text: str, key) -> list[str]:
    return [line for line in _gen.key_lines(key) if line in text]


@pytest.mark.parametrize("disguise", DISGUISES)
def test_key_material_given_as_a_path_is_never_echoed(secret_key, disguise):
    value = _gen.key_disguises(secret_key)[disguise]
    with pytest.raises(TfextError) as err:
        load_given("ca", value, value, chain_allowed=False)
    text = str(err.value)
    assert not _leaks(text, secret_key) and "not shown" in text
    assert {p.code for p in err.value.problems} <= {Code.FILE_MISSING, Code.NOT_A_PATH, Code.FILE_UNREADABLE}


def test_a_long_path_or_component_is_never_echoed():
    assert "not shown" in echo_path("/x/" + "a" * 300)
    assert "not shown" in echo_path("/" + "b" * 256)
    assert echo_path("/etc/kubernetes/pki/ca.crt") == "/etc/kubernetes/pki/ca.crt"


def test_long_hex_runs_are_withheld(secret_key):
    hexed = _gen.key_disguises(secret_key)["hex"]
    assert hexed[:64] not in redact(f"found {hexed[:64]} here")


def test_the_not_pem_hint_is_shown_whole():
    with pytest.raises(TfextError) as err:
        parse_certificates(b"just text", "ca certificate", chain_allowed=False)
    assert "expected -----BEGIN CERTIFICATE-----" in str(err.value)


@pytest.mark.parametrize(
    "argv",
    [
        ("inspect", "{key}"),
        ("check-expiration", "{key}"),
        ("topology", "{key}"),
        ("{key}",),
        ("inspect", "--bogus", "{key}"),
        ("write-assets", "{key}"),
        ("install-provider", "{key}"),
    ],
)
@pytest.mark.parametrize("disguise", ["pem", "hex", "base64-spaced"])
def test_cli_arguments_are_redacted(tmp_path, secret_key, argv, disguise):
    value = _gen.key_disguises(secret_key)[disguise]
    run = tfext_process(*(a.format(key=value) for a in argv), stdin=b"{}", cwd=tmp_path)
    assert run.code != 0
    assert_clean(run, secret_key)
    assert list(tmp_path.iterdir()) == [], "nothing is created or named after the argument"


@pytest.mark.parametrize("disguise", ["pem", "hex", "base64url"])
def test_tfext_now_is_redacted(cli, secret_key, disguise):
    run = cli("check-expiration", "-", stdin="{}", now=_gen.key_disguises(secret_key)[disguise])
    assert run.code == 2 and "TFEXT_NOW" in run.err
    assert_clean(run, secret_key)


def test_a_key_file_read_as_a_certificate_is_not_echoed(tmp_path, secret_key):
    path = tmp_path / "ca.crt"
    path.write_text(_gen.key_pem(secret_key))
    with pytest.raises(TfextError) as err:
        parse_certificates(read_file(str(path), "ca certificate"), "ca certificate", chain_allowed=False)
    assert not _leaks(str(err.value), secret_key)
