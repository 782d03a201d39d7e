"""tfext benchmarks (issue 7): how fast is the PKI, against peers and against the floors.

    python bench/run.py                         every section but per-node (about 6-7 minutes on 2 cores)
    python bench/run.py --sections program,user-provided --runs 15
    python bench/run.py --quick                 fewer runs, scale 1 and 5 only (about 2 minutes)
    python bench/run.py --sections per-node --merge   one section, merged into bench/results.json
    python bench/run.py --sections thousand --thousand 10,100 --merge   issue 22's scale, without 1000
    TFEXT_BENCH_PG=<conn str> python bench/run.py --sections thousand   its roots on a pg backend
    python bench/run.py --list                  the sections and the goals

Medians of several runs; every comparison is measured side by side (variants interleaved round by
round, after a warm-up round), so background load weighs on both sides alike. Results: a table on
stdout, details in bench/results.json (--json). docs/performance.md explains the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV_BIN = REPO / ".venv" / "bin"

# Run under the project's venv (cryptography, jsonschema, tfext), however we were started.
if Path(sys.prefix).resolve() != (REPO / ".venv").resolve() and (VENV_BIN / "python").exists():
    os.execv(VENV_BIN / "python", [str(VENV_BIN / "python"), __file__, *sys.argv[1:]])

from sections import (  # noqa: E402 - after the venv switch
    Context,
    Goal,
    fmt_s,
    section_per_node,
    section_pki,
    section_program,
    section_scale,
    section_terraform,
    section_thousand,
    section_user_provided,
)
from timing import BenchError, Series, progress  # noqa: E402

SECTIONS = ("pki-rsa", "pki-ecdsa", "program", "user-provided", "terraform", "scale", "per-node", "thousand")
# per-node takes 10-20 minutes (Terraform with up to ~650 resources, twice), thousand longer (a root of a
# thousand nodes): asked for by name only.
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s not in ("per-node", "thousand"))


# --- setup --------------------------------------------------------------------------------------------


def source_fingerprint() -> str:
    """A hash of tfext's sources: the bench notes when they changed while it ran (terraform/ is copied)."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "tfext").rglob("*")):
        if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat), or 0 where unknown."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and every child it has reaped (the measured commands)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def child_env(work: Path, as_is: bool, tfext_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    path = [str(tfext_dir)] + ([str(VENV_BIN)] if tfext_dir != VENV_BIN else [])
    env["PATH"] = os.pathsep.join([*path, env.get("PATH", "")])
    env.update(
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        TFEXT_PROVIDER_CACHE_DIR=str(work / "provider-cache"),
    )
    env.pop("TF_LOG", None)
    if not as_is:
        # Byte-compiled modules, as a normal install has; kept in the scratch dir, never in the checkout.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def git_head() -> str:
    """The checkout's commit, with `+dirty` when tfext/ or terraform/ have local changes (read-only git)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "--no-optional-locks",
                "-C",
                str(REPO),
                "status",
                "--porcelain",
                "--",
                "tfext",
                "terraform",
            ],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def machine() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError):
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )

    def version(*argv: str) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "missing"
        return out.splitlines()[0] if out else "?"

    from cryptography.hazmat.backends.openssl.backend import backend

    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "cryptography": f"{__import__('cryptography').__version__} ({backend.openssl_version_text()})",
        "terraform": version("terraform", "version"),
        "cfssl": version("cfssl", "version"),
        "openssl": version("openssl", "version"),
        "load_average_at_start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# --- output -------------------------------------------------------------------------------------------


def print_tables(measured: dict[str, dict[str, Series]], ctx: Context) -> None:
    rows = [("section", "measurement", "wall (median)", "CPU (median)", "peak RSS", "runs")]
    for section, series in measured.items():
        for s in series.values():
            rows.append(
                (section, s.label, fmt_s(s.wall), fmt_s(s.cpu), f"{s.maxrss_mb:.0f} MB", str(len(s.samples)))
            )
    print_table(rows)
    if "scale" in ctx.results:
        sc = ctx.results["scale"]
        print(f"\nscale (sizes {sc['sizes']}): one more cluster costs")
        for kind, s in sc["slopes"].items():
            print(f"  {kind:15} {fmt_s(s['wall_s_per_cluster'])} wall, {fmt_s(s['cpu_s_per_cluster'])} CPU")
        keygen_wall = fmt_s(sc["keygen_wall_s_per_cluster_on_2_cores"])
        print(
            f"  key generation alone: 10 RSA-2048 keys x {fmt_s(sc['rsa2048_keygen_s'])} = "
            f"{fmt_s(sc['keygen_cpu_s_per_cluster'])} CPU ({keygen_wall} wall on 2 cores)"
        )
    if "per_node" in ctx.results:
        print_per_node(ctx.results["per_node"])
    if ctx.results.get("ratios"):
        print("\nratios (wall medians, measured side by side):")
        for name, value in ctx.results["ratios"].items():
            print(f"  {name:52} {value:.2f}x")
    print()
    rows = [("goal", "measured", "limit", "result", "detail")]
    for g in ctx.goals:
        unit = {"MB": " MB", " runs": " runs"}.get(g.unit, "x")
        rows.append(
            (
                g.name,
                f"{g.value:.2f}{unit}",
                f"{'<' if g.strict else '<='} {g.limit}{unit}",
                "PASS" if g.passed else "FAIL",
                g.detail,
            )
        )
    print_table(rows)
    for text in ctx.notes:
        print(f"note: {text}")


def print_per_node(per_node: dict) -> None:
    members = per_node["etcd_members"]
    print(f"\nper-node (N nodes with a kubelet client + serving certificate each, {members} etcd members):")
    rows = [
        (
            "keys",
            "nodes",
            "certs",
            "first apply",
            "add 1 node",
            "its program",
            "remove 1",
            "no-change plan",
            "programs in it",
            "state",
            "resources",
        )
    ]
    for alg, found in per_node["by_algorithm"].items():
        for n, size in found["sizes"].items():
            rows.append(
                (
                    alg,
                    str(n),
                    str(size["certificates"]),
                    fmt_s(size["first_apply_s"]),
                    fmt_s(size["add_node_s"]),
                    fmt_s(size["add_node_program_s"]),
                    fmt_s(size["remove_node_s"]),
                    fmt_s(size["quiet_plan_s"]),
                    str(size["quiet_plan_programs"]),
                    f"{size['state_bytes'] / 1024:.0f} KiB",
                    str(size["resources"]),
                )
            )
    print_table(rows)
    for alg, found in per_node["by_algorithm"].items():
        slopes = ", ".join(
            f"{what} {fmt_s(found[key])}"
            for what, key in (
                ("first apply", "first_apply_s_per_node"),
                ("adding one", "add_node_s_per_node"),
                ("no-change plan", "quiet_plan_s_per_node"),
            )
        )
        print(
            f"  {alg}: one key generation {found['key_generation_s'] * 1000:.2f} ms; "
            f"each node more (slope over the sizes) costs: {slopes}"
        )


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


GOALS_TEXT = """goals (PASS/FAIL in the last table), on wall-clock medians:
  full PKI through tfext programs (RSA-2048)            <= 0.5x   the cfssl script   (pki-rsa)
  terraform apply of the tectonic example, empty state  <= 0.6x   the cfssl script   (terraform)
  one user-provided program run (the slowest of 4)      <= 1.3x   the import floor   (program)
  the four user-provided programs in parallel           <= 2x     the import floor   (user-provided)
  no-change terraform plan of the example               <= 1.25x  the harness floor  (terraform)
  the example: first apply, no-change plan   <= 0.6x, 0.5x  Tectonic's modules on hashicorp/tls
                                                             (terraform, with TFEXT_TLS_MIRROR)
  peak memory of any program run                        <  80 MB                     (any section)
  no-change plan with one identity per node, 3-100 nodes   0 programs run               (per-node)
  100 nodes: first apply, no-change plan, add one node, state
                             <= 1.0x, 0.5x, 0.8x, 1.0x  hashicorp/tls  (thousand, with TFEXT_TLS_MIRROR)
  1000 nodes: first apply < 300 s, no-change plan < 10 s, peak memory < 1 GB
                             64 stages (a new workspace), and a stage per node  (thousand)
  key directory: first apply, plan <= 1.05x keys in state; state per certificate <= 0.5x  (thousand)"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=GOALS_TEXT,
    )
    parser.add_argument(
        "--sections",
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma-separated, from: {', '.join(SECTIONS)} (default: all but per-node)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=7,
        help="runs per variant for pki sections (program sections use twice as many; default 7)",
    )
    parser.add_argument(
        "--tf-runs", type=int, default=5, help="runs per terraform apply/plan variant (default 5)"
    )
    parser.add_argument(
        "--scale", default="1,5,20", help="cluster counts of the scale section (default 1,5,20)"
    )
    parser.add_argument("--scale-runs", type=int, default=3, help="runs per scale size (default 3)")
    parser.add_argument(
        "--per-node", default="3,30,100", help="node counts of the per-node section (default 3,30,100)"
    )
    parser.add_argument("--per-node-runs", type=int, default=3, help="runs per per-node size (default 3)")
    parser.add_argument(
        "--per-node-keys",
        default="ECDSA-P256,RSA-2048",
        help="key algorithms of the per-node section (default ECDSA-P256,RSA-2048)",
    )
    parser.add_argument(
        "--thousand", default="10,100,1000", help="node counts of the thousand section (default 10,100,1000)"
    )
    parser.add_argument("--thousand-runs", type=int, default=3, help="runs per size below 1000 (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="3 runs, scale 1,5 and per-node 3,30 with 2 runs: a smoke test"
    )
    parser.add_argument("--json", type=Path, default=HERE / "results.json", help="where to write the results")
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE alone (default: byte-compile into the scratch dir)",
    )
    parser.add_argument(
        "--tfext",
        type=Path,
        default=VENV_BIN / "tfext",
        help="the tfext command to measure (default: the venv's); a launcher of a patched copy measures a "
        "candidate change (its directory goes first on Terraform's PATH)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="merge the sections run into the existing --json file (keeping the other sections' results) "
        "instead of replacing it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--list", action="store_true", help="list the sections and goals, then exit")
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.quick:
        args.runs, args.tf_runs, args.scale, args.scale_runs = 3, 3, "1,5", 2
        args.per_node, args.per_node_runs = "3,30", 2
    args.scale = [int(n) for n in args.scale.split(",")]
    args.per_node = [int(n) for n in args.per_node.split(",")]
    args.thousand = [int(n) for n in args.thousand.split(",")]
    args.per_node_keys = [k.strip() for k in args.per_node_keys.split(",") if k.strip()]
    return args


SECTION_RUNNERS: dict[str, Callable[[Context], dict[str, Series]]] = {
    "pki-rsa": lambda ctx: section_pki(ctx, "RSA-2048"),
    "pki-ecdsa": lambda ctx: section_pki(ctx, "ECDSA-P256"),
    "program": section_program,
    "user-provided": section_user_provided,
    "terraform": section_terraform,
    "scale": section_scale,
    "per-node": section_per_node,
    "thousand": section_thousand,
}


def run_sections(ctx: Context, sections: list[str]) -> dict[str, dict[str, Series]]:
    """Run the chosen sections in the canonical order; note when other processes competed for the CPUs."""
    measured = {}
    for section in (s for s in SECTIONS if s in sections):
        progress(f"[{section}] ")
        t0, busy0, own0 = time.perf_counter(), machine_busy_seconds(), own_cpu_seconds()
        measured[section] = SECTION_RUNNERS[section](ctx)
        wall = time.perf_counter() - t0
        others = max(0.0, (machine_busy_seconds() - busy0) - (own_cpu_seconds() - own0)) / wall
        ctx.results.setdefault("section_seconds", {})[section] = round(wall, 1)
        ctx.results.setdefault("other_processes_cpus", {})[section] = round(others, 2)
        if others > 0.2:
            ctx.note(
                f"{section}: other processes kept {others:.1f} of {os.cpu_count()} CPUs busy on average: "
                "wall times are inflated; side-by-side ratios and CPU medians suffer less"
            )
    if ctx.program_rss_mb:
        ctx.goals.append(
            Goal(
                "peak memory of a program run < 80 MB",
                max(ctx.program_rss_mb),
                80,
                f"max over {len(ctx.program_rss_mb)} program runs (GNU time %M)",
                unit="MB",
                strict=True,
            )
        )
    return measured


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.list:
        print(f"sections: {', '.join(SECTIONS)}\n\n{GOALS_TEXT}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="tfext-bench-"))
    tfext = args.tfext.absolute()
    env = child_env(work, args.as_is, tfext.parent)
    ctx = Context(
        work,
        env,
        args.runs,
        args.tf_runs,
        args.scale_runs,
        args.scale,
        tfext=tfext,
        per_node_sizes=args.per_node,
        per_node_runs=args.per_node_runs,
        per_node_algorithms=args.per_node_keys,
        thousand_sizes=args.thousand,
        thousand_runs=args.thousand_runs,
    )
    info = machine()
    progress(f"tfext bench: {', '.join(args.sections)}; {info['cpus']} CPUs; scratch {work}\n")
    started, sources = time.perf_counter(), source_fingerprint()
    try:
        measured = run_sections(ctx, args.sections)
        if source_fingerprint() != sources:
            ctx.note(
                "tfext's sources changed while the bench ran: the sections measured different code; rerun"
            )
    except BenchError as exc:
        progress(f"\nbench failed: {exc}\n")
        return 1
    finally:
        if args.keep:
            progress(f"scratch kept: {work}\n")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_tables(measured, ctx)
    report = {
        "machine": info,
        "settings": {
            "sections": args.sections,
            "runs": args.runs,
            "tf_runs": args.tf_runs,
            "scale": args.scale,
            "scale_runs": args.scale_runs,
            "per_node": args.per_node,
            "per_node_runs": args.per_node_runs,
            "per_node_keys": args.per_node_keys,
            "bytecode_cache": not args.as_is,
            "tfext": str(tfext),
            "tfext_sources": sources,
            "git_head": git_head(),
        },
        "total_seconds": round(time.perf_counter() - started, 1),
        "goals": [g.as_json() for g in ctx.goals],
        "measurements": {
            sec: {s.label: s.as_json() for s in series.values()} for sec, series in measured.items()
        },
        **ctx.results,
        "notes": ctx.notes,
    }
    took = report["total_seconds"]
    if args.merge and args.json.exists():
        report = merged(json.loads(args.json.read_text()), report, args.sections)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    progress(f"wrote {args.json} ({took} s{', merged' if args.merge else ''})\n")
    return 0


def merged(old: dict, new: dict, sections: list[str]) -> dict:
    """`old` with the results of the sections `new` ran: their measurements, results and goals replace
    the old ones; the run itself (machine, settings, notes) is kept under `merged_runs`."""
    out = dict(old)
    out["measurements"] = {**old.get("measurements", {}), **new["measurements"]}
    run_keys = ("machine", "settings", "total_seconds", "goals", "measurements", "notes")
    for key, value in new.items():
        if key in run_keys:
            continue
        if isinstance(value, dict) and isinstance(old.get(key), dict):
            out[key] = {**old[key], **value}
        else:
            out[key] = value
    names = {g["goal"] for g in new["goals"]}
    out["goals"] = [g for g in old.get("goals", []) if g["goal"] not in names] + new["goals"]
    run = {k: new[k] for k in ("machine", "settings", "total_seconds", "notes")}
    others = [r for r in old.get("merged_runs", []) if set(r["settings"]["sections"]) != set(sections)]
    out["merged_runs"] = [*others, run]
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
