"""`tfext write-assets DIR`: keys 0600 and certificates 0644 whatever the umask, never a key readable by
others even for a moment, each file replaced atomically, and a failed run leaves the old set untouched."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest

from tfext.tools import assets
from tfext.tools.assets import LAYOUT, write_assets

from ._helpers import Secret, key_body_lines, make_cert


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    """A value for every output of the layout (certificates and keys of made-up pairs)."""
    ca = make_cert("ca", ca=True)
    out = {}
    for name in LAYOUT:
        pair = ca if "ca_" in name else make_cert(name, ca)
        out[name] = pair.key_pem if LAYOUT[name].endswith(".key") else pair.cert_pem
    return Secret(out)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_keys_are_0600_and_certificates_0644_whatever_the_umask(tmp_path, outputs, umask):
    old = os.umask(umask)
    try:
        written = write_assets(outputs, tmp_path / "tls")
    finally:
        os.umask(old)
    assert sorted(p.relative_to(tmp_path / "tls").as_posix() for p in written) == sorted(LAYOUT.values())
    for path in written:
        assert mode(path) == (0o600 if path.suffix == ".key" else 0o644), path


def test_a_key_is_never_readable_by_others_while_being_written(tmp_path, outputs, monkeypatch):
    seen = {}
    real_fdopen = os.fdopen

    def spying_fdopen(fd, *args, **kwargs):
        seen[len(seen)] = stat.S_IMODE(os.fstat(fd).st_mode)  # the mode before the first byte
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", spying_fdopen)
    write_assets(outputs, tmp_path)
    expected = [0o600 if f.endswith(".key") else 0o644 for name, f in LAYOUT.items() if outputs.get(name)]
    assert list(seen.values()) == expected


def test_rewriting_replaces_files_and_tightens_a_loose_key(tmp_path, outputs):
    key = tmp_path / "apiserver.key"
    key.write_text("old")
    key.chmod(0o644)
    inode = key.stat().st_ino
    write_assets(outputs, tmp_path)
    assert mode(key) == 0o600 and key.read_text() == outputs["kube_certs_apiserver_key_pem"]
    assert key.stat().st_ino != inode, "a new file is renamed over the old one, never rewritten in place"
    assert not [p for p in tmp_path.rglob(".*")], "no temporary file is left behind"


def test_a_failure_while_writing_leaves_every_old_file_and_no_temporary_file(tmp_path, outputs, monkeypatch):
    write_assets({name: f"old {name}" for name in LAYOUT}, tmp_path)
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    calls = {"fsync": 0, "replace": 0}
    real_fsync, real_replace = os.fsync, os.replace

    def failing_fsync(fd):
        calls["fsync"] += 1
        if calls["fsync"] == 7:  # the disk fills up in the middle of the set
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    def counting_replace(src, dst):
        calls["replace"] += 1
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    monkeypatch.setattr(os, "replace", counting_replace)
    with pytest.raises(OSError):
        write_assets(outputs, tmp_path)
    assert calls["replace"] == 0, "no file is replaced before every new one is safely written"
    after = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_cli_reports_a_full_disk_in_one_line(cli, tmp_path, outputs, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(assets.os, "fsync", no_space)
    run = cli("write-assets", str(tmp_path / "tls"), stdin=json.dumps(outputs))
    assert run.code == 1
    assert run.err == f"tfext write-assets: cannot write under {tmp_path / 'tls'}: No space left on device\n"


def test_cli_prints_modes_and_paths_only(cli, tmp_path, outputs):
    wrapped = {
        name: {"sensitive": name.endswith("key_pem"), "type": "string", "value": v}
        for name, v in outputs.items()
    }
    run = cli("write-assets", str(tmp_path), stdin=json.dumps(wrapped))
    assert run.code == 0
    lines = run.out.splitlines()
    assert len(lines) == len(LAYOUT)
    assert f"600  {tmp_path / 'etcd/server.key'}" in lines and f"644  {tmp_path / 'ca.crt'}" in lines
    for name, value in outputs.items():
        if name.endswith("key_pem"):
            assert not any(line in run.out for line in key_body_lines(value))


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("not json", "TFEXT-E002 stdin: not JSON"),
        ("[]", "expected the JSON object of `terraform output -json`"),
        (
            '{"kube_certs": {"ca": {"subject": "CN=kube-ca"}}}',
            "TFEXT-E070 stdin: no certificate of a tfext module found",
        ),
        (
            '{"kube_certs_ca_cert_pem": "just text"}',
            "output kube_certs_ca_cert_pem is not PEM text; nothing was",
        ),
    ],
)
def test_cli_refuses_wrong_input_before_writing_anything(cli, tmp_path, stdin, message):
    run = cli("write-assets", str(tmp_path / "tls"), stdin=stdin)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err
    assert not (tmp_path / "tls").exists()
