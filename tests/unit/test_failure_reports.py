"""The suite's own output: a failing test that holds a private key (in an `==` diff, a traceback value or
its captured output) is reported with the key withheld (tests/conftest.py, pytest_runtest_makereport)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

FAILING = """
from tfext import keys

def test_a_failure_holding_a_key():
    key = keys.to_pem(keys.generate("ECDSA-P256"), "traditional")
    open("key.pem", "w").write(key)  # for the test that runs this one to look for
    print("captured:", key)
    assert {"key_pem": key} == {"key_pem": "other"}
"""


def test_a_failure_report_never_shows_the_key_it_holds(tmp_path):
    (tmp_path / "test_leaky.py").write_text(FAILING)
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider", "-rA", "-vv"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = run.stdout + run.stderr
    assert run.returncode == 1 and "1 failed" in text, text[-2000:]
    assert "PRIVATE KEY" not in text
    body = (tmp_path / "key.pem").read_text().splitlines()[1:-1]
    assert body and not [line for line in body if line[:12] in text], "a line of the key was shown"
    assert "withheld" in text  # the diff and the captured output were there, and were redacted
