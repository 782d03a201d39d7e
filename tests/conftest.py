"""Shared fixtures: a Terraform CLI config with the offline provider, and a factory for working dirs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Terraform, cli_config, require  # noqa: E402


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
