"""Running real servers from tests: free loopback ports, bounded waits, processes that always stop.

Every wait has a deadline, every child is stopped in a finalizer (SIGTERM, then SIGKILL, by its own pid),
and every log goes to a file under the test's tmp directory. Logs are shown when a test fails (see
conftest.py), with anything that looks like a private key blanked out first.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT = 10.0  # seconds between SIGTERM and SIGKILL
LOG_TAIL = 6000  # characters of a log shown on failure

_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)


def redact(text: str) -> str:
    """`text` with every PEM private key blanked out (logs never hold one; this makes sure)."""
    return _PRIVATE_KEY.sub("[private key redacted]", text)


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` distinct free TCP ports on `host`, found by binding port 0 (all held until all are found)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def run(
    cmd: Sequence[str],
    *,
    timeout: float = 30,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess:
    """Run a client program to completion (stdin empty or `input_text`, output captured, bounded in time)."""
    stdin = {"input": input_text} if input_text is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(
        list(cmd),
        **stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )


def describe(proc: subprocess.CompletedProcess) -> str:
    """A client run for an assertion message: command name, exit code, output (clients print no keys)."""
    out = redact((proc.stdout + proc.stderr).strip())
    return f"{Path(proc.args[0]).name} exited {proc.returncode}: {out[-2000:]}"


@dataclass
class Service:
    """One long-running child process with its log file."""

    name: str
    proc: subprocess.Popen
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(STOP_TIMEOUT)


@dataclass
class Services:
    """The children and logs of one test; `stop_all` runs in the test's finalizer, whatever happened."""

    directory: Path
    services: list[Service] = field(default_factory=list)
    logs: dict[str, Path] = field(default_factory=dict)  # title => file, shown when the test fails

    def start(
        self, name: str, cmd: Sequence[str], *, cwd: Path | None = None, env: dict | None = None
    ) -> Service:
        log = self.directory / f"{name}.log"
        self.logs[name] = log
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal reaches pytest only; we stop it ourselves
            )
        service = Service(name, proc, log)
        self.services.append(service)
        return service

    def add_log(self, name: str, path: Path) -> None:
        self.logs[name] = path

    def stop_all(self) -> None:
        errors = []
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{service.name}: {exc}")
        if errors:
            raise RuntimeError("could not stop: " + "; ".join(errors))

    def log_sections(self) -> list[tuple[str, str]]:
        sections = []
        for name, path in self.logs.items():
            try:
                text = path.read_text(errors="replace")
            except FileNotFoundError:
                continue
            if not text.strip():
                continue
            sections.append((f"log of {name} (last {LOG_TAIL} chars)", redact(text)[-LOG_TAIL:]))
        return sections


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    services: Sequence[Service] = (),
    interval: float = 0.2,
) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` s or when a service exits."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        for service in services:
            if not service.alive():
                raise AssertionError(
                    f"{service.name} exited ({service.proc.returncode}) while waiting for {what}"
                )
        try:
            value = check()
        except Exception as exc:  # retried until the deadline; the last one is reported
            value, last_error = None, exc
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait_for_port(service: Service, host: str, port: int, timeout: float = 20) -> None:
    wait_until(
        lambda: port_open(host, port),
        timeout=timeout,
        what=f"{service.name} on {host}:{port}",
        services=[service],
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a client program: ours, without proxies (loopback only), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(extra)
    return env
