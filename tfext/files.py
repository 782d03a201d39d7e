"""Files read and written safely.

Reading (`read_regular_file`, and `read_file` for a PEM file a query names): at most a bounded number of
bytes of a regular file, opened without waiting and checked by its descriptor, so that a FIFO, device,
directory or kernel file is refused unread; messages name the file, never its content. Used by the
programs (`tfext.verify`, `tfext.csr`, a CA key file) and the tools (`tfext.tools.sources`, `keyfiles`).

Writing: every directory opened by descriptor, one component at a time, never through a symbolic link,
and refused when others could swap what is in it; every file written whole (a temporary file beside it,
its mode set before any byte, fsynced) before it takes its name. Used by `tfext write-assets` (its asset
directory) and the programs (a key directory, `tfext.keydir`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat

from tfext.errors import Code, TfextError, echo_path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
DIRECTORY_MODE = 0o755
MAX_PEM_FILE_BYTES = 1024 * 1024


# --- reading ----------------------------------------------------------------------------------------


def show_path(path: str) -> str:
    """A path as it can be shown: never PEM text, key material or control characters (`echo_path`)."""
    return echo_path(path)


def looks_like_pem_text(value: str) -> bool:
    """A file's content where its path belongs (a `file()` too many in HCL)."""
    return "-----BEGIN" in value or "PRIVATE KEY" in value


# Opening never waits: not for a FIFO's writer (O_NONBLOCK), nor does a terminal become ours (O_NOCTTY).
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)


def read_regular_file(path: str | os.PathLike, limit: int, label: str, *, missing_hint: str = "") -> bytes:
    """The one way tfext reads a file it is given: at most `limit` bytes of a regular file, never waiting.

    The file is opened without blocking and without becoming a controlling terminal, and the descriptor
    (not the path, which may be swapped meanwhile) is checked: a FIFO, socket, device or directory is
    refused unread. A regular file that says it is empty, or larger than `limit`, is not read either: that
    covers kernel files such as /proc/kmsg (size 0, a read waits for messages) and /proc/kcore. Raises
    TfextError naming `label`, never the content.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        if os.path.islink(path):
            raise TfextError.of(Code.FILE_MISSING, label, "a symbolic link to a missing file") from None
        raise TfextError.of(Code.FILE_MISSING, label, f"no such file{missing_hint}") from None
    except OSError as exc:
        raise TfextError.of(Code.FILE_UNREADABLE, label, exc.strerror or "cannot be read") from None
    except ValueError:  # a NUL byte: no file system takes it in a path
        raise TfextError.of(Code.FILE_UNREADABLE, label, "the path holds a NUL byte") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise TfextError.of(Code.FILE_UNREADABLE, label, "is a directory, expected a file")
        if not stat.S_ISREG(info.st_mode):  # reading a FIFO or a device would wait, or never end
            raise TfextError.of(
                Code.FILE_UNREADABLE, label, "is not a regular file (a FIFO, socket or device)"
            )
        if info.st_size == 0:
            raise TfextError.of(Code.FILE_EMPTY, label, "the file is empty (or a kernel file, not read)")
        if info.st_size > limit:
            raise TfextError.of(Code.FILE_TOO_LARGE, label, f"larger than {limit} bytes; not read")
        chunks, size = [], 0
        while size <= limit:
            try:
                chunk = os.read(fd, limit + 1 - size)
            except BlockingIOError:
                raise TfextError.of(
                    Code.FILE_UNREADABLE, label, "reading it would wait (not an ordinary file)"
                ) from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise TfextError.of(Code.FILE_UNREADABLE, label, exc.strerror or "cannot be read") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew since fstat
        raise TfextError.of(Code.FILE_TOO_LARGE, label, f"larger than {limit} bytes; not read")
    return data


def read_file(path: str, where: str) -> bytes:
    """Read a user's PEM file with errors that say which input and what to do."""
    if looks_like_pem_text(path):
        raise TfextError.of(
            Code.NOT_A_PATH,
            f"{where} path",
            f"got {show_path(path)} where a file path belongs; pass the path "
            '(e.g. "${path.root}/tls/ca.crt"), not file(...) of it',
        )
    label = f"{where} ({show_path(path)})"
    hint = (
        'nothing expands "~": use pathexpand("~/...") in HCL'
        if path.startswith("~")
        else "relative paths are resolved against the directory terraform runs in"
    )
    data = read_regular_file(path, MAX_PEM_FILE_BYTES, label, missing_hint=f"; check the path ({hint})")
    if not data.strip():
        raise TfextError.of(Code.FILE_EMPTY, label, "the file is empty")
    return data


# --- writing ----------------------------------------------------------------------------------------


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
