"""The state of the root module in the current directory, for a tool given no SOURCE: as `kubeadm certs
check-expiration` needs no argument where its certificates are, `tfext check-expiration` run in a root
module's directory reads that root module's state.

- In a root module (the directory holds `*.tf`, `*.tf.json` or `.terraform/`) with `terraform` on PATH, it
  runs `terraform state pull` there: whatever the backend (local, pg, s3) and the selected workspace, the
  state Terraform itself would use. Its output (which holds private keys in state mode) is read into
  memory, bounded like stdin, and never printed; Terraform's stderr is kept aside and only its first
  `Error:` line is shown when it fails (TFEXT-E098).
- Otherwise `./terraform.tfstate`, the local backend's file, when it is there.
- Otherwise TFEXT-E097, which says what was looked for and how to give a SOURCE.

Which one was read is said on stderr, so that stdout stays the report (`--json` included).
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tfext.errors import Code, TfextError, echo_path

PULL_TIMEOUT = 300  # seconds: a remote backend may be slow, never stuck forever
MAX_ERROR_BYTES = 64 << 10  # what is read of Terraform's stderr to find its error line
LOCAL_STATE = "terraform.tfstate"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SOURCES = (
    "give a SOURCE: a directory of PEM files (from `tfext write-assets`), a PEM file, a terraform.tfstate, "
    "or - for `terraform state pull` on stdin"
)


@dataclass(frozen=True)
class Here:
    """What the state of the root module here was read from: `data` is a state's JSON (private keys
    included: never printed), `where` names it in messages, `note` says it on stderr."""

    data: bytes
    where: str
    note: str


def is_root_module(directory: Path) -> bool:
    """A directory Terraform would treat as a root module: it has `.terraform/` or a configuration file."""
    if (directory / ".terraform").is_dir():
        return True
    return any(directory.glob("*.tf")) or any(directory.glob("*.tf.json"))


def find(directory: Path, limit: int, read_file) -> Here:
    """The state of the root module in `directory` (see the module docstring). `read_file(path)` reads a
    state file within the tools' bounds (raises TfextError). Raises TfextError: E097 when there is no
    state here, E098 when `terraform state pull` fails, E008 when it prints more than `limit` bytes."""
    directory = Path(directory)
    shown = echo_path(directory.absolute())
    root = is_root_module(directory)
    terraform = shutil.which("terraform")
    if root and terraform:
        data = pull(terraform, directory, limit)
        if not data.strip():
            raise TfextError.of(
                Code.NO_STATE_HERE,
                f"terraform state pull in {shown}",
                "printed no state: this root module (or its selected workspace) has not been applied yet; "
                "apply it first, or " + SOURCES,
            )
        return Here(
            data, "terraform state pull", f"no SOURCE given: reading `terraform state pull` in {shown}"
        )
    local = directory / LOCAL_STATE
    if os.path.lexists(local):
        why = " (terraform is not on PATH)" if root else ""
        note = f"no SOURCE given: reading {echo_path(local.absolute())}{why}"
        return Here(read_file(local), LOCAL_STATE, note)
    if root:
        detail = (
            "this directory holds a Terraform configuration, but terraform is not on PATH to run "
            f"`terraform state pull`, and there is no ./{LOCAL_STATE}; put terraform on PATH, or "
        )
    else:
        detail = (
            "no SOURCE given, and this is no root module's directory: no *.tf file, no .terraform/, no "
            f"./{LOCAL_STATE}; run it in the root module's directory, or "
        )
    raise TfextError.of(Code.NO_STATE_HERE, shown, detail + SOURCES)


def pull(terraform: str, directory: Path, limit: int) -> bytes:
    """`terraform state pull` run in `directory`: its stdout, at most `limit` bytes, within PULL_TIMEOUT
    seconds. Never prompts (stdin closed, TF_INPUT=0)."""
    env = dict(os.environ, TF_INPUT="0", TF_IN_AUTOMATION="1")
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                [terraform, "state", "pull"],
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
        except OSError as exc:
            raise TfextError.of(
                Code.STATE_PULL_FAILED, "terraform state pull", f"cannot run terraform ({exc.strerror})"
            ) from None
        try:
            data = _read_bounded(proc, limit)
            code = proc.wait(timeout=max(1.0, PULL_TIMEOUT / 10))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise TfextError.of(
                Code.STATE_PULL_FAILED,
                "terraform state pull",
                "closed its output but did not exit; stopped it",
            ) from None
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        finally:
            proc.stdout.close()
        if code != 0:
            errors.seek(0)
            said = first_error(errors.read(MAX_ERROR_BYTES).decode("utf-8", "replace"))
            raise TfextError.of(
                Code.STATE_PULL_FAILED,
                "terraform state pull",
                f"exited {code}{': ' + said if said else ''}; run `terraform state pull` here to see why "
                "(`terraform init` first, the backend's credentials), or " + SOURCES,
            )
    return data


def _read_bounded(proc: subprocess.Popen, limit: int) -> bytes:
    """Read `proc`'s stdout to its end: at most `limit` bytes (E008 past it) within PULL_TIMEOUT."""
    deadline = time.monotonic() + PULL_TIMEOUT
    chunks: list[bytes] = []
    size = 0
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TfextError.of(
                    Code.STATE_PULL_FAILED,
                    "terraform state pull",
                    f"did not finish within {PULL_TIMEOUT} seconds; stopped it",
                )
            if not selector.select(left):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise TfextError.of(
                    Code.INPUT_TOO_LARGE,
                    "terraform state pull",
                    f"more than {limit >> 20} MiB; not read further",
                )
            chunks.append(chunk)


def first_error(text: str) -> str:
    """The first `Error: ...` line of Terraform's stderr (colours and box drawing removed), else its first
    line; at most 200 characters."""
    lines = [_ANSI.sub("", line).strip(" \t│╷╵") for line in text.splitlines()]
    lines = [line for line in lines if line]
    chosen = next((line for line in lines if line.startswith("Error:")), lines[0] if lines else "")
    return chosen[:200]
