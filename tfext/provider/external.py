"""The `external` data source of hashicorp/external 2.3.5, reimplemented on the `tf` plugin framework.

What Terraform users can observe is reproduced from the real provider (terraform-plugin-framework,
Go 1.22+ standard library):

- schema: `program` list(string) required (at least one element), `query` map(string), `working_dir`
  string, computed `result` map(string) and `id` (always "-");
- `""` and null elements of `program` are dropped; null elements of `query` are omitted;
- `program[0]` is looked up like Go's `exec.LookPath`: in PATH when it has no "/", else checked as a
  path relative to the provider's (= Terraform's) working directory; it then runs in `working_dir`;
- stdin is Go's `json.Marshal` of the query (keys sorted, compact, `<` `>` `&` U+2028 U+2029 escaped,
  no trailing newline), then closed; the environment is the provider process's, unchanged;
- a non-zero exit is an error that quotes the whole stderr; on success stderr is ignored;
- stdout is decoded like Go's `json.Unmarshal` into `map[string]string`: the same syntax errors and type
  errors, the same messages, `null` values become "", a top-level `null` gives a null `result`;
- the diagnostics have the real summaries and details, attached to the `program` attribute.

Programs still running when Terraform stops the provider (StopProvider, cancelled call, shutdown) are
killed, as the real provider's context-bound commands are.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tf import types
from tf.iface import Config, DataSource, Provider, ReadDataContext, State
from tf.schema import Attribute, Schema, TextFormat
from tf.utils import Diagnostics

from tfext.provider.install import PROVIDER_SOURCE, go_os

TYPE_NAME = "external"

# --- Diagnostics, worded as the real provider words them (users grep for these) ----------------------

SUMMARY_MISSING = "External Program Missing"
SUMMARY_LOOKUP = "External Program Lookup Failed"
SUMMARY_EXECUTION = "External Program Execution Failed"
SUMMARY_RESULTS = "Unexpected External Program Results"

_DETAIL_MISSING = (
    "The data source was configured without a program to execute. "
    "Verify the configuration contains at least one non-empty value."
)
# The real text opens with a sentence left over from another message; it is kept for fidelity.
_DETAIL_LOOKUP = (
    "The data source received an unexpected error while attempting to parse the query. "
    "The data source received an unexpected error while attempting to find the program.\n\n"
    "The program must be accessible according to the platform where Terraform is running.\n\n"
    "If the expected program should be automatically found on the platform where Terraform is running, "
    "ensure that the program is in an expected directory. On Unix-based platforms, these directories are "
    "typically searched based on the '$PATH' environment variable. On Windows-based platforms, these "
    "directories are typically searched based on the '%PATH%' environment variable.\n\n"
    "If the expected program is relative to the Terraform configuration, it is recommended that the "
    "program name includes the interpolated value of 'path.module' before the program name to ensure "
    'that it is compatible with varying module usage. For example: "${path.module}/my-program"\n\n'
    "The program must also be executable according to the platform where Terraform is running. On "
    "Unix-based platforms, the file on the filesystem must have the executable bit set. On Windows-based "
    "platforms, no action is typically necessary.\n"
)
_DETAIL_EXECUTION = "The data source received an unexpected error while attempting to execute the program."
_DETAIL_NO_STDERR = "The program was executed, however it returned no additional error messaging."
_DETAIL_RESULTS = (
    "The data source received unexpected results after executing the program.\n\n"
    "Program output must be a JSON encoded map of string keys and string values.\n\n"
    "If the error is unclear, the output can be viewed by enabling Terraform's logging at TRACE level. "
    "Terraform documentation on logging: https://www.terraform.io/internals/debugging\n"
)


# --- Go formatting helpers ----------------------------------------------------------------------------

_GO_SHORT_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def go_quote(text: str) -> str:
    """`text` quoted as Go's `strconv.Quote` (and so `fmt`'s `%q`) quotes it."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _GO_SHORT_ESCAPES:
            out.append(_GO_SHORT_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif char.isprintable():
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def go_string_value(value: str | None) -> str:
    """How the plugin framework prints a `types.String` with `%s`: quoted, or `<null>`."""
    return "<null>" if value is None else go_quote(value)


def go_errno_text(errno: int | None) -> str:
    """A `syscall.Errno` message as Go prints it: the C library's text with a lower-case first letter."""
    if not errno:
        return "unknown error"
    text = os.strerror(errno)
    return text[:1].lower() + text[1:]


def go_exit_state(returncode: int) -> str:
    """What Go's `ProcessState.String()` says about how a child ended: `exit status 3`, `signal: killed`."""
    if returncode >= 0:
        return f"exit status {returncode}"
    number = -returncode
    try:
        name = signal.strsignal(number)
    except ValueError:
        name = None
    if not name or name.startswith("Unknown signal"):
        return f"signal: signal {number}"
    return "signal: " + name[:1].lower() + name[1:]


def _go_clean_join(directory: str, name: str) -> str:
    """Go's `filepath.Join`: join, then clean (`.`/`..` resolved lexically, one leading slash)."""
    joined = posixpath.normpath(posixpath.join(directory, name) if directory else name)
    if joined.startswith("//"):  # POSIX keeps "//", Go's Clean doesn't
        joined = "/" + joined.lstrip("/")
    return joined


def _valid_utf8_text(data: bytes) -> str:
    """Bytes as text the way terraform-plugin-go makes diagnostics valid: each bad byte becomes U+FFFD."""
    return _SURROGATES.sub("\ufffd", data.decode("utf-8", "surrogateescape"))


_SURROGATES = re.compile("[\ud800-\udfff]")


# --- stdin: Go's json.Marshal of map[string]string ----------------------------------------------------

# Go escapes these even inside strings (HTML safety, and JavaScript line separators).
_GO_MARSHAL_EXTRA_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def encode_query(query: dict[str, str]) -> bytes:
    """The program's stdin: `query` as Go's `json.Marshal` writes a `map[string]string`.

    Compact, keys in byte order, no trailing newline. Python's encoder already writes what Go writes for
    quotes, backslashes and control characters (`\\n`, `\\b`, `\\u001b`, ...); Go also escapes `<`, `>`,
    `&`, U+2028 and U+2029, which can only occur inside strings, so a translation finishes the job.
    """
    text = json.dumps(query, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.translate(_GO_MARSHAL_EXTRA_ESCAPES).encode("utf-8")


# --- stdout: Go's json.Unmarshal into map[string]string -----------------------------------------------

_GO_MAX_NESTING = 10000
_JSON_SPACE = frozenset(b" \t\r\n")
_DIGITS = frozenset(b"0123456789")
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_SIMPLE_ESCAPES = frozenset(b'bfnrt\\/"')
_LITERALS = {ord("t"): b"true", ord("f"): b"false", ord("n"): b"null"}
_STRING_STOP = re.compile(rb'["\\\x00-\x1f]')  # what ends a plain run inside a string
_QUOTE_OR_BACKSLASH = re.compile(rb'["\\]')
_DIGIT_RUN = re.compile(rb"[0-9]*")
_SCALAR_RUN = re.compile(rb"[^,\]} \t\r\n]*")
_SPACE_RUN = re.compile(rb"[ \t\r\n]*")


class ResultError(ValueError):
    """The program's stdout is not what the protocol allows; the message is Go's error text."""


def _go_quote_char(byte: int) -> str:
    """Go's `quoteChar`: how its JSON scanner names the byte it choked on."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    return "'" + go_quote(chr(byte))[1:-1] + "'"


# Contexts in which Go's end-of-input step (a space, see below) is itself the offending character.
_EOF_SPACE_CONTEXTS = frozenset(
    {
        "in numeric literal",
        "after decimal point in numeric literal",
        "in exponent of numeric literal",
        "in string escape code",
        "in \\u hexadecimal character escape",
    }
    | {f"in literal {word} (expecting '{char}')" for word in ("true", "false", "null") for char in word[1:]}
)


class _GoJSONChecker:
    """Go's `encoding/json` validity scan: the first syntax error, with Go's exact message.

    Go checks the whole input before decoding anything, so a syntax error anywhere wins over a type
    error. At the end of input Go feeds its scanner one space, which is why `-` fails with "invalid
    character ' ' in numeric literal" rather than "unexpected end of JSON input".
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.end = len(data)
        self.pos = 0

    def _at(self) -> int:
        """The current byte, or a space past the end (Go's end-of-input step)."""
        return self.data[self.pos] if self.pos < self.end else 0x20

    def _fail(self, context: str) -> ResultError:
        if self.pos >= self.end and context not in _EOF_SPACE_CONTEXTS:
            return ResultError("unexpected end of JSON input")
        return ResultError(f"invalid character {_go_quote_char(self._at())} {context}")

    def _skip_space(self) -> None:
        self.pos = _SPACE_RUN.match(self.data, self.pos).end()

    def _take(self, byte: int) -> bool:
        """Skip whitespace, then consume `byte` if it is next."""
        self._skip_space()
        if self.pos < self.end and self.data[self.pos] == byte:
            self.pos += 1
            return True
        return False

    def check(self) -> None:
        """Raise `ResultError` at Go's first syntax error; return if the input is one JSON value."""
        stack: list[int] = []  # the open containers, as their opening bytes
        want_value = True
        while True:
            self._skip_space()
            if self.pos >= self.end:
                if stack or want_value:
                    raise ResultError("unexpected end of JSON input")
                return
            if want_value:
                opened = self._value()
                if not opened:
                    want_value = False
                    continue
                stack.append(opened)
                if len(stack) > _GO_MAX_NESTING:
                    raise ResultError(f"invalid character {_go_quote_char(opened)} exceeded max depth")
                if opened == ord("["):
                    want_value = not self._take(ord("]"))
                elif self._take(ord("}")):
                    want_value = False
                else:
                    self._object_key()
                    want_value = True
                if not want_value:
                    stack.pop()  # an empty container is a complete value
                continue

            # A value just ended: what may follow depends on the innermost open container.
            byte = self.data[self.pos]
            if not stack:
                raise self._fail("after top-level value")
            if byte == ord(","):
                self.pos += 1
                if stack[-1] == ord("{"):
                    self._object_key()
                want_value = True
            elif byte == (ord("]") if stack[-1] == ord("[") else ord("}")):
                self.pos += 1
                stack.pop()
            else:
                raise self._fail(
                    "after array element" if stack[-1] == ord("[") else "after object key:value pair"
                )

    def _object_key(self) -> None:
        """A key string and its colon."""
        self._skip_space()
        if self.pos >= self.end or self.data[self.pos] != ord('"'):
            raise self._fail("looking for beginning of object key string")
        self.pos += 1
        self._string_body()
        if not self._take(ord(":")):
            raise self._fail("after object key")

    def _value(self) -> int:
        """Scan a scalar at `pos` and return 0, or consume an opening `[`/`{` and return it."""
        byte = self.data[self.pos]
        if byte in (ord("["), ord("{")):
            self.pos += 1
            return byte
        if byte == ord('"'):
            self.pos += 1
            self._string_body()
        elif byte == ord("-") or byte in _DIGITS:
            self._number()
        elif byte in _LITERALS:
            self._literal(_LITERALS[byte])
        else:
            raise self._fail("looking for beginning of value")
        return 0

    def _string_body(self) -> None:
        data = self.data
        while True:
            found = _STRING_STOP.search(data, self.pos)
            if found is None:
                self.pos = self.end
                raise ResultError("unexpected end of JSON input")
            self.pos = found.start()
            byte = data[self.pos]
            if byte == ord('"'):
                self.pos += 1
                return
            if byte != ord("\\"):
                raise self._fail("in string literal")
            self.pos += 1
            if self.pos < self.end and data[self.pos] in _SIMPLE_ESCAPES:
                self.pos += 1
            elif self.pos < self.end and data[self.pos] == ord("u"):
                self.pos += 1
                for _ in range(4):
                    if self.pos >= self.end or data[self.pos] not in _HEX_DIGITS:
                        raise self._fail("in \\u hexadecimal character escape")
                    self.pos += 1
            else:
                raise self._fail("in string escape code")

    def _need_digit(self, context: str) -> None:
        if self.pos >= self.end or self.data[self.pos] not in _DIGITS:
            raise self._fail(context)
        self.pos = _DIGIT_RUN.match(self.data, self.pos).end()

    def _number(self) -> None:
        data = self.data
        if data[self.pos] == ord("-"):
            self.pos += 1
            if self.pos >= self.end or data[self.pos] not in _DIGITS:
                raise self._fail("in numeric literal")
        if data[self.pos] == ord("0"):
            self.pos += 1  # no more digits may follow a leading zero
        else:
            self.pos = _DIGIT_RUN.match(data, self.pos).end()
        if self.pos < self.end and data[self.pos] == ord("."):
            self.pos += 1
            self._need_digit("after decimal point in numeric literal")
        if self.pos < self.end and data[self.pos] in b"eE":
            self.pos += 1
            if self.pos < self.end and data[self.pos] in b"+-":
                self.pos += 1
            self._need_digit("in exponent of numeric literal")

    def _literal(self, word: bytes) -> None:
        self.pos += 1
        for expected in word[1:]:
            if self.pos >= self.end or self.data[self.pos] != expected:
                raise self._fail(f"in literal {word.decode()} (expecting {_go_quote_char(expected)})")
            self.pos += 1


def _skip_string(data: bytes, pos: int) -> int:
    """`pos` is just past an opening quote in valid JSON; return the index just past the closing one."""
    while True:
        pos = _QUOTE_OR_BACKSLASH.search(data, pos).start()
        if data[pos] == ord('"'):
            return pos + 1
        pos += 2


def _skip_value(data: bytes, pos: int) -> int:
    """Skip one value of valid JSON starting at `pos` (iterative: nesting can reach 10000)."""
    depth = 0
    while True:
        byte = data[pos]
        if byte == ord('"'):
            pos = _skip_string(data, pos + 1)
        elif byte in b"[{":
            depth += 1
            pos += 1
        elif byte in b"]}":
            depth -= 1
            pos += 1
        elif byte in b", \t\r\n:":
            pos += 1
        else:  # a number or a literal
            pos = _SCALAR_RUN.match(data, pos).end()
        if depth == 0:
            return pos


def _decode_string(token: bytes) -> str:
    """A JSON string token as Go decodes it: invalid UTF-8 bytes and lone surrogates become U+FFFD."""
    text = json.loads(token.decode("utf-8", "surrogateescape"))
    return _SURROGATES.sub("\ufffd", text)


_KIND_BY_FIRST_BYTE = {
    ord('"'): "string",
    ord("["): "array",
    ord("{"): "object",
    ord("t"): "bool",
    ord("f"): "bool",
}


def _kind(byte: int) -> str:
    return _KIND_BY_FIRST_BYTE.get(byte, "number")


def decode_result(data: bytes) -> dict[str, str] | None:
    """The program's stdout decoded as Go's `json.Unmarshal(data, &map[string]string{})` decodes it.

    Returns the map, or None for a top-level `null` (the real provider's `result` is then null).
    Raises `ResultError` with Go's message for what Go rejects: syntax errors first, then the first
    value that is not a string or null, in document order.
    """
    _GoJSONChecker(data).check()
    pos = 0
    while data[pos] in _JSON_SPACE:
        pos += 1
    first = data[pos]
    if first == ord("n"):
        return None
    if first != ord("{"):
        raise ResultError(f"json: cannot unmarshal {_kind(first)} into Go value of type map[string]string")

    result: dict[str, str] = {}
    type_error: str | None = None
    pos += 1
    while True:
        while data[pos] in _JSON_SPACE or data[pos] == ord(","):
            pos += 1
        if data[pos] == ord("}"):
            break
        key_end = _skip_string(data, pos + 1)
        key = _decode_string(data[pos:key_end])
        pos = key_end
        while data[pos] in _JSON_SPACE or data[pos] == ord(":"):
            pos += 1
        start = pos
        pos = _skip_value(data, pos)
        if data[start] == ord('"'):
            result[key] = _decode_string(data[start:pos])
        elif data[start] == ord("n"):
            result[key] = ""  # Go leaves a null string at its zero value
        elif type_error is None:
            type_error = f"json: cannot unmarshal {_kind(data[start])} into Go value of type string"
    if type_error:
        raise ResultError(type_error)
    return result


# --- finding and running the program ------------------------------------------------------------------


def _executable_problem(path: str) -> str | None:
    """Why Go's `findExecutable` rejects `path`, or None when it is a runnable file."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"stat {path}: {go_errno_text(exc.errno)}"
    except ValueError:  # an embedded NUL
        return f"stat {path}: invalid argument"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory"
    effective = os.access in os.supports_effective_ids
    if os.access(path, os.X_OK, effective_ids=effective):
        return None
    return "permission denied"


def look_path(name: str, search_path: str | None = None) -> tuple[str | None, str | None]:
    """Go's `exec.LookPath(name)`, returning `(path, None)` or `(None, error text)`.

    A name with a slash is checked as a path (relative to the current directory); otherwise each PATH
    entry is tried in order, an empty entry meaning ".". Like the real provider, a match relative to
    the current directory (Go's ErrDot) is accepted.
    """
    if "/" in name:
        problem = _executable_problem(name)
        return (name, None) if problem is None else (None, f"exec: {go_quote(name)}: {problem}")
    search_path = os.environ.get("PATH", "") if search_path is None else search_path
    for directory in search_path.split(os.pathsep) if search_path else []:
        candidate = _go_clean_join(directory or ".", name)
        if _executable_problem(candidate) is None:
            return candidate, None
    return None, f"exec: {go_quote(name)}: executable file not found in $PATH"


@dataclass
class ProgramRun:
    """How one run of the program ended."""

    returncode: int | None  # None when the program could not be started
    stdout: bytes
    stderr: bytes
    start_error: str | None = None  # Go's error text when it could not be started

    @property
    def state(self) -> str:
        """Go's error text for a failed run (`exit status 2`, `fork/exec ...`)."""
        if self.start_error is not None:
            return self.start_error
        return go_exit_state(self.returncode or 0)


class ProgramSupervisor:
    """Keeps track of running programs so that Terraform stopping the provider can end them.

    `kill_all` serves StopProvider and shutdown; `call_scope` groups the programs one gRPC call started,
    so that a cancelled call kills only its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._local = threading.local()

    @contextmanager
    def call_scope(self) -> Iterator[CallScope]:
        """Attribute programs started by this thread, until the block ends, to a new `CallScope`."""
        scope = CallScope(self)
        previous = getattr(self._local, "scope", None)
        self._local.scope = scope
        try:
            yield scope
        finally:
            self._local.scope = previous

    def _discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._running.discard(process)

    def kill_all(self) -> None:
        """Kill (SIGKILL, as Go's CommandContext does) every program still running."""
        with self._lock:
            running = list(self._running)
        for process in running:
            _kill(process)

    def run(self, argv: Sequence[str], executable: str, working_dir: str | None, stdin: bytes) -> ProgramRun:
        """Run the program to completion: stdin written then closed, stdout and stderr collected."""
        display = executable
        if "/" not in executable:  # a PATH match relative to "." (Go's ErrDot): run it from working_dir
            executable = "./" + executable
        if working_dir:
            # Go's os.StartProcess checks the directory first, for a clearer error than the exec's.
            try:
                os.stat(working_dir)
            except OSError as exc:
                return ProgramRun(None, b"", b"", f"chdir {working_dir}: {go_errno_text(exc.errno)}")
        # Started and registered under the lock, so that a concurrent kill_all can't miss it.
        with self._lock:
            try:
                process = subprocess.Popen(
                    list(argv),
                    executable=executable,
                    cwd=working_dir or None,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            except OSError as exc:
                return ProgramRun(None, b"", b"", f"fork/exec {display}: {go_errno_text(exc.errno)}")
            self._running.add(process)
        scope = getattr(self._local, "scope", None)
        if scope is not None:
            scope.processes.add(process)
        try:
            stdout, stderr = process.communicate(stdin)  # a program that ignores stdin is fine (EPIPE)
        finally:
            self._discard(process)
        return ProgramRun(process.returncode, stdout, stderr)


class CallScope:
    """The programs started during one gRPC call; `kill` ends those still running."""

    def __init__(self, supervisor: ProgramSupervisor) -> None:
        self.supervisor = supervisor
        self.processes: set[subprocess.Popen[bytes]] = set()

    def kill(self) -> None:
        for process in list(self.processes):
            _kill(process)


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.returncode is None:
        with contextlib.suppress(OSError):  # already reaped
            process.kill()


SUPERVISOR = ProgramSupervisor()
"""The plugin process's one supervisor: the server asks it to kill programs on stop and cancellation."""


# --- TRACE logging, in go-hclog's JSON line format (go-plugin re-logs these in Terraform's log) --------


def _trace_enabled() -> bool:
    for name in ("TF_LOG_PROVIDER_EXTERNAL", "TF_LOG_PROVIDER", "TF_LOG"):
        if os.environ.get(name, "").strip().lower() in ("trace", "json"):
            return True
    return False


def trace(message: str, **fields: Any) -> None:
    """Log at TRACE when Terraform's log level asks for it. Never pass secrets (stdin, stdout, stderr)."""
    if not _trace_enabled():
        return
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"
    entry = {"@level": "trace", "@message": message, "@module": "provider", "@timestamp": stamp, **fields}
    try:
        sys.stderr.write(json.dumps(entry) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --- the data source and the provider -----------------------------------------------------------------


def _plain(name: str, type_: types.TfType, description: str, **flags: bool) -> Attribute:
    return Attribute(name, type_, description=description, description_kind=TextFormat.Plain, **flags)


class ExternalDataSource(DataSource):
    """`data "external"`: run a program with a JSON query on stdin, expose its JSON object as `result`."""

    def __init__(self, provider: Provider | None = None, supervisor: ProgramSupervisor = SUPERVISOR) -> None:
        self.provider = provider
        self.supervisor = supervisor

    @classmethod
    def get_name(cls) -> str:
        return TYPE_NAME

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            version=0,
            description=(
                "The `external` data source allows an external program implementing a specific protocol "
                "to act as a data source, exposing arbitrary data for use elsewhere in the Terraform "
                "configuration. (tfext's offline implementation of hashicorp/external.)"
            ),
            description_kind=TextFormat.Plain,
            attributes=[
                _plain(
                    "program",
                    types.List(types.String()),
                    "A list of strings, whose first element is the program to run and whose subsequent "
                    "elements are optional command line arguments to the program. It is not run through a "
                    "shell.",
                    required=True,
                ),
                _plain(
                    "working_dir",
                    types.String(),
                    "Working directory of the program. If not supplied, the program will run in the "
                    "current directory.",
                    optional=True,
                ),
                _plain(
                    "query",
                    types.Map(types.String()),
                    "A map of string values to pass to the external program as the query arguments. If "
                    "not supplied, the program will receive an empty object as its input.",
                    optional=True,
                ),
                _plain(
                    "result",
                    types.Map(types.String()),
                    "A map of string values returned from the external program.",
                    computed=True,
                ),
                _plain(
                    "id",
                    types.String(),
                    "The id of the data source. This will always be set to `-`",
                    computed=True,
                ),
            ],
        )

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        """What the real schema validates: `program` must have at least one element (when known)."""
        super().validate(diags, type_name, config)
        program = config.get("program")
        if isinstance(program, list) and len(program) == 0:
            diags.add_error(
                "Invalid Attribute Value",
                "Attribute program list must contain at least 1 elements, got: 0",
                path=["program"],
            )

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        try:
            return self._read(ctx.diagnostics, config)
        except Exception as exc:  # a bug here must still reach the user as a diagnostic
            ctx.diagnostics.add_error(
                "Unexpected Provider Error",
                "The offline hashicorp/external provider (tfext) failed unexpectedly: a bug in it.\n\n"
                f"{type(exc).__name__}: {exc}",
            )
            return None

    def _read(self, diags: Diagnostics, config: Config) -> State | None:
        program: list[str | None] = list(config.get("program") or [])
        filtered = [arg for arg in program if arg]  # drops null and ""
        if not filtered:
            diags.add_error(SUMMARY_MISSING, _DETAIL_MISSING, path=["program"])
            return None

        query = {key: value for key, value in (config.get("query") or {}).items() if value is not None}
        stdin = encode_query(query)

        path, lookup_error = look_path(filtered[0])
        if path is None:
            diags.add_error(
                SUMMARY_LOOKUP,
                _DETAIL_LOOKUP
                + f"\nPlatform: {go_os()}"
                + f"\nProgram: {go_string_value(program[0])}"
                + f"\nError: {lookup_error}",
                path=["program"],
            )
            return None

        working_dir = config.get("working_dir") or None
        trace("Executing external program", program=path, arguments=len(filtered) - 1)
        run = self.supervisor.run(filtered, path, working_dir, stdin)
        trace(
            "Executed external program",
            program=path,
            state=run.state if run.returncode != 0 else "exit status 0",
            stdout_bytes=len(run.stdout),
            stderr_bytes=len(run.stderr),
        )

        if run.returncode != 0:
            if run.stderr:
                detail = (
                    _DETAIL_EXECUTION
                    + f"\n\nProgram: {path}"
                    + f"\nError Message: {_valid_utf8_text(run.stderr)}"
                    + f"\nState: {run.state}"
                )
            else:
                detail = (
                    _DETAIL_EXECUTION
                    + "\n\n"
                    + _DETAIL_NO_STDERR
                    + f"\n\nProgram: {path}\nState: {run.state}"
                )
            diags.add_error(SUMMARY_EXECUTION, detail, path=["program"])
            return None

        try:
            result = decode_result(run.stdout)
        except ResultError as exc:
            diags.add_error(
                SUMMARY_RESULTS,
                _DETAIL_RESULTS + f"\nProgram: {path}\nResult Error: {exc}",
                path=["program"],
            )
            return None

        return {
            "program": config.get("program"),
            "working_dir": config.get("working_dir"),
            "query": config.get("query"),
            "result": result,
            "id": "-",
        }


class ExternalProvider(Provider):
    """The `hashicorp/external` provider: no configuration, one data source."""

    def get_model_prefix(self) -> str:
        return ""  # the data source's type name is the provider's name itself

    def full_name(self) -> str:
        return PROVIDER_SOURCE

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(version=0)

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        pass

    def get_data_sources(self) -> list[type[DataSource]]:
        return [ExternalDataSource]

    def get_resources(self) -> list[type[Any]]:
        return []
