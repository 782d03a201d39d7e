"""The bench's sections: what each measures, side by side, and the goals it judges.

Each section returns its series (label -> samples) and may add goals, results and notes to the context.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pki
import tfroots
from timing import Sample, Series, progress, run, run_parallel, side_by_side

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = REPO / ".venv" / "bin"
FLOOR = "import cryptography.x509, jsonschema"


@dataclass
class Goal:
    name: str
    value: float  # a ratio, or MB for memory
    limit: float
    detail: str
    unit: str = "x"
    strict: bool = False  # value < limit (else <=)

    @property
    def passed(self) -> bool:
        return self.value < self.limit if self.strict else self.value <= self.limit

    def as_json(self) -> dict:
        op = "<" if self.strict else "<="
        return {
            "goal": self.name,
            "value": round(self.value, 3),
            "limit": f"{op} {self.limit}{self.unit}",
            "detail": self.detail,
            "pass": self.passed,
        }


@dataclass
class Context:
    """One bench run: its scratch directory, the environment of every measured command, what to run how
    often, and what the sections found (goals, notes, results for results.json)."""

    work: Path
    env: dict[str, str]
    runs: int
    tf_runs: int
    scale_runs: int
    scale_sizes: list[int]
    tfext: Path = VENV_BIN / "tfext"
    per_node_sizes: list[int] = field(default_factory=lambda: [3, 30, 100])
    per_node_runs: int = 3
    per_node_algorithms: list[str] = field(default_factory=lambda: ["ECDSA-P256", "RSA-2048"])
    thousand_sizes: list[int] = field(default_factory=lambda: [10, 100, 1000])
    thousand_runs: int = 3  # at 1000 nodes: 1
    python: Path = VENV_BIN / "python"
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    program_rss_mb: list[float] = field(default_factory=list)
    results: dict = field(default_factory=dict)
    _cli_config: Path | None = None
    _terraform_dir: Path | None = None
    _user_files: dict[str, dict[str, str]] | None = None
    _counter: int = 0

    def record_program(self, sample: Sample) -> None:
        self.program_rss_mb.append(sample.maxrss_mb)

    def scratch(self, name: str) -> Path:
        self._counter += 1
        return self.work / f"{self._counter:04d}-{name}"

    def note(self, text: str) -> None:
        self.notes.append(text)
        progress(f"  note: {text}\n")

    def python_cmd(self, code: str) -> Callable[[], Sample]:
        argv = [str(self.python), "-c", code]
        return lambda: run(argv, env=self.env).check(f"python -c {code!r}").sample

    def program_cmd(self, program: str, query: dict[str, str]) -> Callable[[], Sample]:
        return lambda: pki.run_program(self, program, query).sample

    def terraform_dir(self) -> Path:
        """This checkout's terraform/, as it was when first asked for (see `tfroots.snapshot`)."""
        if self._terraform_dir is None:
            self._terraform_dir = tfroots.snapshot(REPO, self.work / "terraform")
        return self._terraform_dir

    def terraform(self, workdir: Path, path_first: Path | None = None) -> tfroots.Terraform:
        """Terraform in `workdir` with the offline provider (`path_first`: a directory to put first on
        PATH, where Terraform finds `tfext`)."""
        if self._cli_config is None:
            self._cli_config = install_provider(self)
        env = self.env | {"TF_CLI_CONFIG_FILE": str(self._cli_config)}
        if path_first:
            env["PATH"] = f"{path_first}{os.pathsep}{env['PATH']}"
        return tfroots.Terraform(workdir, env)


# --- sections -----------------------------------------------------------------------------------------


def section_pki(ctx: Context, key_algorithm: str) -> dict[str, Series]:
    """The full PKI: our programs vs a cfssl script vs an openssl script (in parallel stages, and one
    certificate after another), and the floor of our process model (same processes, keygen only)."""
    scripts = {}
    if shutil.which("cfssl"):
        cfssljson = shutil.which("cfssljson")
        if not cfssljson:
            ctx.note("cfssljson is missing: the cfssl script splits cfssl's JSON with python3 instead")
        for parallel in (True, False):
            name = f"cfssl-{'parallel' if parallel else 'serial'}"
            scripts[name] = pki.write_cfssl_script(ctx.work, key_algorithm, parallel, cfssljson)
    else:
        ctx.note("cfssl is not installed: no cfssl comparison")
    if shutil.which("openssl"):
        for parallel in (True, False):
            name = f"openssl-{'parallel' if parallel else 'serial'}"
            scripts[name] = pki.write_openssl_script(ctx.work, key_algorithm, parallel)
    labels = {
        "cfssl-parallel": "cfssl script, CAs then leaves in parallel",
        "cfssl-serial": "cfssl script, one cert after another",
        "openssl-parallel": "openssl script, CAs then leaves in parallel",
        "openssl-serial": "openssl script, one cert after another",
    }
    ours = "tfext programs, as Terraform runs them"
    floor = "floor: same 6 processes, import cryptography.x509 + keygen only"
    variants = {
        ours: lambda: pki.run_ours(ctx, key_algorithm)[0],
        floor: lambda: pki.run_keygen_floor(ctx, key_algorithm),
    }
    for name, script in scripts.items():
        variants[labels[name]] = lambda s=script, n=name: script_sample(ctx, s, n)
    series = side_by_side(variants, ctx.runs)

    _, results = pki.run_ours(ctx, key_algorithm)
    parallel_scripts = {name: s for name, s in scripts.items() if name.endswith("parallel")}
    mismatches = pki.check_scripts_match(ctx, pki.our_files(results), parallel_scripts, key_algorithm)
    ctx.results.setdefault("equivalence", {})[key_algorithm] = mismatches
    ratios = ctx.results.setdefault("ratios", {})
    ratios[f"{key_algorithm}: tfext / process-model floor"] = round(series[ours].wall / series[floor].wall, 3)
    for name in scripts:
        for who, label in (("tfext", ours), ("process-model floor", floor)):
            ratios[f"{key_algorithm}: {who} / {name}"] = round(
                series[label].wall / series[labels[name]].wall, 3
            )
    if key_algorithm == "RSA-2048" and "cfssl-parallel" in scripts:
        cfssl = series[labels["cfssl-parallel"]]
        ctx.results["cfssl_parallel_rsa_s"] = cfssl.wall
        serial = series[labels["cfssl-serial"]]
        ratio_goal(
            ctx,
            "full PKI (RSA-2048): tfext programs <= 0.5x cfssl script",
            0.5,
            series[ours],
            cfssl,
            f"vs the serial script {series[ours].wall / serial.wall:.2f}x; "
            f"the process-model floor alone {series[floor].wall / cfssl.wall:.2f}x",
        )
    return series


def ratio_goal(ctx: Context, name: str, limit: float, num: Series, den: Series, extra: str = "") -> None:
    """A goal on the ratio of two wall-clock medians; the detail gives both, and the CPU ratio."""
    detail = f"{fmt_s(num.wall)} / {fmt_s(den.wall)}; CPU {num.cpu / den.cpu:.2f}x"
    ctx.goals.append(Goal(name, num.wall / den.wall, limit, detail + (f"; {extra}" if extra else "")))


def script_sample(ctx: Context, script: Path, name: str) -> Sample:
    out = ctx.scratch(name)
    try:
        return pki.run_script(ctx, script, out).sample
    finally:
        shutil.rmtree(out, ignore_errors=True)


def user_files(ctx: Context) -> dict[str, dict[str, str]]:
    """A full PKI made by our programs, as files, and the query of each *-user-provided program for them
    (as terraform/modules/tls/*/user-provided/main.tf builds it)."""
    if ctx._user_files is None:
        _, results = pki.run_ours(ctx, "RSA-2048")
        tls = ctx.scratch("user-provided-tls")
        tls.mkdir()
        paths = {}
        for name, (cert, key) in pki.our_files(results).items():
            (tls / f"{name}.crt").write_text(cert)
            (tls / f"{name}.key").write_text(key)
            (tls / f"{name}.key").chmod(0o600)
            paths[name] = (str(tls / f"{name}.crt"), str(tls / f"{name}.key"))
        names = pki.leaf_names()
        hours = {"renewal_window_hours": "720"}

        def pair(slot: str, cert_name: str) -> dict[str, str]:
            return {f"{slot}_cert_path": paths[cert_name][0], f"{slot}_key_path": paths[cert_name][1]}

        ctx._user_files = {
            "etcd-user-provided": {"ca_cert_path": paths["etcd-ca"][0]}
            | pair("server", "etcd-server")
            | pair("peer", "etcd-peer")
            | pair("client", "etcd-client")
            | names["etcd"]
            | hours,
            "kube-user-provided": {"ca_cert_path": paths["kube-ca"][0], "ca_key_path": paths["kube-ca"][1]}
            | pair("apiserver", "kube-apiserver")
            | pair("kubelet", "kube-kubelet")
            | names["kube"]
            | hours,
            "identity-user-provided": {"ca_cert_path": paths["kube-ca"][0]}
            | pair("server", "identity-server")
            | pair("client", "identity-client")
            | names["identity"]
            | hours,
            "ingress-user-provided": {"ca_cert_path": paths["kube-ca"][0]}
            | pair("ingress", "ingress")
            | names["ingress"]
            | hours,
        }
    return ctx._user_files


def section_program(ctx: Context) -> dict[str, Series]:
    """One program run against the import floor, for every kind of run."""
    queries = user_files(ctx)
    kube_ca = json.loads(pki.run_program(ctx, "kube-self-signed", pki.ca_query("kube", "RSA-2048")).stdout)
    floor = f"floor: python -c '{FLOOR}'"
    variants = {
        floor: ctx.python_cmd(FLOOR),
        "python -c pass (interpreter start)": ctx.python_cmd("pass"),
    }
    for program, query in queries.items():
        variants[f"tfext {program}"] = ctx.program_cmd(program, query)
    variants["tfext kube-self-signed: issue the CA (1 key)"] = ctx.program_cmd(
        "kube-self-signed", pki.ca_query("kube", "RSA-2048")
    )
    variants["tfext kube-self-signed: leaves (2 keys)"] = ctx.program_cmd(
        "kube-self-signed", pki.leaf_query("kube", "RSA-2048", kube_ca)
    )
    variants["tfext kube-self-signed: no-change plan (placeholders)"] = ctx.program_cmd(
        "kube-self-signed", pki.leaf_query("kube", "RSA-2048", kube_ca, issued_at=pki.EARLIER)
    )
    etcd_ca = json.loads(pki.run_program(ctx, "etcd-signed", pki.ca_query("etcd", "RSA-2048")).stdout)
    etcd_signed = "tfext etcd-signed: leaves (3 keys)"
    variants[etcd_signed] = ctx.program_cmd("etcd-signed", pki.leaf_query("etcd", "RSA-2048", etcd_ca))
    series = side_by_side(variants, ctx.runs * 2)
    # Issue 2's pair: a run with no key generation, and one that generates (reported, no goal).
    for label in ("tfext etcd-user-provided", etcd_signed):
        ctx.note(f"{label} / import floor: {series[label].wall / series[floor].wall:.2f}x")
    ratios = {p: series[f"tfext {p}"].wall / series[floor].wall for p in queries}
    worst = max(ratios, key=ratios.get)
    ratio_goal(
        ctx,
        "one user-provided program run <= 1.3x import floor",
        1.3,
        series[f"tfext {worst}"],
        series[floor],
        f"worst of 4: {worst}; " + ", ".join(f"{p.split('-')[0]} {r:.2f}x" for p, r in ratios.items()),
    )
    return series


def section_user_provided(ctx: Context) -> dict[str, Series]:
    """The four *-user-provided programs at once (Terraform reads the four data sources in parallel)."""
    queries = user_files(ctx)
    floor = f"floor: python -c '{FLOOR}'"

    def all_four() -> Sample:
        jobs = [lambda p=p, q=q: pki.run_program(ctx, p, q) for p, q in queries.items()]
        done, wall = run_parallel(jobs)
        return Sample.combine_parallel([d.sample for d in done], wall)

    series = side_by_side(
        {floor: ctx.python_cmd(FLOOR), "4 user-provided programs in parallel": all_four}, ctx.runs * 2
    )
    four = series["4 user-provided programs in parallel"]
    ratio_goal(
        ctx, "validate the full user-provided PKI (4 in parallel) <= 2x floor", 2.0, four, series[floor]
    )
    return series


def section_terraform(ctx: Context) -> dict[str, Series]:
    """`terraform apply` (empty state) and a no-change `plan` of the example vs the harness floor."""
    example = ctx.terraform(tfroots.copy_example(ctx.terraform_dir(), "tectonic", ctx.scratch("tf-example")))
    floor = ctx.terraform(tfroots.floor_root(ctx.scratch("tf-floor"), str(ctx.python)))
    for tf in (example, floor):
        tf.init()
    example_label, floor_label = "apply: tectonic example", "apply: harness floor (6 trivial data sources)"
    labels = {example_label: example, floor_label: floor}
    # Tectonic's own modules on hashicorp/tls, where a filesystem mirror holds it (TFEXT_TLS_MIRROR)
    tls_label = "apply: Tectonic's modules on hashicorp/tls"
    tls = _tls_terraform(ctx, tfroots.tectonic_tls_root(ctx.scratch("tf-tectonic-tls")), "tls-tectonic")
    if tls is None:
        ctx.note(
            "terraform: TFEXT_TLS_MIRROR is not set, so Tectonic's modules on hashicorp/tls are not measured"
        )
    else:
        tls.init()
        labels[tls_label] = tls
    variants: dict[str, Callable[[], Sample]] = {
        k: (lambda tf=tf: tf.apply().sample) for k, tf in labels.items()
    }
    cfssl_label = "cfssl script (RSA-2048, parallel), for the apply goal"
    if shutil.which("cfssl"):
        script = pki.write_cfssl_script(ctx.work, "RSA-2048", True, shutil.which("cfssljson"))
        variants[cfssl_label] = lambda: script_sample(ctx, script, "cfssl-parallel")

    def empty_state(label: str) -> None:
        if label in labels:
            labels[label].forget_state()

    series = side_by_side(variants, ctx.tf_runs, before_each=empty_state)
    for tf in labels.values():  # state for the no-change plans (the last apply's)
        if not (tf.workdir / "terraform.tfstate").exists():
            tf.apply()
    drift = pki.query_drift(json.loads((example.workdir / "terraform.tfstate").read_text()))
    ctx.results["query_drift"] = drift
    if drift:
        ctx.note("the programs' queries in bench/pki.py differ from the example's: " + "; ".join(drift[:5]))
    # Terraform's own share: the example's plan with a stub that answers placeholders and runs no tfext code.
    stub = ctx.terraform(
        tfroots.copy_example(ctx.terraform_dir(), "tectonic", ctx.scratch("tf-stub")),
        path_first=tfroots.placeholder_stub(ctx.work / "stub-bin", ctx.python),
    )
    stub.init()
    shutil.copy(example.workdir / "terraform.tfstate", stub.workdir / "terraform.tfstate")
    time.sleep(1.1)  # plantimestamp() has 1 s resolution: a plan in the apply's second would issue again
    plans: dict[str, Callable[[], Sample]] = {
        "no-change plan: tectonic example": lambda: example.plan().sample,
        "no-change plan: harness floor": lambda: floor.plan().sample,
        "no-change plan: example with a placeholder stub for tfext": lambda: stub.plan().sample,
    }
    if tls is not None:
        plans["no-change plan: Tectonic's modules on hashicorp/tls"] = lambda: tls.plan().sample
    series |= side_by_side(plans, ctx.tf_runs)
    if tls is not None:
        ratio_goal(
            ctx,
            "terraform apply of the example (empty state) <= 0.6x Tectonic's modules on hashicorp/tls",
            0.6,
            series[example_label],
            series[tls_label],
            "side by side",
        )
        ratio_goal(
            ctx,
            "no-change plan of the example <= 0.5x Tectonic's modules on hashicorp/tls",
            0.5,
            series["no-change plan: tectonic example"],
            series["no-change plan: Tectonic's modules on hashicorp/tls"],
            "side by side",
        )
    if cfssl_label in series:
        ratio_goal(
            ctx,
            "terraform apply of the example (empty state) <= 0.6x cfssl script",
            0.6,
            series[example_label],
            series[cfssl_label],
            f"harness floor alone: {series[floor_label].wall / series[cfssl_label].wall:.2f}x",
        )
    plan_floor = series["no-change plan: harness floor"]
    stub_ratio = series["no-change plan: example with a placeholder stub for tfext"].wall / plan_floor.wall
    ratio_goal(
        ctx,
        "no-change terraform plan of the example <= 1.25x harness floor",
        1.25,
        series["no-change plan: tectonic example"],
        plan_floor,
        f"with a stub instead of tfext: {stub_ratio:.2f}x",
    )
    return series


def section_scale(ctx: Context) -> dict[str, Series]:
    """N clusters in one root module: apply and no-change plan, and the cost of one more cluster."""
    cluster = tfroots.copy_example(ctx.terraform_dir(), "tectonic", ctx.work / "cluster-module")
    roots = {
        n: ctx.terraform(tfroots.scale_root(ctx.scratch(f"scale-{n}"), cluster, n)) for n in ctx.scale_sizes
    }
    for tf in roots.values():
        tf.init()
    apply = {f"apply: {n} cluster(s)": (lambda tf=tf: tf.apply().sample) for n, tf in roots.items()}
    by_label = dict(zip(apply, roots.values(), strict=True))
    series = side_by_side(
        apply, ctx.scale_runs, warmup=0, before_each=lambda label: by_label[label].forget_state()
    )
    plan = {f"no-change plan: {n} cluster(s)": (lambda tf=tf: tf.plan().sample) for n, tf in roots.items()}
    time.sleep(1.1)  # plantimestamp() has 1 s resolution: a plan in the apply's second would issue again
    series |= side_by_side(plan, ctx.scale_runs, warmup=0)

    keygen = rsa_keygen_seconds()
    sizes = list(roots)
    slopes = {}
    for kind in ("apply", "no-change plan"):
        runs = [series[f"{kind}: {n} cluster(s)"] for n in sizes]
        slopes[kind] = {
            "wall_s_per_cluster": round(slope(sizes, [s.wall for s in runs]), 4),
            "cpu_s_per_cluster": round(slope(sizes, [s.cpu for s in runs]), 4),
        }
    ctx.results["scale"] = {
        "sizes": sizes,
        "slopes": slopes,
        "rsa2048_keygen_s": round(keygen, 4),
        "keygen_cpu_s_per_cluster": round(10 * keygen, 4),
        "keygen_wall_s_per_cluster_on_2_cores": round(10 * keygen / 2, 4),
    }
    return series


def section_per_node(ctx: Context) -> dict[str, Series]:
    """One identity per node (issue 14): kube/self-signed with N nodes, each with a kubelet client and a
    kubelet serving certificate, and etcd/signed with 3 members (server + peer each), at each N of
    ctx.per_node_sizes: the first apply, an apply adding one node (and one removing it), the no-change plan
    and the programs it runs, state size and resources; against one key generation in this process."""
    series: dict[str, Series] = {}
    results = ctx.results.setdefault(
        "per_node",
        {"sizes": ctx.per_node_sizes, "etcd_members": tfroots.PER_NODE_MEMBERS, "by_algorithm": {}},
    )
    for algorithm in ctx.per_node_algorithms:
        progress(f"{algorithm} ")
        found, measured = per_node_for(ctx, algorithm)
        results["by_algorithm"][algorithm] = found
        series |= measured
    quiet_runs = {
        f"{alg}, {n} nodes": size["quiet_plan_programs"]
        for alg, found in results["by_algorithm"].items()
        for n, size in found["sizes"].items()
    }
    ctx.goals.append(
        Goal(
            "no-change plan with one identity per node runs no program",
            max(quiet_runs.values()),
            0,
            "programs run by the no-change plans, most of any size: "
            + ", ".join(f"{k} {v}" for k, v in quiet_runs.items()),
            unit=" runs",
        )
    )
    return series


def per_node_for(ctx: Context, algorithm: str) -> tuple[dict, dict[str, Series]]:
    sizes = ctx.per_node_sizes
    log = ctx.work / f"per-node-runs-{algorithm}"
    counter = tfroots.counting_tfext(ctx.work / f"per-node-bin-{algorithm}", ctx.tfext)
    roots = {}
    for n in sizes:
        root = tfroots.per_node_root(
            ctx.scratch(f"per-node-{algorithm}-{n}"), ctx.terraform_dir(), algorithm, n
        )
        roots[n] = ctx.terraform(root, path_first=counter)
        roots[n].env["TFEXT_RUN_LOG"] = str(log)
        roots[n].init()

    # label => per measured run: (programs run, their summed wall seconds), from the wrapper's log
    programs: dict[str, list[tuple[int, float]]] = {}

    def counted(label: str, step: Callable[[], Sample], keep: bool = True) -> Sample:
        before = tfroots.program_runs(log)
        sample = step()
        runs = tfroots.program_runs(log)[len(before) :]
        if keep:
            programs.setdefault(label, []).append((len(runs), sum(seconds for _, seconds in runs)))
        return sample

    label = {n: f"{algorithm}, {n} nodes" for n in sizes}
    first = {
        f"first apply: {label[n]}": lambda n=n: counted(f"first {n}", lambda: roots[n].apply().sample)
        for n in sizes
    }
    by_first = dict(zip(first, sizes, strict=True))
    series = side_by_side(
        first, ctx.per_node_runs, warmup=0, before_each=lambda k: roots[by_first[k]].forget_state()
    )

    # One node more, then one less again, each an apply; sizes interleaved round by round, after a round
    # that warms up (and drops the first apply's data source results from state).
    add = {n: Series(f"add one node: {label[n]}") for n in sizes}
    remove = {n: Series(f"remove that node: {label[n]}") for n in sizes}
    for round_no in range(1 + ctx.per_node_runs):
        shift, keep = round_no % len(sizes), round_no >= 1
        for n in sizes[shift:] + sizes[:shift]:
            tf = roots[n]
            tfroots.set_nodes(tf.workdir, n + 1)
            added = counted(f"add {n}", lambda tf=tf: tf.apply().sample, keep)
            tfroots.set_nodes(tf.workdir, n)
            removed = counted(f"remove {n}", lambda tf=tf: tf.apply().sample, keep)
            if keep:
                add[n].samples.append(added)
                remove[n].samples.append(removed)
        progress(".")
    progress("\n")
    for n in sizes:
        series[add[n].label], series[remove[n].label] = add[n], remove[n]

    time.sleep(1.1)  # plantimestamp() has 1 s resolution: a plan in the apply's second would issue again
    quiet = {
        f"no-change plan: {label[n]}": lambda n=n: counted(f"quiet {n}", lambda: roots[n].plan().sample)
        for n in sizes
    }
    series |= side_by_side(quiet, ctx.per_node_runs)

    keygen = keygen_seconds(algorithm)
    found: dict = {"key_generation_s": round(keygen, 6), "sizes": {}}
    for n in sizes:
        tf = roots[n]
        state = tf.run("state", "pull").check("terraform state pull").stdout
        resources = tf.run("state", "list").check("terraform state list").stdout.decode().split()
        first_s, add_s = series[f"first apply: {label[n]}"], add[n]
        quiet_s = series[f"no-change plan: {label[n]}"]

        def most(kind: str, n: int = n) -> int:
            return max(count for count, _ in programs[f"{kind} {n}"])

        def program_s(kind: str, n: int = n) -> float:
            return round(statistics.median(seconds for _, seconds in programs[f"{kind} {n}"]), 3)

        found["sizes"][n] = {
            "certificates": tfroots.per_node_certificates(n),
            "first_apply_s": round(first_s.wall, 3),
            "first_apply_cpu_s": round(first_s.cpu, 3),
            "first_apply_programs": most("first"),
            "first_apply_program_s": program_s("first"),
            "add_node_s": round(add_s.wall, 3),
            "add_node_cpu_s": round(add_s.cpu, 3),
            "add_node_programs": most("add"),
            "add_node_program_s": program_s("add"),
            "add_node_in_key_generations": round(add_s.wall / keygen),
            "remove_node_s": round(remove[n].wall, 3),
            "remove_node_programs": most("remove"),
            "quiet_plan_s": round(quiet_s.wall, 3),
            "quiet_plan_cpu_s": round(quiet_s.cpu, 3),
            "quiet_plan_programs": most("quiet"),
            "state_bytes": len(state),
            "resources": len(resources),
            "terraform_data": sum(".terraform_data." in r for r in resources),
        }
    walls = [series[f"first apply: {label[n]}"].wall for n in sizes]
    found["first_apply_s_per_node"] = round(slope(sizes, walls), 4)
    found["add_node_s_per_node"] = round(slope(sizes, [add[n].wall for n in sizes]), 4)
    quiet_walls = [series[f"no-change plan: {label[n]}"].wall for n in sizes]
    found["quiet_plan_s_per_node"] = round(slope(sizes, quiet_walls), 4)
    return found, series


def keygen_seconds(algorithm: str) -> float:
    """Median time of one key generation of `algorithm` by tfext.keys.generate, in this process."""
    from tfext import keys

    samples = 15 if algorithm.startswith("RSA") else 201
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        keys.generate(algorithm)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rsa_keygen_seconds(samples: int = 15) -> float:
    """Median time of one RSA-2048 key generation, in this process (the cost per key of any run)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    times = []
    for _ in range(samples):
        start = time.perf_counter()
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def slope(xs: list[int], ys: list[float]) -> float:
    """Least-squares slope of ys over xs."""
    if len(xs) < 2:
        return float("nan")
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def install_provider(ctx: Context) -> Path:
    """A CLI config installing hashicorp/external offline (as `make provider` does)."""
    config = ctx.work / "terraformrc"
    mirror = os.environ.get("TFEXT_PROVIDER_MIRROR")
    if mirror:  # a real provider in a filesystem mirror: only the CLI config is ours (as `make provider`)
        from tfext.provider.install import cli_config_text

        config.write_text(cli_config_text(Path(mirror)))
        return config
    done = run(
        [
            str(ctx.python),
            "-m",
            "tfext",
            "install-provider",
            str(ctx.work / "mirror"),
            "--cli-config",
            str(config),
        ],
        env=ctx.env,
    )
    done.check("tfext install-provider")
    return config


def fmt_s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


# --- issue 22: a thousand nodes -------------------------------------------------------------------------


# The third tfext variant: the kube module's nodes in a stage each (node_groups = 0), as a workspace from
# before 0.5 keeps them; a new one (the "tfext" variant) has them in 64 stages.
PER_NODE_STAGES = "tfext a stage per node"


def _tls_terraform(ctx: Context, root: Path, name: str) -> tfroots.Terraform | None:
    """Terraform in a hashicorp/tls root, installing the provider from the filesystem mirror named by
    TFEXT_TLS_MIRROR; None without one."""
    mirror = os.environ.get("TFEXT_TLS_MIRROR")
    if not mirror:
        return None
    config = tfroots.tls_cli_config(ctx.work / f"{name}-terraformrc", None, Path(mirror))
    return tfroots.Terraform(root, ctx.env | {"TF_CLI_CONFIG_FILE": str(config)})


def section_thousand(ctx: Context) -> dict[str, Series]:
    """The per-node root at each of ctx.thousand_sizes nodes (ECDSA P-256, every certificate and key an
    output), in four shapes with the same certificates: tfext with keys in state, tfext with a key
    directory, tfext with a stage per node (node_groups = 0), and hashicorp/tls (when TFEXT_TLS_MIRROR
    names a filesystem mirror holding it); beside
    Terraform's floor (as many terraform_data as tfext's root has). For each: the first apply, the
    no-change plan, an apply adding one node, state size, resources and Terraform's peak memory.
    Side by side: each size's variants interleaved round by round."""
    tls_mirror = os.environ.get("TFEXT_TLS_MIRROR")
    series: dict[str, Series] = {}
    backend = "pg" if os.environ.get("TFEXT_BENCH_PG") else "local"
    found: dict = {"sizes": {}, "runs": ctx.thousand_runs, "tls": bool(tls_mirror), "backend": backend}
    ctx.note(f"thousand: Terraform's {backend} backend (TFEXT_BENCH_PG names a PostgreSQL for the pg one)")
    if not tls_mirror:
        ctx.note(
            "thousand: TFEXT_TLS_MIRROR is not set, so hashicorp/tls is not measured: tfext and the floor"
        )
    for n in ctx.thousand_sizes:
        progress(f"{n} nodes ")
        roots = {
            "tfext": ctx.terraform(
                tfroots.thousand_root(ctx.scratch(f"thousand-{n}"), ctx.terraform_dir(), n)
            ),
            "tfext key_dir": ctx.terraform(
                tfroots.thousand_root(ctx.scratch(f"thousand-{n}-kd"), ctx.terraform_dir(), n, key_dir=True)
            ),
            PER_NODE_STAGES: ctx.terraform(
                tfroots.thousand_root(
                    ctx.scratch(f"thousand-{n}-per-node"), ctx.terraform_dir(), n, node_groups=0
                )
            ),
        }
        tls = _tls_terraform(ctx, tfroots.tls_root(ctx.scratch(f"thousand-{n}-tls"), n), "tls")
        if tls is not None:
            roots["hashicorp/tls"] = tls
        for tf in roots.values():
            tf.init()
        size = _thousand_size(ctx, n, roots)
        found["sizes"][n] = size["found"]
        series |= size["series"]
        # the floor: as many terraform_data as tfext's root keeps, nothing else
        floor = ctx.terraform(tfroots.floor_data_root(ctx.scratch(f"thousand-{n}-floor"), size["resources"]))
        floor.init()
        first = floor.apply().sample
        floor.forget_state()
        found["sizes"][n]["floor"] = {"first_apply_s": round(first.wall, 3), "resources": size["resources"]}
        progress("\n")
    ctx.results["thousand"] = found
    _thousand_goals(ctx, found)
    return series


def _thousand_size(ctx: Context, n: int, roots: dict[str, tfroots.Terraform]) -> dict:
    runs = ctx.thousand_runs if n < 1000 else 1
    first = {
        f"first apply, {n} nodes: {name}": (lambda tf=tf: tf.apply().sample) for name, tf in roots.items()
    }
    by_label = {f"first apply, {n} nodes: {name}": tf for name, tf in roots.items()}
    series = side_by_side(first, runs, warmup=0, before_each=lambda k: _fresh(by_label[k]))
    found: dict = {}
    for name, tf in roots.items():
        state = tf.run("state", "pull").check("terraform state pull").stdout
        resources = tf.run("state", "list").check("terraform state list").stdout.decode().split()
        found[name] = {"state_bytes_after_first_apply": len(state), "resources": len(resources)}
    time.sleep(1.1)  # plantimestamp() has 1 s resolution
    quiet = {
        f"no-change plan, {n} nodes: {name}": (lambda tf=tf: tf.plan().sample) for name, tf in roots.items()
    }
    series |= side_by_side(quiet, runs, warmup=1 if runs > 1 else 0)
    add = {}
    for name, tf in roots.items():
        tfroots.set_nodes(tf.workdir, n + 1)
        add[name] = tf.apply().sample
        tfroots.set_nodes(tf.workdir, n)
        tf.apply()  # back to n, for the state size below
        tf.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color").check("refresh-only")
        state = tf.run("state", "pull").check("terraform state pull").stdout
        first_s = series[f"first apply, {n} nodes: {name}"]
        quiet_s = series[f"no-change plan, {n} nodes: {name}"]
        found[name] |= {
            "first_apply_s": round(first_s.wall, 3),
            "first_apply_peak_mb": round(max(s.maxrss_mb for s in first_s.samples), 1),
            "no_change_plan_s": round(quiet_s.wall, 3),
            "no_change_plan_peak_mb": round(max(s.maxrss_mb for s in quiet_s.samples), 1),
            "add_one_node_s": round(add[name].wall, 3),
            "state_bytes": len(state),
            "state_bytes_per_certificate": round(len(state) / tfroots.per_node_certificates(n)),
        }
        series[f"add one node, {n} nodes: {name}"] = Series(f"add one node, {n} nodes: {name}", [add[name]])
    found["certificates"] = tfroots.per_node_certificates(n)
    return {"found": found, "series": series, "resources": found["tfext"]["resources"]}


def _fresh(tf: tfroots.Terraform) -> None:
    tf.forget_state()
    keys = tf.workdir / "keys"
    if keys.is_dir():
        shutil.rmtree(keys)
        keys.mkdir(mode=0o700)


def _thousand_goals(ctx: Context, found: dict) -> None:
    def ratio(n: int, metric: str, a: str, b: str) -> float | None:
        size = found["sizes"].get(n, {})
        if a in size and b in size and size[b][metric]:
            return size[a][metric] / size[b][metric]
        return None

    for n in found["sizes"]:
        for metric, limit in (("first_apply_s", 1.05), ("no_change_plan_s", 1.05)):
            value = ratio(n, metric, "tfext key_dir", "tfext")
            if value is not None:
                ctx.goals.append(
                    Goal(f"{n} nodes: key directory / keys in state, {metric}", value, limit, "")
                )
        value = ratio(n, "state_bytes_per_certificate", "tfext key_dir", "tfext")
        if value is not None:
            ctx.goals.append(
                Goal(f"{n} nodes: key directory / keys in state, state per certificate", value, 0.5, "")
            )
    if 100 in found["sizes"] and found["tls"]:
        for metric, limit in (
            ("first_apply_s", 1.0),
            ("no_change_plan_s", 0.5),
            ("add_one_node_s", 0.8),
            ("state_bytes", 1.0),
        ):
            value = ratio(100, metric, "tfext", "hashicorp/tls")
            ctx.goals.append(
                Goal(f"100 nodes: tfext / hashicorp/tls, {metric}", value, limit, "side by side")
            )
    for variant in ("tfext", PER_NODE_STAGES):
        if variant not in found["sizes"].get(1000, {}):
            continue
        big, label = found["sizes"][1000][variant], f"1000 nodes ({variant})"
        ctx.goals.append(
            Goal(f"{label}: first apply", big["first_apply_s"], 300, "seconds", unit=" s", strict=True)
        )
        ctx.goals.append(
            Goal(f"{label}: no-change plan", big["no_change_plan_s"], 10, "seconds", unit=" s", strict=True)
        )
        peak = max(big["first_apply_peak_mb"], big["no_change_plan_peak_mb"])
        ctx.goals.append(Goal(f"{label}: terraform peak memory", peak, 1024, "MB", unit="MB", strict=True))
