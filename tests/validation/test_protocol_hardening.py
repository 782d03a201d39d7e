"""Every program, fed every kind of bad stdin: exit 1, one clear message that names the input and carries
its code, nothing on stdout, no traceback - in-process for every program, and through the real CLI."""

from __future__ import annotations

import io
import json

import pytest

from tfext import protocol
from tfext.errors import Code
from tfext.programs import PROGRAMS, handler

from ._kit import TAG, run_tfext

USER_PROVIDED_KEYS = {  # a required key of each user-provided program
    "etcd-user-provided": "server_cert_path",
    "kube-user-provided": "apiserver_cert_path",
    "identity-user-provided": "server_cert_path",
    "ingress-user-provided": "ingress_cert_path",
}


def _required_or_known_key(program: str) -> str:
    return USER_PROVIDED_KEYS.get(program, "plan_time" if program != "etcd-signed" else "ca_cert_path")


def bad_inputs(program: str) -> dict[str, tuple[bytes, Code, str]]:
    """id -> (stdin, the code it must earn, the input the message must name)."""
    key = _required_or_known_key(program)
    enum = (
        {"key_algorithm": "RSA-1024"} if "user-provided" not in program else {"renewal_window_hours": "soon"}
    )
    return {
        "empty_stdin": (b"", Code.EMPTY_INPUT, "stdin"),
        "only_whitespace": (b" \n\t ", Code.EMPTY_INPUT, "stdin"),
        "not_json": (b"ca_cert_path=/etc/ca.crt", Code.NOT_JSON, "stdin"),
        "truncated_json": (b'{"ca_cert_path": "/etc/ca.c', Code.NOT_JSON, "stdin"),
        "json_with_a_byte_order_mark": (b'\xef\xbb\xbf{"a": "b"}', Code.NOT_JSON, "stdin"),
        "nested_a_hundred_thousand_deep": (b"[" * 100_000 + b"]" * 100_000, Code.NOT_JSON, "stdin"),
        "a_number_of_five_thousand_digits": (b'{"a": ' + b"7" * 5000 + b"}", Code.NOT_JSON, "stdin"),
        "a_list": (b'["a", "b"]', Code.NOT_AN_OBJECT, "stdin"),
        "null": (b"null", Code.NOT_AN_OBJECT, "stdin"),
        "a_string": (b'"{}"', Code.NOT_AN_OBJECT, "stdin"),
        "a_number_value": (json.dumps({key: 42}).encode(), Code.NOT_A_STRING, f"query.{key}"),
        "a_null_value": (json.dumps({key: None}).encode(), Code.NOT_A_STRING, f"query.{key}"),
        "a_list_value": (json.dumps({key: ["/etc/a.crt"]}).encode(), Code.NOT_A_STRING, f"query.{key}"),
        "an_unknown_key": (
            json.dumps({"ca_cert_pem_pathh": "x"}).encode(),
            Code.UNKNOWN_KEY,
            "ca_cert_pem_pathh",
        ),
        "invalid_utf8": (b'{"ca_cert_path": "/etc/\xff\xfe.crt"}', Code.NOT_UTF8, "stdin"),
        "over_a_mebibyte": (
            b'{"a": "' + b"x" * protocol.MAX_INPUT_BYTES + b'"}',
            Code.INPUT_TOO_LARGE,
            "stdin",
        ),
        "an_unknown_enum_value": (json.dumps(enum).encode(), Code.INVALID_VALUE, f"query.{next(iter(enum))}"),
    }


def missing_key_inputs() -> list[tuple[str, bytes, str]]:
    """(program, stdin, the missing key): required keys, and keys another key depends on."""
    out = [(p, b"{}", k) for p, k in USER_PROVIDED_KEYS.items()]
    out += [
        ("kube-self-signed", b'{"ca_issued_at": "2030-01-01T00:00:00Z"}', "plan_time"),
        ("etcd-signed", b'{"client_cert_path": "/etc/c.crt"}', "client_key_path"),
        (
            "identity-self-signed",
            b'{"plan_time": "2030-01-01T00:00:00Z", "server_issued_at": "2030-01-01T00:00:00Z"}',
            "ca_cert_pem",
        ),
        ("ingress-self-signed", b'{"ingress_issued_at": "2030-01-01T00:00:00Z"}', "base_address"),
    ]
    return out


CASES = [(program, cid) for program in PROGRAMS for cid in bad_inputs(program)]


def run_in_process(program: str, stdin: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = protocol.run(program, handler(program), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_clear_message(program: str, code: int, stdout: str, stderr: str, expected: Code, names: str):
    shown = stderr[:400]
    assert code == 1, shown
    assert stdout == "", shown
    assert stderr.startswith(f"tfext {program}: ") and stderr.endswith("\n"), shown
    assert expected.tag in TAG.findall(stderr), shown
    assert names in stderr, shown
    assert "Traceback" not in stderr and len(stderr) < 4000, shown


@pytest.mark.parametrize(("program", "case_id"), CASES)
def test_bad_stdin_is_one_clear_message_naming_the_input(program, case_id):
    stdin, expected, names = bad_inputs(program)[case_id]
    assert_one_clear_message(program, *run_in_process(program, stdin), expected, names)


@pytest.mark.parametrize(("program", "stdin", "missing"), missing_key_inputs())
def test_a_missing_required_key_is_named(program, stdin, missing):
    assert_one_clear_message(program, *run_in_process(program, stdin), Code.MISSING_KEY, f"query.{missing}")


@pytest.fixture(scope="module")
def cli_outcomes():
    """Each bad stdin once through the real CLI, on the program Terraform runs most (a user-provided one)."""
    from concurrent.futures import ThreadPoolExecutor

    program = "kube-user-provided"
    with ThreadPoolExecutor(4) as pool:
        futures = {
            cid: pool.submit(run_tfext, program, stdin) for cid, (stdin, _, _) in bad_inputs(program).items()
        }
        return {cid: f.result() for cid, f in futures.items()}


@pytest.mark.parametrize("case_id", list(bad_inputs("kube-user-provided")))
def test_bad_stdin_through_the_cli_exits_1_with_one_message(case_id, cli_outcomes):
    _, expected, names = bad_inputs("kube-user-provided")[case_id]
    o = cli_outcomes[case_id]
    assert_one_clear_message("kube-user-provided", o.returncode, o.stdout, o.stderr, expected, names)


def test_an_unknown_program_is_refused_with_a_hint():
    import subprocess

    from ._kit import TFEXT

    proc = subprocess.run([TFEXT, "kube-selfsigned"], input=b"{}", capture_output=True, timeout=30)
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"tfext --list" in proc.stderr and b"Traceback" not in proc.stderr


def test_stdin_is_read_no_further_than_the_limit():
    class Endless(io.RawIOBase):
        """A stream that never ends; the protocol must stop reading, not exhaust memory."""

        served = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"x" * len(buffer)
            self.served += len(buffer)
            return len(buffer)

    stream = Endless()
    err = io.StringIO()
    code = protocol.run("kube-user-provided", handler("kube-user-provided"), stdin=stream, stderr=err)
    assert code == 1 and Code.INPUT_TOO_LARGE.tag in err.getvalue()
    assert stream.served <= 2 * protocol.MAX_INPUT_BYTES
