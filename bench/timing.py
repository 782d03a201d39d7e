"""Running child processes and timing them: wall clock, CPU and peak memory, measured side by side.

Every process is reaped with `os.wait4`, which reports the CPU time (user + system) and the peak resident
set size of that process *and of the descendants it waited for*: the CPU of a `terraform apply` includes
its provider and our programs, the CPU of a shell script the tools it ran. Input and output go through
temporary files, never pipes, so no child can block on a full pipe; each process runs in its own session
so that a timeout kills it and everything it started (by process group id), and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

# GNU time reports the peak RSS of the command alone. ru_maxrss from our own wait4 would not: a child
# forked from this (bigger) Python process starts with the parent's high-water mark.
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


@dataclass(frozen=True)
class Sample:
    """One measured run (or one stage of parallel runs)."""

    wall: float  # seconds
    cpu: float  # seconds, user + system, waited-for descendants included
    maxrss_mb: float  # peak resident set size of the largest process, MiB

    @staticmethod
    def combine_parallel(samples: Sequence[Sample], wall: float) -> Sample:
        return Sample(wall, sum(s.cpu for s in samples), max(s.maxrss_mb for s in samples))

    @staticmethod
    def combine_serial(samples: Sequence[Sample]) -> Sample:
        return Sample(
            sum(s.wall for s in samples), sum(s.cpu for s in samples), max(s.maxrss_mb for s in samples)
        )


@dataclass(frozen=True)
class Completed:
    argv: Sequence[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    sample: Sample

    def check(self, what: str) -> Completed:
        if self.returncode != 0:
            tail = (
                self.stderr.decode("utf-8", "replace")[-3000:]
                or self.stdout.decode("utf-8", "replace")[-3000:]
            )
            raise BenchError(f"{what} exited {self.returncode}:\n{tail}")
        return self


class BenchError(Exception):
    """A measured command failed: the bench stops and says which and why."""


def run(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    stdin: bytes = b"",
    cwd: str | os.PathLike | None = None,
    timeout: float = 120,
) -> Completed:
    """Run one process to completion and measure it."""
    with (
        tempfile.TemporaryFile() as fin,
        tempfile.TemporaryFile() as fout,
        tempfile.TemporaryFile() as ferr,
        tempfile.NamedTemporaryFile("r") as frss,
    ):
        fin.write(stdin)
        fin.seek(0)
        command = [GNU_TIME, "-f", "%M", "-o", frss.name, *argv] if GNU_TIME else list(argv)
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdin=fin, stdout=fout, stderr=ferr, env=env, cwd=cwd, start_new_session=True
        )
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout, expire)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # we reaped it; tell Popen so
        if timed_out.is_set():
            raise BenchError(f"{' '.join(map(str, argv))} timed out after {timeout:.0f} s")
        fout.seek(0)
        ferr.seek(0)
        rss_kb = usage.ru_maxrss
        if GNU_TIME:
            lines = frss.read().split()
            rss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else rss_kb
        sample = Sample(wall, usage.ru_utime + usage.ru_stime, rss_kb / 1024)
        return Completed(argv, proc.returncode, fout.read(), ferr.read(), sample)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def run_parallel(jobs: Sequence[Callable[[], Completed]]) -> tuple[list[Completed], float]:
    """Start every job at once (as Terraform starts independent data sources); results and wall time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        results = list(pool.map(lambda job: job(), jobs))
    return results, time.perf_counter() - start


# --- side-by-side measurement -------------------------------------------------------------------------


@dataclass
class Series:
    """The samples of one measured variant."""

    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def maxrss_mb(self) -> float:
        return max(s.maxrss_mb for s in self.samples)

    def as_json(self) -> dict:
        return {
            "runs": len(self.samples),
            "wall_median_s": round(self.wall, 4),
            "wall_min_s": round(min(s.wall for s in self.samples), 4),
            "wall_max_s": round(max(s.wall for s in self.samples), 4),
            "cpu_median_s": round(self.cpu, 4),
            "peak_rss_mb": round(self.maxrss_mb, 1),
            "wall_s": [round(s.wall, 4) for s in self.samples],
        }


def side_by_side(
    variants: dict[str, Callable[[], Sample]],
    runs: int,
    warmup: int = 1,
    before_each: Callable[[str], None] | None = None,
) -> dict[str, Series]:
    """Measure every variant `runs` times, interleaved round by round (the order rotating each round), so
    that background load and caches weigh on all of them alike. Warm-up rounds are not recorded."""
    labels = list(variants)
    series = {label: Series(label) for label in labels}
    for round_no in range(warmup + runs):
        shift = round_no % len(labels)
        for label in labels[shift:] + labels[:shift]:
            if before_each:
                before_each(label)
            sample = variants[label]()
            if round_no >= warmup:
                series[label].samples.append(sample)
        progress(".")
    progress("\n")
    return series


def progress(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()
