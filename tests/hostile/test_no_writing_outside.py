"""Item 3: no writing outside the target, ever - install-provider's directories, and write-assets'
symbolic links, shared directories, content checks and rollback."""

from __future__ import annotations

import json
import os
import stat

import pytest

from tfext.errors import Code
from tfext.provider import install
from tfext.tools import assets
from tfext.tools.assets import LAYOUT, WriteError, write_assets

from . import _gen
from .conftest import assert_clean, tfext_process


def _modes_under(root):
    return {p: stat.S_IMODE(p.lstat().st_mode) for p in [root, *root.rglob("*")] if p.is_dir()}


def test_install_provider_under_umask_000_creates_0755_directories(tmp_path, monkeypatch):
    monkeypatch.setattr(install, "_missing_runtime_modules", lambda: [])
    old = os.umask(0)
    try:
        assert (
            install.main([str(tmp_path / "a" / "mirror"), "--cli-config", str(tmp_path / "rc" / "x" / "rc")])
            == 0
        )
    finally:
        os.umask(old)
    modes = _modes_under(tmp_path / "a") | _modes_under(tmp_path / "rc")
    assert modes and set(modes.values()) == {0o755}, {str(p): oct(m) for p, m in modes.items()}
    launcher = install.provider_executable(tmp_path / "a" / "mirror")
    assert stat.S_IMODE(launcher.stat().st_mode) == 0o755


@pytest.mark.parametrize("shared", ["mirror", "registry.terraform.io"])
def test_install_provider_refuses_a_group_or_world_writable_directory(tmp_path, monkeypatch, capsys, shared):
    monkeypatch.setattr(install, "_missing_runtime_modules", lambda: [])
    mirror = tmp_path / "mirror"
    target = mirror if shared == "mirror" else mirror / shared
    target.mkdir(parents=True)
    target.chmod(0o777)
    assert install.main([str(mirror)]) == 1
    assert "writable by others" in capsys.readouterr().err
    assert not install.provider_executable(mirror).exists()


def test_install_provider_refuses_a_symlink_inside_the_mirror(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(install, "_missing_runtime_modules", lambda: [])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "registry.terraform.io").symlink_to(elsewhere)
    assert install.main([str(tmp_path / "mirror")]) == 1
    assert "symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_install_provider_accepts_a_sticky_world_writable_parent(tmp_path, monkeypatch):
    monkeypatch.setattr(install, "_missing_runtime_modules", lambda: [])
    sticky = tmp_path / "tmp"
    sticky.mkdir()
    sticky.chmod(0o1777)
    assert install.main([str(sticky / "mirror")]) == 0


class _Outputs(dict):
    """Outputs holding private keys; pytest shows a failing test's fixtures, so its repr shows none."""

    def __repr__(self) -> str:
        return f"<{len(self)} outputs, not shown>"


@pytest.fixture
def outputs():
    key = _gen.ec_key()
    cert = _gen.cert_pem(_gen.build(_gen.name("x"), key.public_key(), key))
    return _Outputs(
        {name: (_gen.key_pem(_gen.ec_key()) if f.endswith(".key") else cert) for name, f in LAYOUT.items()}
    )


def test_write_assets_refuses_a_symlinked_subdirectory_and_writes_nothing_there(tmp_path, outputs):
    target, elsewhere = tmp_path / "tls", tmp_path / "elsewhere"
    target.mkdir()
    elsewhere.mkdir()
    (target / "etcd").symlink_to(elsewhere)
    with pytest.raises(WriteError) as err:
        write_assets(outputs, target)
    assert err.value.problems[0].code is Code.UNSAFE_DIRECTORY
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in target.iterdir()) == ["etcd"]  # nothing was written before the check


def test_write_assets_refuses_a_symlinked_target(tmp_path, outputs):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "tls").symlink_to(elsewhere)
    with pytest.raises(WriteError):
        write_assets(outputs, tmp_path / "tls")
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("which", ["target", "etcd"])
def test_write_assets_refuses_a_world_writable_directory(tmp_path, outputs, which):
    target = tmp_path / "tls"
    (target / "etcd").mkdir(parents=True)
    (target if which == "target" else target / "etcd").chmod(0o777)
    with pytest.raises(WriteError) as err:
        write_assets(outputs, target)
    assert err.value.problems[0].code is Code.UNSAFE_DIRECTORY
    assert [p.name for p in target.rglob("*") if p.is_file()] == []


def test_write_assets_makes_0755_directories_under_umask_000(tmp_path, outputs):
    old = os.umask(0)
    try:
        write_assets(outputs, tmp_path / "a" / "tls")
    finally:
        os.umask(old)
    assert set(_modes_under(tmp_path / "a").values()) == {0o755}
    assert stat.S_IMODE((tmp_path / "a" / "tls" / "ca.key").stat().st_mode) == 0o600


def test_a_private_key_given_as_a_certificate_is_refused_not_written_0644(cli, tmp_path, outputs, secret_key):
    outputs["kube_certs_ca_cert_pem"] = _gen.key_pem(secret_key)
    run = cli("write-assets", str(tmp_path / "tls"), stdin=json.dumps(outputs))
    assert run.code == 2 and Code.NOT_PEM.tag in run.err and "a private key" in run.err
    assert not (tmp_path / "tls").exists()
    assert_clean(run, secret_key)


def test_a_certificate_given_as_a_key_is_refused(cli, tmp_path, outputs):
    outputs["kube_certs_ca_key_pem"] = outputs["kube_certs_ca_cert_pem"]
    run = cli("write-assets", str(tmp_path / "tls"), stdin=json.dumps(outputs))
    assert run.code == 2 and "must hold exactly one private key" in run.err
    assert not (tmp_path / "tls").exists()


def test_a_failed_rename_rolls_back_every_replaced_file_and_names_the_failing_one(
    tmp_path, outputs, monkeypatch
):
    write_assets({name: v for name, v in outputs.items()}, tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    renamed = {"count": 0}
    real_replace = os.replace

    def failing_replace(src, dst, **kw):
        if not str(src).endswith(".old"):  # the rollback's own renames go through
            renamed["count"] += 1
            if renamed["count"] == 3:
                raise OSError(5, "Input/output error")
        return real_replace(src, dst, **kw)

    monkeypatch.setattr(assets.os, "replace", failing_replace)
    fresh = {name: v for name, v in outputs.items()}
    key = _gen.ec_key()
    fresh["kube_certs_ca_cert_pem"] = _gen.cert_pem(_gen.build(_gen.name("new-ca"), key.public_key(), key))
    fresh["kube_certs_ca_key_pem"] = _gen.key_pem(key)
    with pytest.raises(WriteError) as err:
        write_assets(fresh, tmp_path)
    assert "apiserver.crt" in str(err.value) and err.value.problems[0].code is Code.WRITE_FAILED
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before, "ca.crt and ca.key are back to the old CA; no temporary or backup file is left"


def test_a_directory_in_a_files_place_is_refused_before_anything_is_written(tmp_path, outputs):
    (tmp_path / "apiserver.crt").mkdir()
    with pytest.raises(WriteError) as err:
        write_assets(outputs, tmp_path)
    assert "apiserver.crt" in str(err.value)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


def test_install_provider_named_after_a_key_creates_nothing(tmp_path, secret_key):
    run = tfext_process("install-provider", _gen.key_pem(secret_key), cwd=tmp_path)
    assert run.code == 2 and Code.NOT_A_PATH.tag in run.err
    assert list(tmp_path.iterdir()) == []
    assert_clean(run, secret_key)
