"""A guard against the worst outcome a PKI can have: a new CA issued over a deployed one.

Terraform's local backend rewrites `terraform.tfstate` in place after every resource it applies, so a
runner killed at the wrong moment leaves the file empty, and Terraform then reads an empty state: the next
plan issues every certificate again, both CAs included. A program asked to generate a CA looks for that
sign before it does: the state file of Terraform's working directory (the program's own) is empty while
`terraform.tfstate.backup` beside it holds resources. Only the local backend is looked at; a remote
backend (pg, s3, ...) writes whole snapshots and is the recommended fix (README: Secrets and state).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tfext.errors import Code, TfextError

BACKUP_SUFFIX = ".backup"
MAX_STATE_BYTES = 64 << 20  # a backup larger than this is not parsed: the guard only warns of the common case


def local_state_path(workdir: Path) -> Path | None:
    """The state file Terraform's local backend uses in `workdir`, or None for any other backend."""
    backend = _backend(workdir)
    if backend is not None and backend.get("type") not in (None, "local"):
        return None
    configured = ((backend or {}).get("config") or {}).get("path")
    workspace = os.environ.get("TF_WORKSPACE") or _read_text(workdir / ".terraform" / "environment")
    workspace = workspace.strip() or "default"
    if workspace != "default":
        workspace_dir = ((backend or {}).get("config") or {}).get("workspace_dir") or "terraform.tfstate.d"
        return workdir / workspace_dir / workspace / "terraform.tfstate"
    return workdir / (configured or "terraform.tfstate")


def refuse_torn_local_state(workdir: Path, where: str) -> None:
    """Raise TFEXT-E072 when the local state file is empty while its backup holds resources."""
    state = local_state_path(workdir)
    if state is None:
        return
    try:
        if not state.is_file() or state.read_bytes().strip():
            return
    except OSError:
        return
    backup = state.with_name(state.name + BACKUP_SUFFIX)
    resources = _resource_count(backup)
    if not resources:
        return
    raise TfextError.of(
        Code.TORN_STATE,
        where,
        f"this plan would issue a new CA, but the state file {state} is empty while {backup.name} beside it "
        f"holds {resources} resources: an apply was killed while Terraform rewrote the file, and a new CA "
        f"would replace the one deployed. Restore it first: cp '{backup}' '{state}', then run "
        "`terraform apply` again. To start a new PKI on purpose, move the backup away. A remote backend "
        "(pg, s3) keeps whole snapshots and avoids this (README: Secrets and state).",
    )


def _backend(workdir: Path) -> dict | None:
    raw = _read_text(workdir / ".terraform" / "terraform.tfstate")
    if not raw:
        return None
    try:
        backend = json.loads(raw).get("backend")
    except (ValueError, AttributeError):
        return None
    return backend if isinstance(backend, dict) else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _resource_count(backup: Path) -> int:
    try:
        if not backup.is_file() or backup.stat().st_size > MAX_STATE_BYTES:
            return 0
        resources = json.loads(backup.read_bytes()).get("resources")
    except (OSError, ValueError, AttributeError):
        return 0
    return len(resources) if isinstance(resources, list) else 0
