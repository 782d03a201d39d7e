"""A key directory (issue 21): where a generating flavor with `key_dir` set keeps the private keys it
generates, so that no key reaches Terraform's state, plan files or logs.

- `key_dir` must exist, be a directory (not a symbolic link) and be open to its owner only (0700): tfext
  never creates it, so a plan run where it is absent (a CI runner checking the shared state) cannot start a
  second, stray key store;
- each key is a new file `<kind>/<slot>.<serial>.key` (a per-node slot's ':' written '@'), 0600, written
  whole and fsynced under a temporary name, then linked to its name, which must not exist: a key file is
  never overwritten, and a re-issued certificate (a new serial) gets a new file;
- `.tfext-key-dir` (no secret) marks the directory, so the modules can tell "the key directory is not
  here" (a warning) from "a key file is missing" (an error).

The program answers the key's file name relative to `key_dir` and the SHA-256 of its bytes; the module
reads the file back at every plan and checks that hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from tfext.errors import Code, TfextError, echo_path
from tfext.files import WriteError, open_directory, unlink, write_temporary

MARKER = ".tfext-key-dir"
MARKER_TEXT = "tfext key directory: one private key per file, never overwritten (docs/design.md)\n"


def key_file_name(kind: str, slot: str, serial: int) -> str:
    """The key's path relative to the key directory: `kube/apiserver.<serial>.key`."""
    return f"{kind}/{slot.replace(':', '@')}.{serial:x}.key"


def _open_root(key_dir: str) -> int:
    path = Path(key_dir)
    if not path.is_absolute():
        raise TfextError.of(Code.KEY_DIR_UNUSABLE, "query.key_dir", "must be an absolute path (abspath())")
    shown = echo_path(path)
    if not path.exists() and not path.is_symlink():
        raise TfextError.of(
            Code.KEY_DIR_UNUSABLE,
            "key_dir",
            f"{shown} does not exist; tfext never creates it, so that a plan where it is absent issues "
            f"nothing. Create it for the keys: install -d -m 0700 {shown}",
        )
    try:
        parent = open_directory(None, str(path.parent), echo_path(path.parent), create=False)
        try:
            return open_directory(parent, path.name, shown, create=False, private=True)
        finally:
            os.close(parent)
    except WriteError as exc:
        raise TfextError(
            [p.__class__(Code.KEY_DIR_UNUSABLE, p.where, p.detail) for p in exc.problems]
        ) from None


def write_key(key_dir: str, kind: str, slot: str, serial: int, pem: str) -> tuple[str, str]:
    """Write one new key file; returns its name relative to `key_dir` and the SHA-256 (hex) of its bytes."""
    name = key_file_name(kind, slot, serial)
    root = _open_root(key_dir)
    try:
        _mark(root)
        sub = open_directory(root, kind, echo_path(Path(key_dir) / kind), create=True, private=True)
        try:
            base = os.path.basename(name)
            temporary = write_temporary(sub, base, pem, 0o600)
            try:
                os.link(temporary, base, src_dir_fd=sub, dst_dir_fd=sub, follow_symlinks=False)
            except FileExistsError:
                raise TfextError.of(
                    Code.KEY_DIR_UNUSABLE,
                    echo_path(Path(key_dir) / name),
                    "exists already; a key file is never overwritten (a certificate with this serial "
                    "was issued before: re-run the plan)",
                ) from None
            except OSError as exc:
                raise TfextError.of(
                    Code.KEY_DIR_UNUSABLE, echo_path(Path(key_dir) / name), exc.strerror or "cannot write"
                ) from None
            finally:
                unlink(temporary, sub)
            with contextlib.suppress(OSError):
                os.fsync(sub)
        finally:
            os.close(sub)
    finally:
        os.close(root)
    return name, hashlib.sha256(pem.encode("ascii")).hexdigest()


def _mark(root: int) -> None:
    try:
        os.stat(MARKER, dir_fd=root, follow_symlinks=False)
        return
    except FileNotFoundError:
        pass
    temporary = write_temporary(root, MARKER, MARKER_TEXT, 0o600)
    try:
        with contextlib.suppress(FileExistsError):
            os.link(temporary, MARKER, src_dir_fd=root, dst_dir_fd=root, follow_symlinks=False)
    finally:
        unlink(temporary, root)
