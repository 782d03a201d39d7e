"""Item 5: nothing hangs, nothing reads unbounded. One mechanism for every file: opened without blocking
and without a controlling terminal, checked by descriptor, regular files only, read bounded."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tfext.errors import Code, TfextError
from tfext.files import MAX_PEM_FILE_BYTES, read_file, read_regular_file

from .conftest import BUDGET_SECONDS, assert_clean, tfext_process


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.crt"
    os.mkfifo(path)
    return path


def test_a_fifo_path_is_refused_at_once(fifo):
    start = time.perf_counter()
    with pytest.raises(TfextError) as err:
        read_file(str(fifo), "ca certificate")
    assert err.value.problems[0].code is Code.FILE_UNREADABLE
    assert time.perf_counter() - start < 0.5


def test_a_file_swapped_for_a_fifo_is_judged_by_its_descriptor(tmp_path):
    """The race of the issue: the path is a regular file when looked at, a FIFO when opened. Swapping it
    in a loop while reading must never hang, and never read a FIFO."""
    path = tmp_path / "ca.crt"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    stop = threading.Event()

    def swap():
        while not stop.is_set():
            tmp = tmp_path / "swap"
            os.mkfifo(tmp)
            os.replace(tmp, path)
            tmp.write_text("-----BEGIN CERTIFICATE-----\n")
            os.replace(tmp, path)

    thread = threading.Thread(target=swap, daemon=True)
    thread.start()
    try:
        deadline = time.perf_counter() + 1.0
        runs = 0
        while time.perf_counter() < deadline:
            try:
                read_file(str(path), "ca certificate")
            except TfextError as exc:
                assert exc.problems[0].code in (Code.FILE_UNREADABLE, Code.FILE_MISSING, Code.FILE_EMPTY)
            runs += 1
        assert runs > 50
    finally:
        stop.set()
        thread.join()


@pytest.mark.skipif(not os.path.exists("/proc/kmsg"), reason="no /proc/kmsg here")
def test_proc_kmsg_is_not_read():
    start = time.perf_counter()
    with pytest.raises(TfextError) as err:
        read_file("/proc/kmsg", "ca certificate")
    assert err.value.problems[0].code in (Code.FILE_EMPTY, Code.FILE_UNREADABLE)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/tty", "/dev/stdin"])
def test_devices_are_refused_unread(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    with pytest.raises(TfextError):
        read_regular_file(device, MAX_PEM_FILE_BYTES, "x")


@pytest.mark.parametrize("command", ["inspect", "check-expiration", "topology"])
def test_tools_refuse_a_fifo_without_hanging(tmp_path, fifo, command):
    source = str(fifo) if command != "topology" else str(tmp_path)
    if command == "topology":
        os.mkfifo(tmp_path / "ca.crt")
    run = tfext_process(command, source, timeout=10)
    assert_clean(run)
    assert run.code != 0 and run.seconds < BUDGET_SECONDS + 1


def test_check_expiration_of_dev_zero_reads_nothing(tmp_path):
    run = tfext_process("check-expiration", "/dev/zero", timeout=10)
    assert run.code == 2 and Code.FILE_UNREADABLE.tag in run.err and run.seconds < BUDGET_SECONDS + 1


@pytest.mark.parametrize(
    "argv", [("summary",), ("topology", "-"), ("write-assets", "{dir}"), ("check-expiration", "-")]
)
def test_stdin_is_read_bounded(cli, tmp_path, argv):
    big = b'{"a": "' + b"x" * (17 << 20) + b'"}'
    run = cli(*(a.format(dir=tmp_path / "tls") for a in argv), stdin=big)
    assert run.code == 2 and Code.INPUT_TOO_LARGE.tag in run.err
    assert not (tmp_path / "tls").exists()


def test_a_state_file_is_read_bounded(cli, tmp_path):
    state = tmp_path / "terraform.tfstate"
    with state.open("wb") as f:
        f.write(b'{"version": 4, "resources": [], "pad": "')
        f.truncate(20 << 20)
    run = cli("check-expiration", str(state))
    assert run.code == 2 and Code.FILE_TOO_LARGE.tag in run.err


def test_stdin_within_limits_still_works(cli):
    run = cli("summary", stdin=json.dumps({"m": {"ca": {"subject": "CN=x", "issuer": "CN=x"}}}))
    assert run.code == 0 and "m.ca" in run.out
