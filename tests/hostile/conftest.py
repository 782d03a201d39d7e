"""Fixtures of the hostile-input tests: `tfext` run in-process (fast) or as a process with a timeout (for
what could hang), and keys made once per session."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from harness import TFEXT_BIN, Run

from . import _gen

BUDGET_SECONDS = 2.0  # the goal: any input within the size limits is judged in under 2 s


def tfext_process(*args: str, stdin: bytes = b"", timeout: float = 10, cwd: Path | None = None, **env: str):
    """The `tfext` console script as users run it; a hang fails the test (TimeoutExpired) instead of
    hanging the suite."""
    full_env = {**os.environ, **env}
    start = time.perf_counter()
    proc = subprocess.run(
        [str(TFEXT_BIN / "tfext"), *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
    )
    return Run(proc.returncode, proc.stdout.decode(), proc.stderr.decode(), time.perf_counter() - start)


@pytest.fixture(scope="session")
def rsa3072():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(65537, 3072)


@pytest.fixture(scope="session")
def secret_key():
    """The private key every disguise carries; its text must never reach any output."""
    return _gen.ec_key()


def assert_clean(run: Run, key=None) -> None:
    """No traceback, no key text."""
    text = run.out + run.err
    assert "Traceback" not in text, run.err[-2000:]
    if key is not None:
        leaked = [line for line in _gen.key_lines(key) if line in text]
        assert not leaked, f"{len(leaked)} key fragments in the output"
