"""Each flavor's own `terraform test` file (the ecosystem's check, for module users) passes offline:
variable validations fail where they must (`expect_failures`), and the outputs have the contract's shape."""

from __future__ import annotations

import re
import shutil

import pytest
from harness import MODULES, Terraform

pytestmark = pytest.mark.terraform

FLAVORS = sorted(p.parent.relative_to(MODULES).as_posix() for p in MODULES.glob("*/*/main.tf"))
FLAVORS = [f for f in FLAVORS if not f.startswith("internal/")]


def test_every_flavor_has_a_terraform_test_file():
    assert len(FLAVORS) == 8
    missing = [f for f in FLAVORS if not list((MODULES / f).glob("*.tftest.hcl"))]
    assert missing == []


@pytest.mark.parametrize("flavor", FLAVORS)
def test_terraform_test_passes_in_the_flavor_directory(flavor, tf_config, tmp_path):
    # A copy of the whole modules tree, so that `../../internal` resolves and the checkout stays clean.
    shutil.copytree(MODULES.parent, tmp_path / "modules")
    tf = Terraform(tmp_path / "modules" / "tls" / flavor, tf_config)
    tf.init()
    result = tf.run("test", "-no-color", check=False)
    summary = re.search(r"(Success|Failure)! (\d+) passed, (\d+) failed", result.output)
    assert result.returncode == 0 and summary, result.output[-3000:]
    assert summary.group(3) == "0" and int(summary.group(2)) >= 2, summary.group(0)
