"""Terraform root modules for the bench, each in its own scratch directory, and running Terraform on them.

- the example: terraform/examples/tectonic, its module sources pointed at a snapshot of this checkout's
  terraform/ taken when the bench starts its first Terraform section;
- the harness floor: as many trivial `external` data sources as the example has (6), each running the
  venv's Python on `-c` that reads stdin and prints {};
- scale roots: N copies of the tectonic wiring, `for_each` over the example used as a child module;
- per-node roots: kube/self-signed with `nodes` and `kubelet_serving` (N nodes, a client and a serving
  certificate each) and etcd/signed with 3 `members`, N set in terraform.tfvars.json.

Terraform runs with an offline `hashicorp/external` (the bench installs `tfext install-provider` into its
scratch directory, or uses the mirror named by TFEXT_PROVIDER_MIRROR, as `make provider` does).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from timing import Completed, run

DATA_SOURCES_PER_CLUSTER = 6  # etcd CA, etcd leaves, kube CA, kube leaves, identity leaves, ingress leaf
TRIVIAL_PROGRAM = "import sys; sys.stdin.read(); print('{}')"


def snapshot(repo: Path, dest: Path) -> Path:
    """A copy of terraform/ taken once: Terraform reads nested module sources (`./internal/issue`) from
    their directory at every run, so without a copy an edit in the checkout mid-bench would change what
    later runs measure (or make a plan disagree with the state an earlier apply left)."""
    return Path(
        shutil.copytree(repo / "terraform", dest, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    )


def copy_example(terraform_dir: Path, name: str, dest: Path) -> Path:
    """An example root module, its `../../modules/` sources re-aimed from `dest` (relative: Terraform takes
    an absolute path for a package of its own, and the flavors' `../../internal` calls must stay inside)."""
    src = terraform_dir / "examples" / name
    dest.mkdir(parents=True, exist_ok=True)
    modules = os.path.relpath(terraform_dir / "modules", dest.resolve())
    for tf in sorted([*src.glob("*.tf"), *src.glob("*.tfvars")]):  # through links, tfvars included
        text = tf.read_text().replace('"../../modules/', f'"{modules}/')
        (dest / tf.name).write_text(text)
    return dest


def floor_root(dest: Path, python: str, count: int = DATA_SOURCES_PER_CLUSTER) -> Path:
    """The harness floor: `count` independent trivial data sources."""
    dest.mkdir(parents=True, exist_ok=True)
    blocks = [
        'terraform {\n  required_providers {\n    external = { source = "hashicorp/external" }\n  }\n}\n'
    ]
    for i in range(count):
        blocks.append(
            f'data "external" "trivial_{i}" {{\n'
            f'  program = [{_hcl(python)}, "-c", {_hcl(TRIVIAL_PROGRAM)}]\n'
            f'  query   = {{ n = "{i}" }}\n'
            "}\n"
        )
    (dest / "main.tf").write_text("\n".join(blocks))
    return dest


def scale_root(dest: Path, cluster_module: Path, clusters: int) -> Path:
    """`clusters` instances of the tectonic wiring in one root module."""
    dest.mkdir(parents=True, exist_ok=True)
    rel = os.path.relpath(cluster_module, dest)
    (dest / "main.tf").write_text(
        'module "cluster" {\n'
        f'  source   = "./{rel}"\n'
        f'  for_each = toset([for i in range({clusters}) : format("c%02d", i)])\n\n'
        "  cluster_name = each.key\n"
        "}\n"
    )
    return dest


PER_NODE_MEMBERS = 3  # etcd members at every size: a cluster runs 3 (or 5) members however many nodes


def per_node_root(dest: Path, terraform_dir: Path, key_algorithm: str, nodes: int) -> Path:
    """One identity per node: `nodes` Kubernetes nodes (node-000, ...), each with a kubelet client and a
    kubelet serving certificate, and 3 etcd members with a server and a peer certificate each."""
    dest.mkdir(parents=True, exist_ok=True)
    modules = os.path.relpath(terraform_dir / "modules" / "tls", dest.resolve())
    (dest / "main.tf").write_text(
        f"""variable "nodes" {{
  type = number
}}

locals {{
  nodes   = [for i in range(var.nodes) : format("node-%03d", i)]
  serving = {{ for i, n in local.nodes : n => {{ ip_addresses = [cidrhost("10.1.0.0/16", i + 1)] }} }}
  members = {{
    for i in range({PER_NODE_MEMBERS}) : "etcd-${{i}}" => {{ ip_addresses = ["10.0.0.${{10 + i}}"] }}
  }}
}}

module "kube" {{
  source             = "{modules}/kube/self-signed"
  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
  key_algorithm      = "{key_algorithm}"
  nodes              = local.nodes
  kubelet_serving    = local.serving
}}

module "etcd" {{
  source        = "{modules}/etcd/signed"
  self_signed   = true
  service_cidr  = "10.3.0.0/16"
  key_algorithm = "{key_algorithm}"
  members       = local.members
}}
"""
    )
    set_nodes(dest, nodes)
    return dest


def set_nodes(root: Path, nodes: int) -> None:
    """How many nodes the per-node root has (read by the next plan or apply)."""
    (root / "terraform.tfvars.json").write_text(f'{{"nodes": {nodes}}}\n')


def per_node_certificates(nodes: int) -> int:
    """Certificates of a per-node root: kube CA + 4 fixed leaves + 2 per node; etcd CA + 3 + 2 per member."""
    return 5 + 2 * nodes + 4 + 2 * PER_NODE_MEMBERS


COUNTING_TFEXT = """#!/bin/sh
# tfext, counted: one line "<program> <wall ns>" per run in $TFEXT_RUN_LOG (around the real tfext)
start=$(date +%%s%%N)
"%s" "$@"
code=$?
echo "$1 $(( $(date +%%s%%N) - start ))" >> "$TFEXT_RUN_LOG"
exit $code
"""


def counting_tfext(bin_dir: Path, tfext: Path) -> Path:
    """A `tfext` that runs the real one and logs each run (program name, wall time) to $TFEXT_RUN_LOG;
    returns the directory to put first on PATH. Costs one `sh` and two `date` starts (~3 ms) a run."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    wrapper = bin_dir / "tfext"
    wrapper.write_text(COUNTING_TFEXT % tfext)
    wrapper.chmod(0o755)
    return bin_dir


def program_runs(log: Path) -> list[tuple[str, float]]:
    """The runs `counting_tfext` logged so far: (program, wall seconds)."""
    if not log.exists():
        return []
    return [(name, int(ns) / 1e9) for name, ns in (line.split() for line in log.read_text().splitlines())]


STUB = """import json, sys
answer = {}
for key in json.load(sys.stdin):
    if key.endswith("_issued_at"):
        slot = key.removesuffix("_issued_at")
        answer |= {f"{slot}_cert_pem": "", f"{slot}_key_pem": "", f"{slot}_info": ""}
        answer |= {"ca_key_alg": ""} if slot == "ca" else {}
print(json.dumps(answer))
"""


def placeholder_stub(bin_dir: Path, python: Path) -> Path:
    """A `tfext` that answers a no-change plan's queries (placeholders) and runs no tfext code: the
    example's plan with it is Terraform's own cost. Returns the directory to put first on PATH."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    stub = bin_dir / "tfext"
    stub.write_text(f"#!{python}\n{STUB}")
    stub.chmod(0o755)
    return bin_dir


def _hcl(text: str) -> str:
    """An HCL string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")
    return f'"{escaped}"'


class Terraform:
    """The terraform CLI in one root module directory."""

    def __init__(self, workdir: Path, env: dict[str, str], timeout: float = 600):
        self.workdir = workdir
        self.env = env
        self.timeout = timeout
        self.forgotten = 0  # fresh starts so far (on a pg backend, each a new workspace)

    def run(self, *args: str) -> Completed:
        return run(["terraform", *args], env=self.env, cwd=self.workdir, timeout=self.timeout)

    def init(self) -> Completed:
        return self.run("init", "-input=false", "-no-color").check(f"terraform init in {self.workdir.name}")

    def apply(self) -> Completed:
        return self.run("apply", "-auto-approve", "-input=false", "-no-color").check(
            f"terraform apply in {self.workdir.name}"
        )

    def plan(self) -> Completed:
        """A plan that must find nothing to change (`-detailed-exitcode`: 0)."""
        done = self.run("plan", "-detailed-exitcode", "-input=false", "-no-color")
        if done.returncode == 2:
            done = Completed(
                done.argv, 1, done.stdout, b"the plan has changes; expected none\n" + done.stdout, done.sample
            )
        return done.check(f"terraform plan in {self.workdir.name}")

    def forget_state(self) -> None:
        """Back to an empty state (nothing real to destroy: the state holds only data and captures); on a
        pg backend (TFEXT_BENCH_PG), a new workspace, which starts empty."""
        if (self.workdir / PG_BACKEND_FILE).exists():
            self.forgotten += 1
            self.run("workspace", "new", "-no-color", f"run{self.forgotten}").check("terraform workspace new")
            return
        for name in ("terraform.tfstate", "terraform.tfstate.backup"):
            (self.workdir / name).unlink(missing_ok=True)


# With TFEXT_BENCH_PG set (a PostgreSQL connection string, as Terraform's pg backend takes it), the
# thousand section's roots keep their state there, each in a schema of its own: the backend the README
# recommends over the local one, which rewrites the whole state file after each resource.
PG_BACKEND_FILE = "backend_pg.tf"


def use_pg_backend(dest: Path) -> None:
    conn = os.environ.get("TFEXT_BENCH_PG", "")
    if conn:
        # One schema per root of this run: the scratch directory's random name keeps a second run (or a
        # second bench at once) from starting on the states, and workspaces, of the first.
        where = f"{dest.parent.name}_{dest.name}"
        schema = ("bench_" + "".join(c if c.isalnum() else "_" for c in where))[:63]
        (dest / PG_BACKEND_FILE).write_text(
            f'terraform {{\n  backend "pg" {{\n    conn_str    = "{conn}"\n'
            f'    schema_name = "{schema}"\n  }}\n}}\n'
        )


# --- issue 22: a thousand nodes, side by side with hashicorp/tls --------------------------------------------
# The per-node root of docs/per-node.md, outputting every certificate and key as the per-node example does,
# in three shapes with the same certificates (3 etcd members and N nodes, a client and a serving
# certificate each, ECDSA P-256): tfext with keys in state, tfext with a key directory, and the usual
# hashicorp/tls way (tls_private_key + tls_cert_request + tls_locally_signed_cert, for_each over them).


def thousand_root(
    dest: Path, terraform_dir: Path, nodes: int, *, key_dir: bool = False, node_groups: int | None = None
) -> Path:
    """tfext's per-node root for the scale section; with `key_dir`, every key in ./keys (0700); with
    `node_groups`, the nodes in that many issuing stages (unset: the module's default, 64 in a new
    workspace)."""
    dest.mkdir(parents=True, exist_ok=True)
    modules = os.path.relpath(terraform_dir / "modules" / "tls", dest.resolve())
    key_line = '  key_dir       = "keys"\n' if key_dir else ""
    groups_line = f"  node_groups        = {node_groups}\n" if node_groups is not None else ""
    outputs = (
        # the documented key-directory pattern: every module output but the keys (and where they are)
        'output "kube" {\n  value = { for k, v in module.kube : k => v if !endswith(k, "key_pem") }\n}\n'
        'output "etcd" {\n  value = { for k, v in module.etcd : k => v if !endswith(k, "key_pem") }\n}\n'
        if key_dir
        else 'output "kube" {\n  value     = module.kube\n  sensitive = true\n}\n'
        'output "etcd" {\n  value     = module.etcd\n  sensitive = true\n}\n'
    )
    (dest / "main.tf").write_text(
        f"""variable "nodes" {{
  type = number
}}

locals {{
  nodes   = [for i in range(var.nodes) : format("node-%04d", i)]
  serving = {{ for i, n in local.nodes : n => {{ ip_addresses = [cidrhost("10.64.0.0/12", i + 1)] }} }}
  members = {{
    for i in range({PER_NODE_MEMBERS}) : "etcd-${{i}}" => {{ ip_addresses = ["10.0.0.${{10 + i}}"] }}
  }}
}}

module "kube" {{
  source             = "{modules}/kube/self-signed"
  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
  key_algorithm      = "ECDSA-P256"
  nodes              = local.nodes
  kubelet_serving    = local.serving
{groups_line}{key_line}}}

module "etcd" {{
  source        = "{modules}/etcd/signed"
  self_signed   = true
  key_algorithm = "ECDSA-P256"
  members       = local.members
{key_line}}}

{outputs}"""
    )
    if key_dir:
        (dest / "keys").mkdir(mode=0o700, exist_ok=True)
    use_pg_backend(dest)
    set_nodes(dest, nodes)
    return dest


def tls_root(dest: Path, nodes: int) -> Path:
    """The same certificates the usual way, with hashicorp/tls: two CAs (tls_private_key +
    tls_self_signed_cert) and every leaf a tls_private_key, a tls_cert_request and a
    tls_locally_signed_cert, `for_each` over them; every certificate and key an output."""
    dest.mkdir(parents=True, exist_ok=True)
    template = (Path(__file__).resolve().parent / "roots" / "tls-per-node.tf").read_text()
    (dest / "main.tf").write_text(template.replace("MEMBERS", str(PER_NODE_MEMBERS)))
    use_pg_backend(dest)
    set_nodes(dest, nodes)
    return dest


def tectonic_tls_root(dest: Path) -> Path:
    """Tectonic's four TLS modules the hashicorp/tls way (bench/roots/tectonic-tls): the baseline of the
    example's goal against Tectonic's own modules."""
    src = Path(__file__).resolve().parent / "roots" / "tectonic-tls"
    return Path(shutil.copytree(src, dest, ignore=shutil.ignore_patterns("*.md")))


def floor_data_root(dest: Path, resources: int) -> Path:
    """Terraform's floor for a root of `resources` resources: as many `terraform_data`, nothing else."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "main.tf").write_text(
        f'resource "terraform_data" "floor" {{\n  count = {resources}\n  input = "x"\n}}\n'
    )
    use_pg_backend(dest)
    return dest


def tls_cli_config(dest: Path, external_mirror: Path | None, tls_mirror: Path) -> Path:
    """A CLI config installing hashicorp/tls from `tls_mirror` (and hashicorp/external from its mirror)."""
    include = ['"registry.terraform.io/hashicorp/tls"']
    mirrors = [f'  filesystem_mirror {{\n    path    = "{tls_mirror}"\n    include = [{include[0]}]\n  }}\n']
    if external_mirror is not None:
        mirrors.append(
            f'  filesystem_mirror {{\n    path    = "{external_mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/external"]\n  }\n'
        )
    dest.write_text("provider_installation {\n" + "".join(mirrors) + "}\n")
    return dest
