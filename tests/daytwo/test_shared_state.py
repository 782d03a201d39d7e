"""Shared state on a real PostgreSQL server through Terraform's built-in `pg` backend: a workstation and a
CI runner (two working directories of terraform/examples/shared-state) see each other's changes, the
documented CI plan check passes or catches drift, and concurrent applies are serialised by the lock
with nothing lost."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from harness import EXAMPLES, TECTONIC_CERTS, Terraform, copy_example, require

from ._helpers import certificates_by_name, doc_block
from ._postgres import Postgres, start_postgres

pytestmark = pytest.mark.terraform

DATABASE = "tfstate"
MARKERS = {
    "server": 'module.etcd_certs.module.certs[0].terraform_data.issued["server"]',
    "peer": 'module.etcd_certs.module.certs[0].terraform_data.issued["peer"]',
    "client": 'module.etcd_certs.module.certs[0].terraform_data.issued["client"]',
    "kubelet": 'module.kube_certs.module.certs.terraform_data.issued["kubelet"]',
    "ingress": 'module.ingress_certs.module.certs.terraform_data.issued["ingress"]',
}
# terraform_data: 12 markers and 12 records keeping each certificate with its key (`kept`; the 10
# certificates of Tectonic, and the apiserver's kubelet client and the admin client of issue 14), and the
# CA rotation records of kube and etcd (5 each: lineage, setting and three marks); data sources are read
# only when issuing
RESOURCES = 2 * len(TECTONIC_CERTS) + 2 * 5 + 1  # + kube's node_layout


def test_the_example_is_the_tectonic_wiring_plus_a_pg_backend():
    shared, tectonic = EXAMPLES / "shared-state", EXAMPLES / "tectonic"
    assert sorted(p.name for p in shared.glob("*.tf")) == [
        "backend.tf",
        "cluster.tf",
        "main.tf",
        "outputs.tf",
        "variables.tf",
    ]
    for name in ("cluster.tf", "main.tf", "outputs.tf", "variables.tf"):
        assert (shared / name).is_symlink(), f"{name} should link to ../tectonic/{name}"
        assert (shared / name).resolve() == (tectonic / name).resolve()
    assert 'backend "pg" {}' in (shared / "backend.tf").read_text()


class Shared:
    """The server and the two working directories that share its state."""

    def __init__(self, server: Postgres, workstation: Terraform, ci: Terraform):
        self.server, self.workstation, self.ci = server, workstation, ci

    def ci_plan_check(self, tf: Terraform) -> subprocess.CompletedProcess:
        """The documented CI plan check (docs/day-two.md), run as written with PG_CONN_STR set."""
        env = dict(tf.env, PG_CONN_STR=self.server.conn_str(DATABASE))
        return subprocess.run(
            ["bash", "-eu", "-c", doc_block("ci-plan-check")],
            cwd=tf.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def advisory_locks(self) -> int:
        return int(self.server.sql(DATABASE, "select count(*) from pg_locks where locktype = 'advisory'"))


@pytest.fixture(scope="module")
def shared(tf_config, tmp_path_factory):
    server = start_postgres()
    try:
        server.run("createdb", "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", DATABASE)
        base = tmp_path_factory.mktemp("shared-state")
        # The workstation gives the connection with -backend-config, the CI runner in PG_CONN_STR.
        workstation = Terraform(copy_example("shared-state", base / "workstation"), tf_config)
        workstation.run(
            "init", "-input=false", "-no-color", f"-backend-config=conn_str={server.conn_str(DATABASE)}"
        )
        ci = Terraform(
            copy_example("shared-state", base / "ci"), tf_config, {"PG_CONN_STR": server.conn_str(DATABASE)}
        )
        ci.init()
        workstation.apply()
        yield Shared(server, workstation, ci)
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def identities(tf: Terraform) -> dict[str, tuple[str, str]]:
    return {n: (i["serial"], i["sha256_fingerprint"]) for n, i in certificates_by_name(tf.outputs()).items()}


def changed(before: dict, after: dict) -> set[str]:
    assert set(before) == set(after) == TECTONIC_CERTS
    return {n for n in before if before[n] != after[n]}


def assert_nothing_lost(shared: Shared) -> None:
    for tf in (shared.workstation, shared.ci):
        assert len([r for r in tf.state_resources() if ".terraform_data." in r]) == RESOURCES
        plan = tf.plan()
        assert plan.returncode == 0, plan.output[-3000:]


def test_state_lives_in_postgres_and_the_ci_plan_check_passes_after_the_workstation_applies(shared):
    assert not (shared.workstation.workdir / "terraform.tfstate").exists()
    assert shared.server.sql(DATABASE, "select name from terraform_remote_state.states") == "default"
    check = shared.ci_plan_check(shared.ci)
    assert check.returncode == 0, (check.stdout + check.stderr)[-3000:]
    assert "No changes." in check.stdout
    assert shared.ci.outputs()["certificates"] == shared.workstation.outputs()["certificates"]


def test_a_rotation_applied_from_ci_is_seen_by_the_workstation(shared):
    before = identities(shared.workstation)
    shared.ci.apply(f"-replace={MARKERS['server']}")
    assert changed(before, identities(shared.workstation)) == {"etcd_certs.server"}
    assert shared.workstation.plan().returncode == 0


def test_a_configuration_change_fails_the_ci_check_until_ci_has_it(shared):
    tfvars = 'etcd_ip_addresses = ["10.0.0.10", "10.0.0.11", "10.0.0.12"]\n'
    (shared.workstation.workdir / "terraform.tfvars").write_text(tfvars)
    before = identities(shared.workstation)
    shared.workstation.apply()
    assert changed(before, identities(shared.ci)) == {"etcd_certs.server", "etcd_certs.peer"}
    stale = shared.ci_plan_check(shared.ci)
    assert stale.returncode == 2, (stale.stdout + stale.stderr)[-3000:]  # the old checkout differs from state
    (shared.ci.workdir / "terraform.tfvars").write_text(tfvars)  # CI gets the commit
    current = shared.ci_plan_check(shared.ci)
    assert current.returncode == 0, (current.stdout + current.stderr)[-3000:]


def start_apply(tf: Terraform, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [require("terraform"), "apply", "-auto-approve", "-input=false", "-no-color", *args],
        cwd=tf.workdir,
        env=tf.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_lock(shared: Shared, holder: subprocess.Popen) -> None:
    """Until the backend's advisory lock is taken (by `holder`, the only Terraform running)."""
    deadline = time.monotonic() + 60
    while shared.advisory_locks() == 0:
        assert holder.poll() is None, (
            f"the first apply ended before it was seen holding the lock:\n{holder.stdout.read()}"
        )
        assert time.monotonic() < deadline, "the first apply never took the state lock"
        time.sleep(0.02)


def finish(proc: subprocess.Popen) -> tuple[int, str, float]:
    out, _ = proc.communicate(timeout=300)
    return proc.returncode, out, time.monotonic()


def test_concurrent_applies_with_lock_timeout_are_serialised_and_lose_nothing(shared):
    before = identities(shared.workstation)
    first = start_apply(shared.workstation, "-lock-timeout=120s", f"-replace={MARKERS['peer']}")
    wait_for_lock(shared, first)
    second = start_apply(shared.ci, "-lock-timeout=120s", f"-replace={MARKERS['client']}")
    first_code, first_out, first_end = finish(first)
    second_code, second_out, second_end = finish(second)
    assert first_code == 0, first_out[-3000:]
    assert second_code == 0, second_out[-3000:]
    assert second_end > first_end, "the second apply cannot finish before the first releases the lock"
    assert "Acquiring state lock. This may take a few moments..." in second_out  # it waited
    # The second planned on the first's result: both rotations are in the state, nothing was overwritten.
    assert changed(before, identities(shared.ci)) == {"etcd_certs.peer", "etcd_certs.client"}
    assert_nothing_lost(shared)


def test_without_lock_timeout_the_second_apply_fails_at_once_and_nothing_is_lost(shared):
    before = identities(shared.workstation)
    first = start_apply(shared.ci, f"-replace={MARKERS['kubelet']}")
    wait_for_lock(shared, first)
    second = start_apply(shared.workstation, f"-replace={MARKERS['ingress']}")
    second_code, second_out, _ = finish(second)
    first_code, first_out, _ = finish(first)
    assert second_code == 1
    assert "Error acquiring the state lock" in second_out
    assert first_code == 0, first_out[-3000:]
    assert changed(before, identities(shared.workstation)) == {"kube_certs.kubelet"}
    assert shared.advisory_locks() == 0
    assert_nothing_lost(shared)
