"""Item 7: no output injection. Control characters are escaped everywhere, and labels are escaped for
each output format (Mermaid, DOT, terminal)."""

from __future__ import annotations

import json
import re

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from tfext.errors import safe_text
from tfext.tools import topology

from . import _gen
from .conftest import assert_clean

REWRITE = "\x1b[2K\r\x1b[1Aall certificates ok\u202e"
BREAKOUT = 'x"]\n  click c_ca "javascript:alert(1)"\n  y["'


def _expired_with_cn(cn: str):
    key = _gen.ec_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    return _gen.build(subject, key.public_key(), key, ca=True, days=1)


@pytest.mark.parametrize("command", ["inspect", "check-expiration"])
def test_an_escape_sequence_in_a_cn_or_file_name_cannot_rewrite_a_row(cli, tmp_path, command):
    (tmp_path / f"evil{REWRITE}.crt").write_text(_gen.cert_pem(_expired_with_cn(REWRITE)))
    run = cli(command, str(tmp_path), now="2031-01-01T00:00:00Z")
    assert_clean(run)
    for text in (run.out, run.err):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
    assert "\\x1b[2K" in run.out  # shown, escaped


def test_summary_escapes_control_characters(cli):
    info = {"subject": f"CN={REWRITE}", "issuer": "CN=x", "not_after": "2030-01-01T00:00:00Z"}
    run = cli("summary", stdin=json.dumps({"m": {"ca": info}}))
    assert "\x1b" not in run.out and "\\x1b" in run.out


def _graph_with_issuer(issuer_cn: str):
    key = _gen.ec_key()
    leaf = _gen.build(
        _gen.name(issuer_cn), key.public_key(), _gen.ec_key(), issuer=_gen.name(issuer_cn + "!")
    )
    return topology.build({"apiserver.crt": leaf}, set())


def test_mermaid_labels_cannot_be_broken_out_of():
    text = topology.to_mermaid(_graph_with_issuer(BREAKOUT))
    assert not any(line.strip().startswith("click") for line in text.splitlines())
    for line in text.splitlines():
        # every label is one quoted string: quotes come in the pairs the drawing itself writes
        assert '"' not in re.sub(r'"[^"]*"', "", line), line
    assert "<script" not in topology.to_mermaid(_graph_with_issuer("<script>alert(1)</script>"))


def test_dot_labels_cannot_be_broken_out_of():
    text = topology.to_dot(_graph_with_issuer(BREAKOUT))
    assert not any(line.strip().startswith("click") for line in text.splitlines())
    for line in text.splitlines():
        assert '"' not in re.sub(r'"(?:[^"\\]|\\.)*"', "", line), line


def test_safe_text_escapes_every_control_character():
    for code in [*range(32), *range(127, 160), 0x2028, 0x2029, 0x202E, 0x2066]:
        assert chr(code) not in safe_text(f"a{chr(code)}b")
