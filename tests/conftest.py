"""Shared fixtures: a Terraform CLI config with the offline provider, and a factory for working dirs."""

from __future__ import annotations

import io
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Run, Terraform, cli_config, require  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A net under every test: a failure report (the assertion's diff, the traceback's values, the
    captured output) never shows key material. A test that compares dicts holding keys with `==` would
    otherwise print them when it fails; this withholds what tfext's messages withhold (errors.redact)."""
    outcome = yield
    report = outcome.get_result()
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        text = str(report.longrepr)
        clean = _withheld(text)
        if clean != text:
            report.longrepr = clean + "\n[tfext: key-shaped text in this report was withheld]"
    report.sections = [(title, _withheld(content)) for title, content in report.sections]


# A private key from its BEGIN line to its END line (or the end of a truncated report), whatever lies
# between: pytest's diff quotes a PEM line by line, so errors.redact alone would leave its short lines.
_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)


def _withheld(text: str) -> str:
    from tfext.errors import redact

    return redact(_KEY_BLOCK.sub("[key withheld]", text))


@pytest.fixture(scope="session")
def tf_config(tmp_path_factory) -> Path:
    """CLI config for the whole session (the provider mirror is installed once)."""
    require("terraform")
    return cli_config(tmp_path_factory.mktemp("tfcli"))


@pytest.fixture
def terraform(tf_config, tmp_path):
    """Factory: `terraform(workdir)` gives a Terraform runner for that directory."""

    def make(workdir: Path | None = None, **env) -> Terraform:
        return Terraform(workdir or tmp_path, tf_config, env_extra=env)

    return make


@pytest.fixture
def cli(monkeypatch, capsys):
    """`cli("inspect", FILE, stdin=..., now=..., env=...)`: run `tfext` in-process, as `tfext.__main__`
    does, with stdin, the injected clock (`TFEXT_NOW`), extra environment and exit status captured, and
    timed; argparse exits become codes."""
    from tfext.__main__ import main

    def run(*argv: str, stdin: str | bytes = b"", now: str | None = None, env: dict | None = None) -> Run:
        data = stdin if isinstance(stdin, bytes) else stdin.encode()
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        if now is None:
            monkeypatch.delenv("TFEXT_NOW", raising=False)
        else:
            monkeypatch.setenv("TFEXT_NOW", now)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        capsys.readouterr()
        start = time.perf_counter()
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        seconds = time.perf_counter() - start
        out, err = capsys.readouterr()
        return Run(code, out, err, seconds)

    return run
