"""Private keys kept as files (issue 21), read by the tools: a key directory's files, named by a state's
records (`key_file`, relative to the module's `key_dir`) or by a module's `key_files` output, and the key
files a user-provided flavor was given.

Every read is the tools' one bounded reader (`tfext.files.read_regular_file`: a regular file of at most
1 MiB, never a FIFO or device, never waiting). A message names the file and the certificate, never the
key: a missing file or one whose SHA-256 is not the one its record holds is TFEXT-E074, with the remedy.

Paths a `key_files` output gives relative (a root module that set `key_dir = "keys"`) are relative to the
directory tfext runs in, as Terraform's `file()` reads them relative to where Terraform runs: run tfext in
the root module's directory.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import PurePosixPath

from tfext.errors import Code, TfextError, echo_path
from tfext.files import MAX_PEM_FILE_BYTES, read_regular_file

# What to do about a key file that is missing or not the one its certificate was issued with.
RESTORE = (
    "restore it from the backup of the key directory, or issue that certificate anew "
    "(`terraform state pull | tfext heal --key-dir DIR` names it and prints the command)"
)
RELATIVE = (
    "a relative path is read from the directory tfext runs in, as Terraform reads it from the root "
    "module's: run tfext there"
)


_SERIAL = re.compile(r"^(?P<stem>.+\.)(?P<serial>[0-9a-f]{17,})(?P<end>\.key)$")


def shown(path: object) -> str:
    """A key file's path as a message shows it: `keys/kube/apiserver.5bb5e2d7a7e6*.key`. A key directory
    names each file by its certificate's serial in hex, and a run of 32 hex digits is withheld from every
    message as possible key material: the serial is shortened to its first 12 digits, as a glob (enough to
    tell the file: `ls keys/kube/apiserver.5bb5e2d7a7e6*.key` finds it)."""
    text = os.fsdecode(path) if isinstance(path, bytes | os.PathLike) else str(path)
    head, sep, base = text.rpartition("/")
    found = _SERIAL.match(base)
    if found:
        base = f"{found['stem']}{found['serial'][:12]}*{found['end']}"
    return echo_path(f"{head}{sep}{base}")


def sha256_text(pem: str) -> str:
    """The SHA-256 (hex) of a key's text as a file holds it: what a record's `key_sha256` says."""
    return hashlib.sha256(pem.encode("ascii", "replace")).hexdigest()


def in_key_dir(key_dir: str, key_file: str, where: str) -> str:
    """The path of a record's `key_file` in `key_dir`. A name that could leave the directory (absolute,
    `..`, empty parts) is refused: our modules write `<kind>/<slot>.<serial>.key` only."""
    parts = PurePosixPath(key_file).parts
    if (
        not key_file
        or key_file.startswith("/")
        or "\\" in key_file
        or any(p in ("", ".", "..") for p in parts)
        or key_file != "/".join(parts)
        or "\x00" in key_file
    ):
        raise TfextError.of(
            Code.BAD_JSON_SHAPE,
            where,
            "its key_file is not a file name of a key directory (<kind>/<slot>.<serial>.key); not read",
        )
    return os.path.join(key_dir, *parts)


def read_key_file(path: str, role: str, sha256: str = "") -> str:
    """A key file's text, read within the tools' bounds; `sha256`, when the record holds it, must be the
    file's. Raises TfextError naming the file and `role` (E074 for a missing or changed file)."""
    named = shown(path)
    try:
        data = read_regular_file(path, MAX_PEM_FILE_BYTES, named)
    except TfextError as exc:
        problem = exc.problems[0]
        if problem.code is Code.FILE_MISSING:
            relative = "" if os.path.isabs(path) else f"; {RELATIVE}"
            raise TfextError.of(
                Code.KEY_FILE_CHANGED,
                f"{role} ({named})",
                f"the key file is missing ({problem.detail}){relative}; or {RESTORE}",
            ) from None
        raise TfextError.of(problem.code, f"{role} ({named})", f"the key file: {problem.detail}") from None
    if sha256 and hashlib.sha256(data).hexdigest() != sha256.lower():
        raise TfextError.of(
            Code.KEY_FILE_CHANGED,
            f"{role} ({named})",
            f"the key file is not the one issued with the certificate (its SHA-256 differs); {RESTORE}",
        )
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise TfextError.of(
            Code.NOT_PEM, f"{role} ({named})", "the key file is not PEM text (not ASCII)"
        ) from None
