"""A throwaway PostgreSQL server for one test module: initdb + pg_ctl on 127.0.0.1, a free port, trust
authentication, a data directory that is removed afterwards. As root, initdb refuses to run, so the
server runs as the `postgres` OS user (`runuser -u postgres --`) in a directory it owns."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)  # Debian: newest first


def pg_tool(name: str) -> str:
    """A PostgreSQL program from PATH or Debian's versioned directory; like harness.require, it fails under
    CI=true (where .ci/run installs postgresql) and skips elsewhere."""
    found = shutil.which(name) or next((str(d / name) for d in BIN_DIRS if (d / name).is_file()), None)
    if found:
        return found
    message = f"PostgreSQL's {name} is not installed (CI installs the postgresql package in .ci/run)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Postgres:
    """A running server; `conn_str(db)` is what Terraform's pg backend takes."""

    root: Path
    port: int
    as_postgres: list[str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def conn_str(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [*self.as_postgres, pg_tool(tool), *args], capture_output=True, text=True, timeout=60
        )
        if check and proc.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace")[-2000:] if self.root.exists() else ""
            raise AssertionError(f"{tool} {' '.join(args)} exited {proc.returncode}: {proc.stderr}\n{log}")
        return proc

    def sql(self, database: str, query: str) -> str:
        """One query through psql, its result unaligned (`-At`)."""
        args = ("-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-Atc", query)
        return self.run("psql", *args).stdout.strip()

    def start(self) -> None:
        self.run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "-N",
        )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        self.run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-o", options, "start"
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)


def start_postgres() -> Postgres:
    """Start a server in a new directory under the system temp dir (the pytest tmp tree is private to
    root, which the postgres user could not enter)."""
    for tool in ("initdb", "pg_ctl", "psql"):
        pg_tool(tool)
    root = Path(tempfile.mkdtemp(prefix="tfext-pg-"))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        try:
            shutil.chown(root, "postgres", "postgres")
        except LookupError:
            shutil.rmtree(root)
            pytest.fail("running as root needs the postgres OS user (made by the postgresql package)")
        as_postgres = [pg_runuser(), "-u", "postgres", "--"]
    server = Postgres(root, free_port(), as_postgres)
    try:
        server.start()
    except BaseException:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def pg_runuser() -> str:
    found = shutil.which("runuser")
    if not found:
        pytest.fail("running as root needs runuser (util-linux) to start PostgreSQL as the postgres user")
    return found
