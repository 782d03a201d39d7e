"""What every tool for people shares: argument parsing and messages that go through the one redactor.

Nothing a tool prints on stderr escapes `tfext.errors.safe_line`: not argparse's complaints (which quote
the arguments given), not a path, not an exception's text. A tool's `main` is wrapped by `guarded`, so an
unexpected exception ends in one coded line, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from collections.abc import Callable

from tfext.errors import MAX_NAME_BYTES, Code, TfextError, echo_path, safe_line

MAX_STDIN_BYTES = 16 << 20  # a `terraform state pull` of a large estate is a few MiB; parsing 16 stays < 2 s


class Parser(argparse.ArgumentParser):
    """argparse, whose messages (usage errors quote the arguments) are redacted like every other one."""

    def _print_message(self, message: str, file=None) -> None:
        if message:
            (file or sys.stderr).write(safe_line(message))


def say(prog: str, message: str) -> None:
    """One message line on stderr, redacted."""
    sys.stderr.write(safe_line(f"{prog}: {message}") + "\n")


def guarded(prog: str) -> Callable[[Callable[[list[str]], int]], Callable[[list[str]], int]]:
    """Wrap a tool's `main`: a TfextError is one coded line (exit 2), anything unexpected one E090 line."""

    def wrap(main: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
        @functools.wraps(main)
        def run(argv: list[str]) -> int:
            try:
                return main(argv)
            except TfextError as exc:
                say(prog, exc.render())
                return 2
            except (BrokenPipeError, SystemExit, KeyboardInterrupt):
                raise
            except RecursionError:
                say(prog, f"{Code.BAD_JSON_SHAPE.tag} input: nested too deeply")
                return 2
            except Exception as exc:  # noqa: BLE001 - one line, never a traceback
                if os.environ.get("TFEXT_DEBUG") == "1":
                    import traceback

                    sys.stderr.write(safe_line(traceback.format_exc()) + "\n")
                say(
                    prog,
                    f"{Code.INTERNAL.tag} unexpected {type(exc).__name__}; this is a bug in tfext, please "
                    "report it (set TFEXT_DEBUG=1 to see the traceback)",
                )
                return 70

        return run

    return wrap


def read_stdin(limit: int = MAX_STDIN_BYTES) -> bytes:
    """stdin, at most `limit` bytes; more is refused (E008), not read."""
    stream = getattr(sys.stdin, "buffer", None)
    data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode()
    if len(data) > limit:
        raise TfextError.of(Code.INPUT_TOO_LARGE, "stdin", f"more than {limit >> 20} MiB; not read further")
    return data


def _key_shaped(text: str) -> bool:
    """Base64 or hex key material, even split by spaces (a path component of 40 base64 characters mixing
    cases and digits once spaces are removed, or 64 hex digits)."""
    compact = re.sub(r"\s+", "", text)
    if re.search(r"[0-9A-Fa-f]{64}", compact):
        return True
    runs = (
        part for part in compact.split("/") if len(part) >= 40 and re.fullmatch(r"[A-Za-z0-9+_=-]+", part)
    )
    return any(re.search(r"[A-Z]", r) and re.search(r"[a-z]", r) and re.search(r"[0-9]", r) for r in runs)


def refuse_content_as_path(path: object, what: str) -> None:
    """Refuse an argument that is file content (PEM text, a key, anything with line breaks or a name no
    filesystem takes) rather than a path: nothing is created or named after it, and it is not echoed."""
    text = os.fspath(path)
    text = os.fsdecode(text) if isinstance(text, bytes) else text
    content = (
        "-----BEGIN" in text
        or "PRIVATE KEY" in text
        or any(ord(c) < 32 or ord(c) == 127 for c in text)
        or any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for part in text.split("/"))
        or _key_shaped(text)
    )
    if content:
        shown = echo_path(text)
        raise TfextError.of(
            Code.NOT_A_PATH,
            what,
            f"{shown} given where a path belongs; pass the path, not the file's content",
        )
