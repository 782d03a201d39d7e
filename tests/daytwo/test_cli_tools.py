"""The commands for people, as the `tfext` console script: listed in the usage, `--help` everywhere, wrong
usage answered by argparse (exit 2) and never a traceback."""

from __future__ import annotations

import subprocess

import pytest
from harness import TFEXT_BIN

from ._helpers import make_cert, tfext

TOOLS = ("inspect", "check-expiration", "topology", "write-assets", "summary")


def test_usage_lists_every_tool():
    proc = tfext("--help")
    assert proc.returncode == 0
    for tool in TOOLS:
        assert f"tfext {tool}" in proc.stdout


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_has_help(tool):
    proc = tfext(tool, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: tfext {tool}")


@pytest.mark.parametrize("tool", TOOLS)
def test_an_unknown_option_is_a_usage_error_not_a_traceback(tool):
    proc = tfext(tool, "--no-such-option", "x", stdin="")
    assert proc.returncode == 2
    assert f"usage: tfext {tool}" in proc.stderr and "unrecognized arguments" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_closed_pipe_is_not_an_error(tmp_path):
    # `tfext check-expiration DIR | head -1`: the reader goes away after one line.
    for i in range(1000):  # ~100 KB of table: more than a pipe holds
        (tmp_path / f"c{i}.crt").write_text(make_cert(f"c{i}", ca=True).cert_pem)
    pipeline = f"{TFEXT_BIN / 'tfext'} check-expiration {tmp_path} --window-hours 0 | head -1"
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", pipeline], capture_output=True, text=True, timeout=60
    )
    assert proc.stdout.startswith("CERTIFICATE AUTHORITY")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
