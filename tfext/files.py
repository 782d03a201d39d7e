"""Files written safely: every directory opened by descriptor, one component at a time, never through a
symbolic link, and refused when others could swap what is in it; every file written whole (a temporary
file beside it, its mode set before any byte, fsynced) before it takes its name. Used by
`tfext write-assets` (its asset directory) and the programs (a key directory, `tfext.keydir`)."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat

from tfext.errors import Code, TfextError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
DIRECTORY_MODE = 0o755


class WriteError(TfextError):
    """The files could not be written; nothing (or nothing lasting) was changed. Names the file."""


def _refuse_shared(fd: int, shown: str, private: bool) -> None:
    info = os.fstat(fd)
    if private and info.st_mode & 0o077:
        raise WriteError.of(
            Code.UNSAFE_DIRECTORY,
            shown,
            f"is open to {'others' if info.st_mode & 0o007 else 'its group'} "
            f"(mode {stat.S_IMODE(info.st_mode):o}), and it holds private keys; chmod 700 it first",
        )
    if info.st_mode & 0o022:
        raise WriteError.of(
            Code.UNSAFE_DIRECTORY,
            shown,
            f"is writable by {'others' if info.st_mode & 0o002 else 'its group'} "
            f"(mode {stat.S_IMODE(info.st_mode):o}), who could swap a key file; chmod go-w it first",
        )


def open_directory(
    parent_fd: int | None, name: str, shown: str, create: bool, *, private: bool = False
) -> int:
    """A descriptor of directory `name` (relative to `parent_fd`, or a path when None), never through a
    symbolic link, created when missing and `create` (0755, or 0700 when `private`); refused when others
    can write to it, or, when `private`, reach it at all."""
    mode = 0o700 if private else DIRECTORY_MODE
    for attempt in (1, 2):
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
            break
        except FileNotFoundError:
            if not create or attempt == 2:
                raise WriteError.of(Code.FILE_MISSING, shown, "no such directory") from None
            try:
                os.mkdir(name, mode, dir_fd=parent_fd)
            except FileExistsError:
                pass  # made meanwhile: opened (and checked) below
            else:
                fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
                os.fchmod(fd, mode)  # whatever the umask: 0755 or 0700, never 0777
                os.close(fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                raise WriteError.of(
                    Code.UNSAFE_DIRECTORY, shown, "is a symbolic link or not a directory; not followed"
                ) from None
            raise WriteError.of(Code.WRITE_FAILED, shown, exc.strerror or "cannot be opened") from None
    try:
        _refuse_shared(fd, shown, private)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_temporary(dir_fd: int, name: str, text: str, mode: int) -> str:
    """`text` in a new temporary file beside `name`, with `mode` set before any byte is written."""
    temporary = f".{name}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temporary, _NEW_FILE_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        unlink(temporary, dir_fd)
        raise
    return temporary


def unlink(name: str, dir_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)
