"""Never a traceback (issue 19, item 7): `tfext` started with stdin, stdout or stderr closed, or writing to a
full disk, ends with one coded line on stderr (TFEXT-E091 stdin, E092 stdout, E093 no space), or, when
stderr itself is closed or full, with a non-zero exit status alone. Each case is the real console script,
started by a shell with the redirection a user would type."""

from __future__ import annotations

import os
import subprocess

import pytest
from harness import TFEXT_BIN

TFEXT = str(TFEXT_BIN / "tfext")
QUERY = "echo '{}' |"  # a program's smallest query: nothing to issue, an empty answer


def shell(command: str) -> subprocess.CompletedProcess:
    """`command` run by bash, with "$TFEXT" the console script; no TFEXT_DEBUG (it adds tracebacks)."""
    env = {k: v for k, v in os.environ.items() if k != "TFEXT_DEBUG"} | {"TFEXT": TFEXT}
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, env=env)


def one_coded_line(run: subprocess.CompletedProcess, prefix: str, code: str) -> None:
    assert run.returncode != 0, run.stderr
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.endswith("\n"), run.stderr
    assert run.stderr.startswith(f"{prefix}: {code} "), run.stderr


CLOSED = [
    ('"$TFEXT" kube-self-signed <&-', "tfext kube-self-signed", "TFEXT-E091", "stdin: closed"),
    ('"$TFEXT" etcd-user-provided 0<&-', "tfext etcd-user-provided", "TFEXT-E091", "Pipe it in"),
    ('"$TFEXT" summary <&-', "tfext summary", "TFEXT-E091", "terraform output -json"),
    ('"$TFEXT" --help >&-', "tfext", "TFEXT-E092", "stdout: closed"),
    ('"$TFEXT" --list >&-', "tfext", "TFEXT-E092", "stdout: closed"),
    ('"$TFEXT" >&-', "tfext", "TFEXT-E092", "stdout: closed"),
    (
        f'{QUERY} "$TFEXT" kube-self-signed >&-',
        "tfext kube-self-signed",
        "TFEXT-E092",
        "Run it with stdout open",
    ),
    ('"$TFEXT" env >&-', "tfext env", "TFEXT-E092", "stdout: closed"),
]


@pytest.mark.parametrize(("command", "prefix", "code", "words"), CLOSED, ids=[c[0] for c in CLOSED])
def test_a_closed_stream_is_one_coded_line(command, prefix, code, words):
    run = shell(command)
    one_coded_line(run, prefix, code)
    assert words in run.stderr


FULL = [
    (f'{QUERY} "$TFEXT" kube-self-signed > /dev/full', "tfext kube-self-signed"),
    ('"$TFEXT" --list > /dev/full', "tfext"),
    ('"$TFEXT" --help > /dev/full', "tfext"),
    ('"$TFEXT" env > /dev/full', "tfext env"),
]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
@pytest.mark.parametrize(("command", "prefix"), FULL, ids=[c[0] for c in FULL])
def test_a_full_disk_is_one_coded_line_not_a_bug_report(command, prefix):
    run = shell(command)
    one_coded_line(run, prefix, "TFEXT-E093")
    assert "no space left" in run.stderr and "TFEXT-E090" not in run.stderr and "bug" not in run.stderr


SILENT = [
    '"$TFEXT" kube-self-signed <&- 2>&-',
    '"$TFEXT" --list >&- 2>&-',
    f'{QUERY} "$TFEXT" kube-self-signed >&- 2>&-',
    '"$TFEXT" summary <&- 2>&-',
    '"$TFEXT" kube-self-signed <&- 2>/dev/full',
    '"$TFEXT" --help > /dev/full 2>/dev/full',
]


@pytest.mark.parametrize("command", SILENT)
def test_with_stderr_closed_or_full_a_failure_is_a_non_zero_exit_alone(command):
    if "/dev/full" in command and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    run = shell(f'{command}; echo "exit=$?" >&2')  # bash's own stderr is still open
    assert run.stderr.startswith("exit=") and run.stderr.strip() != "exit=0", run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize(
    ("command", "out"),
    [
        (f'{QUERY} "$TFEXT" kube-self-signed 2>&-', "{}"),
        ('"$TFEXT" --list 2>&-', "kube-self-signed"),
        ('"$TFEXT" --list <&- 2>&-', "etcd-signed"),
    ],
)
def test_a_run_that_needs_no_closed_stream_succeeds(command, out):
    run = shell(command)
    assert run.returncode == 0 and out in run.stdout and run.stderr == ""


def test_a_reader_that_goes_away_early_is_no_error():
    run = shell('"$TFEXT" --list | head -c 1 >/dev/null; echo "${PIPESTATUS[0]}"')
    assert run.stdout.strip() == "0" and "Traceback" not in run.stderr and run.stderr == ""


def test_stdin_that_cannot_be_read_is_the_same_coded_line():
    """A descriptor that opens but fails to read (an I/O error, a directory) is E091 too. Python itself
    refuses to start with a directory as stdin, so the failing stream is handed to the protocol here."""
    import errno
    import io

    from tfext import protocol

    class Failing(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            raise OSError(errno.EIO, "Input/output error")

    err = io.StringIO()
    code = protocol.run("kube-self-signed", lambda q: {}, stdin=Failing(), stdout=io.StringIO(), stderr=err)
    assert code == 1 and err.getvalue() == (
        "tfext kube-self-signed: TFEXT-E091 stdin: cannot be read (Input/output error), and tfext reads "
        'its input there: a program the query Terraform\'s data "external" sends, a tool `terraform output '
        "-json` or `terraform state pull`. Pipe it in, e.g. `echo '{...}' | tfext PROGRAM`\n"
    )
