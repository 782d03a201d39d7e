"""The offline provider can't be mistaken for HashiCorp's (issue 12): a version no HashiCorp release has,
a plain warning about the lock file, and no stale launcher of ours left under the old version."""

from __future__ import annotations

import re
import subprocess
import sys

from tfext.provider import install


def test_the_version_carries_build_metadata_no_hashicorp_release_has():
    assert re.fullmatch(r"\d+\.\d+\.\d+\+tfext", install.PROVIDER_VERSION)
    assert install.PROVIDER_VERSION.startswith(install.REPRODUCED_VERSION + "+")


def test_install_provider_says_not_to_commit_the_lock_file(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "tfext", "install-provider", str(tmp_path / "mirror")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "Do not commit the .terraform.lock.hcl" in run.stdout and "real registry" in run.stdout
    assert f"hashicorp/external {install.PROVIDER_VERSION}" in run.stdout


def test_reinstalling_removes_our_launcher_of_an_old_version_and_keeps_a_real_provider(tmp_path):
    mirror = tmp_path / "mirror"
    install.install_provider(mirror, version="2.3.5")  # as tfext 0.2 installed it
    real = install.provider_executable(mirror, "2.3.4")
    real.parent.mkdir(parents=True)
    real.write_bytes(b"\x7fELF not ours")
    install.install_provider(mirror)
    versions = sorted(p.name for p in (mirror / install.PROVIDER_SOURCE).iterdir())
    assert versions == ["2.3.4", install.PROVIDER_VERSION]
    assert real.read_bytes() == b"\x7fELF not ours"
