"""Terraform's `external` data source protocol, and nothing else.

Terraform writes one JSON object of strings on stdin and expects one JSON object of strings on stdout.
On failure we print one clear message on stderr (Terraform shows it verbatim), exit non-zero and print
nothing on stdout. No traceback ever reaches the user; messages never carry key material.

Every program walks the same path:  stdin -> JSON -> schema check -> handler -> stdout.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import BinaryIO, TextIO

from tfext.errors import Code, Problem, TfextError, echo, safe_line

# The query holds at most a few CA certificates and keys; anything near this is a mistake, and reading
# it all would let a runaway input exhaust memory.
MAX_INPUT_BYTES = 1024 * 1024

KEY_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")

Query = dict[str, str]
Result = dict[str, str]
Handler = Callable[[Query], Mapping[str, str]]


def read_query(stream: BinaryIO | None) -> object:
    """Read and decode stdin, bounded in size. Returns the decoded JSON value."""
    if stream is None:
        raise TfextError(stream_problem(None, "stdin"))
    try:
        raw = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:  # a directory given as stdin, an I/O error
        raise TfextError(stream_problem(exc, "stdin")) from None
    if len(raw) > MAX_INPUT_BYTES:
        raise TfextError.of(
            Code.INPUT_TOO_LARGE, "stdin", f"more than {MAX_INPUT_BYTES} bytes; a query is a few KiB at most"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TfextError.of(Code.NOT_UTF8, "stdin", f"invalid UTF-8 at byte {exc.start}") from None
    if not text.strip():
        raise TfextError.of(
            Code.EMPTY_INPUT, "stdin", "expected one JSON object of strings (the data source's query)"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TfextError.of(
            Code.NOT_JSON, "stdin", f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise TfextError.of(
            Code.NOT_JSON, "stdin", "nested too deeply; expected one flat object of strings"
        ) from None
    except ValueError:  # e.g. an integer of more digits than Python converts
        raise TfextError.of(
            Code.NOT_JSON, "stdin", "holds a value JSON decoding refuses (a number too long?)"
        ) from None


# The schemas ship as files in the package; reading them directly spares importlib.resources (~9 ms a run).
SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemas")


def _read_schema(name: str) -> dict:
    with open(os.path.join(SCHEMA_DIR, f"{name}.json"), encoding="utf-8") as f:
        return json.load(f)


def load_schema(program: str) -> dict:
    """The JSON Schema of a program's query, shipped in the package."""
    return _read_schema(program)


def _load_common() -> dict:
    return _read_schema("common")


def _common_registry():
    from referencing import Registry, Resource

    return Registry().with_resource("common.json", Resource.from_contents(_load_common()))


# What `surely_valid` understands; a schema using anything else always goes to jsonschema.
_OBJECT_KEYWORDS = {
    "$schema",
    "$id",
    "title",
    "type",
    "additionalProperties",
    "properties",
    "patternProperties",
    "required",
    "dependentRequired",
}
_STRING_KEYWORDS = {"$ref", "description", "type", "pattern", "enum", "maxLength"}


def surely_valid(schema: dict, value: dict, common: dict) -> bool:
    """A fast, conservative check for the few keywords our schemas use: True only when `value` is valid.

    Importing jsonschema costs more than the rest of a no-change run, so a valid query (the usual case)
    is accepted here; anything this does not understand or does not accept goes to jsonschema, which
    stays the judge and writes the messages. tests/unit/test_schema_fast_path.py holds the two to agreement.
    """
    if set(schema) - _OBJECT_KEYWORDS or schema.get("type") != "object":
        return False
    if schema.get("additionalProperties") is not False:
        return False
    properties = dict(schema.get("properties", {}))
    patterns = schema.get("patternProperties", {})
    for key in set(value) - set(properties):
        # A key may match several patterns (JSON Schema applies them all); ours never do, so the first
        # that matches is its rule, and a key matching none is refused by jsonschema below.
        rule = next((r for p, r in patterns.items() if re.search(p, key)), None)
        if rule is None:
            return False
        properties[key] = rule
    if not set(schema.get("required", ())) <= set(value):
        return False
    for key, needs in schema.get("dependentRequired", {}).items():
        if key in value and not set(needs) <= set(value):
            return False
    for key, item in value.items():
        rule = dict(properties[key])
        ref = rule.pop("$ref", None)
        if ref is not None:
            # Only a description may stand beside a $ref here: JSON Schema would apply both rule sets.
            prefix = "common.json#/$defs/"
            if set(rule) - {"description"} or not ref.startswith(prefix):
                return False
            if ref[len(prefix) :] not in common.get("$defs", {}):
                return False
            rule = dict(common["$defs"][ref[len(prefix) :]])
        if set(rule) - _STRING_KEYWORDS or rule.get("type") != "string" or not isinstance(item, str):
            return False
        if "enum" in rule and item not in rule["enum"]:
            return False
        if "maxLength" in rule and len(item) > rule["maxLength"]:
            return False
        if "pattern" in rule and not re.search(rule["pattern"], item):
            return False
    return True


def validate_query(program: str, value: object) -> Query:
    """Check a decoded query against the program's schema; report every violation at once."""
    if not isinstance(value, dict):
        kind = "null" if value is None else type(value).__name__
        raise TfextError.of(Code.NOT_AN_OBJECT, "stdin", f"expected a JSON object of strings, got {kind}")
    schema = load_schema(program)
    if surely_valid(schema, value, _load_common()):
        return value  # type: ignore[return-value]
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, registry=_common_registry())
    problems = [_describe(error, schema) for error in validator.iter_errors(value)]
    if problems:
        problems.sort(key=lambda p: (p.code.number, p.where))
        raise TfextError(problems)
    return value  # type: ignore[return-value]  # the schema guarantees dict[str, str]


def _describe(error, schema: dict) -> Problem:
    """Turn one jsonschema error into a message that names the key and says what is expected."""
    where = f"query.{error.path[0]}" if error.path else "query"
    if error.validator == "additionalProperties":
        patterns = schema.get("patternProperties", {})
        known = sorted(schema.get("properties", {})) + [_pattern_shape(p) for p in patterns]
        extra = sorted(
            k for k in set(error.instance) - set(known) if not any(re.search(p, k) for p in patterns)
        )
        # a key name is user input too: never echo one that could be key material, nor thousands of them
        shown = [k if KEY_NAME.fullmatch(k) else echo(k) for k in extra[:10]]
        more = f" and {len(extra) - 10} more" if len(extra) > 10 else ""
        return Problem(
            Code.UNKNOWN_KEY,
            "query",
            f"unknown key(s) {', '.join(shown)}{more}; known keys: {', '.join(known)}",
        )
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return Problem(Code.MISSING_KEY, f"query.{missing}", "required key is missing")
    if error.validator == "dependentRequired":
        # message: "'plan_time' is a dependency of 'ca_issued_at'"
        parts = error.message.split("'")
        missing, owner = (parts[1], parts[3]) if len(parts) >= 4 else (error.message, "another key")
        return Problem(Code.MISSING_KEY, f"query.{missing}", f"required when {owner} is set")
    if error.validator == "type":
        kind = "null" if error.instance is None else type(error.instance).__name__
        return Problem(
            Code.NOT_A_STRING,
            where,
            f"got a {kind}; every query value must be a string (jsonencode lists in HCL)",
        )
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return Problem(Code.INVALID_VALUE, where, f"{_safe_repr(error.instance)} is not one of {allowed}")
    expected = error.schema.get("description", error.validator)
    return Problem(
        Code.INVALID_VALUE, where, f"{_safe_repr(error.instance)} is not valid: expected {expected}"
    )


def _pattern_shape(pattern: str) -> str:
    """A per-node key pattern as a reader writes it: `^(server|peer):[a-z0-9]...$_issued_at` ->
    `server:<name>_issued_at, peer:<name>_issued_at`."""
    match = re.fullmatch(r"\^\(([a-z|_]+)\):.*\)\?_([a-z_]+)\$", pattern)
    if match is None:
        return pattern
    return ", ".join(f"{prefix}:<name>_{match.group(2)}" for prefix in match.group(1).split("|"))


def _safe_repr(value: object) -> str:
    """Echo short values so users see their typo; never echo anything that could be a key."""
    return echo(value)


def write_result(result: Mapping[str, str], stream: TextIO | None) -> None:
    """Write the one JSON object of strings Terraform expects."""
    bad = [k for k, v in result.items() if not isinstance(v, str)]
    if bad:  # a bug in a program, not user error; never print a half-right object
        raise TfextError.of(Code.INTERNAL, "result", f"non-string values for {', '.join(sorted(bad))}")
    if stream is None:
        raise TfextError(stream_problem(None, "stdout"))
    try:
        stream.write(json.dumps(dict(result), separators=(",", ":"), sort_keys=True))
        stream.flush()
    except OSError as exc:  # closed, a full disk, the reader gone
        discard_pending(stream)
        raise TfextError(stream_problem(exc, "stdout")) from None


def run(
    program: str,
    handler: Handler,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run one program under the protocol. Returns the exit code; prints nothing but the result.

    A closed or failing standard stream is a coded line too (E091 stdin, E092 stdout, E093 a full disk),
    and when stderr itself is closed or full, the exit status alone says it.
    """
    stderr = stderr if stderr is not None else sys.stderr
    try:
        stdout = stdout if stdout is not None else sys.stdout
        if stdout is None or isinstance(stdout, ClosedStream):
            # `>&-`: no answer could reach Terraform; say so before reading or issuing anything
            raise TfextError(stream_problem(None, "stdout"))
        if stdin is None:
            stdin = getattr(sys.stdin, "buffer", None)  # None when closed (`<&-`): read_query says so
        with warnings.catch_warnings():
            # e.g. cryptography's deprecation notes on odd certificates: the rules report what matters,
            # and nothing but our one message may reach stderr
            warnings.simplefilter("ignore")
            query = validate_query(program, read_query(stdin))
            result = handler(query)
        write_result(result, stdout)
        return 0
    except TfextError as exc:
        say(stderr, f"tfext {program}: {exc.render()}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - the contract is one clear line, never a traceback
        if os.environ.get("TFEXT_DEBUG") == "1":
            import traceback

            say(stderr, traceback.format_exc())
        say(
            stderr,
            f"tfext {program}: {Code.INTERNAL.tag} unexpected {type(exc).__name__}; this is a bug in tfext, "
            "please report it (set TFEXT_DEBUG=1 to see the traceback)\n",
        )
        return 70


# --- the standard streams -------------------------------------------------------------------------------

# A stream Python could not even open (the descriptor was closed: `<&-`, `>&-`, `2>&-`) is None in sys.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def stream_problem(exc: OSError | None, stream: str) -> Problem:
    """What a closed or failing standard stream means, and what to do (never a traceback). `exc` is None
    when the stream is closed outright."""
    reason = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    if stream == "stdin":
        state = "closed" if exc is None or exc.errno == errno.EBADF else f"cannot be read{reason}"
        return Problem(
            Code.STDIN_UNREADABLE,
            "stdin",
            f'{state}, and tfext reads its input there: a program the query Terraform\'s data "external" '
            "sends, a tool `terraform output -json` or `terraform state pull`. Pipe it in, e.g. "
            "`echo '{...}' | tfext PROGRAM`",
        )
    if exc is not None and exc.errno in _FULL:
        full = "no space left on the device" if exc.errno == errno.ENOSPC else f"the file is full{reason}"
        return Problem(
            Code.DISK_FULL,
            stream,
            f"{full}: nothing was written in full. Free space there, or send the output elsewhere",
        )
    if exc is None or exc.errno == errno.EBADF:
        state = "closed"
    elif isinstance(exc, BrokenPipeError):
        state = "the reader went away (a broken pipe)"
    else:
        state = f"cannot be written{reason}"
    return Problem(
        Code.STDOUT_UNWRITABLE,
        stream,
        f"{state}, and tfext writes its answer there. Run it with {stream} open, as Terraform's data "
        '"external" does, or redirect it to a file',
    )


def say(stream: TextIO | None, text: str) -> None:
    """Write one message to stderr, or nothing when stderr is closed or full: the exit status says it."""
    if stream is None:
        return
    try:
        stream.write(safe_line(text.rstrip("\n")) + "\n")
        stream.flush()
    except (OSError, ValueError):  # ValueError: a stream closed by a handler
        discard_pending(stream)


def discard_pending(stream: object) -> None:
    """After a failed write to a standard stream, point its descriptor at /dev/null, so that the data left
    in Python's buffer is dropped there when the interpreter flushes it on exit, instead of failing again
    with a message of Python's own ("Exception ignored ...", exit status 120)."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test's StringIO): nothing will flush it on exit
    if fd not in (1, 2):
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


class CheckedStream:
    """A standard stream whose failures are coded errors: an OSError of a read or write (a full disk, a
    descriptor that is a directory, an I/O error) becomes a TfextError naming the stream, which every
    command reports as one line. A broken pipe stays a BrokenPipeError: `tfext summary | head` is fine.
    For stderr (`quiet`), failures are dropped instead: there is nowhere left to report them."""

    def __init__(self, inner: object, name: str, *, quiet: bool = False):
        self._inner = inner
        self._name = name
        self._quiet = quiet

    def _call(self, method: str, *args):
        try:
            return getattr(self._inner, method)(*args)
        except BrokenPipeError:
            if self._quiet:
                discard_pending(self._inner)
                return None
            raise
        except OSError as exc:
            if self._name != "stdin":
                discard_pending(self._inner)
            if self._quiet:
                return None
            raise TfextError(stream_problem(exc, self._name)) from None

    def write(self, text):
        return self._call("write", text)

    def flush(self):
        return self._call("flush")

    def read(self, *args):
        return self._call("read", *args)

    def readline(self, *args):
        return self._call("readline", *args)

    @property
    def buffer(self):
        return CheckedStream(self._inner.buffer, self._name, quiet=self._quiet)  # type: ignore[attr-defined]

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class ClosedStream:
    """Stands for a standard stream that was closed before tfext started (None in sys): every use is the
    coded error, never an AttributeError on None; stderr's stand-in swallows what is written."""

    def __init__(self, name: str):
        self._name = name

    def _closed(self, *_args):
        if self._name == "stderr":
            return None
        raise TfextError(stream_problem(None, self._name))

    write = read = readline = _closed

    def flush(self) -> None:
        return None

    @property
    def buffer(self):
        return self

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, "closed")


@contextlib.contextmanager
def checked_std_streams():
    """Within: sys.stdin, sys.stdout and sys.stderr never raise a bare OSError nor are None (see
    CheckedStream, ClosedStream). Restored on exit."""
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = CheckedStream(sys.stdin, "stdin") if sys.stdin is not None else ClosedStream("stdin")
    sys.stdout = CheckedStream(sys.stdout, "stdout") if sys.stdout is not None else ClosedStream("stdout")
    sys.stderr = (
        CheckedStream(sys.stderr, "stderr", quiet=True) if sys.stderr is not None else ClosedStream("stderr")
    )
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
