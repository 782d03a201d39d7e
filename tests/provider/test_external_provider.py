"""The offline hashicorp/external provider, held to the real one's behaviour.

Two kinds of test:
- fidelity tests drive the real `terraform` CLI (init, apply, plan -json) against small root modules
  written into tmp directories, with the provider installed from a filesystem mirror. Every success case
  shares ONE module (one init + apply); every failure case shares another (one init + one `plan -json`,
  in which Terraform reports each data source's error separately, by address);
- unit tests pin the pieces: installation, the launcher, Go-compatible JSON in and out, PATH lookup,
  killing programs on stop.

`TFEXT_PROVIDER_MIRROR=DIR` runs the same fidelity tests against a mirror holding the REAL provider
(e.g. made with `terraform providers mirror` where the registry is reachable): that is how the
expectations below were meant to be proven. Cases document the oldest real version they describe and
are left out for older mirrors.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ON_CI = os.environ.get("CI", "").lower() == "true"
PYTHON = os.path.abspath(sys.executable)
SOURCE = "registry.terraform.io/hashicorp/external"
TF_TIMEOUT = 120  # seconds for one terraform command; a hang is a failure, not a stuck suite

# The diagnostics' fixed texts, written out here (not imported) so the tests are an independent oracle.
EXECUTION_PREFIX = "The data source received an unexpected error while attempting to execute the program."
RESULTS_PREFIX = (
    "The data source received unexpected results after executing the program.\n\n"
    "Program output must be a JSON encoded map of string keys and string values.\n\n"
    "If the error is unclear, the output can be viewed by enabling Terraform's logging at TRACE level. "
    "Terraform documentation on logging: https://www.terraform.io/internals/debugging\n"
)
MISSING_DETAIL = (
    "The data source was configured without a program to execute. "
    "Verify the configuration contains at least one non-empty value."
)


def unavailable(reason: str) -> None:
    """A prerequisite is missing: a failure on CI (where everything must run), a skip elsewhere."""
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: the provider tests must run)")
    pytest.skip(reason)


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def hcl(value: str) -> str:
    """`value` as an HCL string literal (HCL has no \\b or \\f, and `${`/`%{` start templates)."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


def hcl_list(items: Iterable[str | None]) -> str:
    return "[" + ", ".join("null" if item is None else hcl(item) for item in items) + "]"


# --- the provider under test --------------------------------------------------------------------------


@dataclass(frozen=True)
class Mirror:
    path: Path
    version: str
    real: bool  # True: TFEXT_PROVIDER_MIRROR, HashiCorp's build

    def has(self, minimum: str) -> bool:
        """Does the provider in the mirror behave as real release `minimum` (or later) does?"""
        return version_tuple(self.version) >= version_tuple(minimum)


def mirror_versions(mirror: Path) -> list[str]:
    """Versions of hashicorp/external in a filesystem mirror (unpacked or packed layout)."""
    base = mirror / SOURCE
    versions = {entry.name for entry in base.iterdir() if entry.is_dir()} if base.is_dir() else set()
    if base.is_dir():
        for archive in base.glob("terraform-provider-external_*_*.zip"):
            versions.add(archive.name.split("_")[1])
    return sorted(versions, key=version_tuple)


@pytest.fixture(scope="session")
def terraform() -> str:
    found = shutil.which("terraform")
    if not found:
        unavailable("the terraform CLI is not on PATH")
    return found


@pytest.fixture(scope="session")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Mirror:
    """Our provider freshly installed, or the real one when TFEXT_PROVIDER_MIRROR names a mirror."""
    real = os.environ.get("TFEXT_PROVIDER_MIRROR")
    if real:
        path = Path(real).resolve()
        versions = mirror_versions(path)
        if not versions:
            pytest.fail(f"TFEXT_PROVIDER_MIRROR={real} holds no {SOURCE}")
        return Mirror(path, versions[-1], real=True)
    install = provider_install_module()
    path = install.install_provider(tmp_path_factory.mktemp("mirror"))
    return Mirror(path, install.PROVIDER_VERSION, real=False)


def provider_install_module():
    """`tfext.provider.install`, checking that the plugin's own dependencies are importable."""
    for name in ("tf", "grpc", "msgpack"):
        try:
            __import__(name)
        except ImportError:
            unavailable(f"the provider needs `{name}` (pip install tfext[provider])")
    from tfext.provider import install

    return install


@pytest.fixture(scope="session")
def tf_env(mirror: Mirror, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Terraform's environment: the mirror's CLI config, automation mode, no network, no plugin cache."""
    from tfext.provider.install import cli_config_text

    config = tmp_path_factory.mktemp("cli") / "terraformrc"
    config.write_text(cli_config_text(mirror.path), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "CHECKPOINT_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(config),
        TF_IN_AUTOMATION="1",
        CHECKPOINT_DISABLE="1",
        TFEXT_FIDELITY_ENV="passed through <&> ✓",
    )
    return env


def run_tf(terraform: str, env: dict[str, str], module: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [terraform, f"-chdir={module}", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TF_TIMEOUT,
        check=False,
    )


def write_module(module: Path, mirror: Mirror, body: str) -> None:
    module.mkdir(parents=True, exist_ok=True)
    (module / "main.tf").write_text(
        "terraform {\n"
        "  required_providers {\n"
        f'    external = {{ source = "hashicorp/external", version = "= {mirror.version}" }}\n'
        "  }\n"
        "}\n\n" + body,
        encoding="utf-8",
    )


def init_module(terraform: str, env: dict[str, str], module: Path) -> None:
    done = run_tf(terraform, env, module, "init", "-input=false", "-no-color")
    assert done.returncode == 0, f"terraform init failed:\n{done.stdout}\n{done.stderr}"


# The programs the data sources run. One Python script with modes keeps every case in one place.
PROGRAM = r"""
import json, os, sys

mode = sys.argv[1]
if mode == "echo":  # report what the program was given
    stdin = sys.stdin.buffer.read()
    sys.stdout.write(json.dumps({
        "stdin": stdin.decode("utf-8"),
        "args": json.dumps(sys.argv[2:]),
        "cwd": os.getcwd(),
        "env": os.environ.get("TFEXT_FIDELITY_ENV", "<unset>"),
        "plugin_cookie": "yes" if "TF_PLUGIN_MAGIC_COOKIE" in os.environ else "no",
    }))
elif mode == "emit":  # emit =STDOUT [=STDERR [=EXIT_CODE]], ignoring stdin ("=": never an empty arg)
    payload = [arg[1:] for arg in sys.argv[2:]]
    sys.stdout.buffer.write(payload[0].encode("utf-8"))
    if len(payload) > 1:
        sys.stderr.buffer.write(payload[1].encode("utf-8"))
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(int(payload[2]) if len(payload) > 2 else 0)
"""


def write_programs(module: Path) -> Path:
    """prog.py, plus `./tool` in the module and in `sub/` (which one runs tells the directory used)."""
    script = module / "prog.py"
    script.write_text(PROGRAM, encoding="utf-8")
    (module / "sub").mkdir(exist_ok=True)
    for where, label in ((module, "root"), (module / "sub", "sub")):
        tool = where / "tool"
        tool.write_text(
            f"#!/bin/sh\nexec {json.dumps(PYTHON)} {json.dumps(str(script))} emit "
            f'\'={{"which":"{label}"}}\'\n',
            encoding="utf-8",
        )
        tool.chmod(0o755)
    (module / "plain.txt").write_text("not executable\n", encoding="utf-8")
    return script


def emit(script: Path, stdout: str, stderr: str = "", code: int = 0) -> str:
    """`program = [...]` running prog.py to print `stdout` and `stderr`, then exit with `code`."""
    return "program = " + hcl_list([PYTHON, str(script), "emit", "=" + stdout, "=" + stderr, f"={code}"])


# --- success cases: one module, one apply ------------------------------------------------------------

# The query sent through Terraform (HCL literals, so Terraform's own conversions apply)...
QUERY_HCL = """{
    b       = "2"
    a       = "1"
    B       = "upper case sorts first"
    _u      = "underscore"
    html    = "<tag> & </tag>"
    quote   = "say \\"hi\\" \\\\ bye"
    ctl     = "tab\\there\\nnewline\\rcr \\u001b[0m \\u0008\\u000c \\u007f"
    unicode = "é ✓ 😀"
    seps    = "\\u2028\\u2029"
    empty   = ""
    dropped = null
    number  = 42
    bool    = true
  }"""
# ...and the exact bytes the real provider writes on the program's stdin (Go's json.Marshal).
EXPECTED_STDIN = (
    r'{"B":"upper case sorts first","_u":"underscore","a":"1","b":"2","bool":"true",'
    r'"ctl":"tab\there\nnewline\rcr \u001b[0m \b\f ' + "\x7f" + r'","empty":"",'
    r'"html":"\u003ctag\u003e \u0026 \u003c/tag\u003e","number":"42","quote":"say \"hi\" \\ bye",'
    r'"seps":"\u2028\u2029","unicode":"é ✓ 😀"}'
)


def success_cases(script: Path) -> dict[str, tuple[str, str]]:
    """name -> (the data source's arguments, oldest real version they describe)."""
    echo = "program = " + hcl_list([PYTHON, str(script), "echo"])
    filtered = "program = " + hcl_list(["", PYTHON, None, str(script), "", "echo", "two words", "", "x"])
    big = 'format("%0300000d", 0)'  # 300 kB: far more than a pipe holds, and never read by the program
    return {
        "query_encoding": (f"{echo}\n  query = {QUERY_HCL}", "2.3.2"),
        "no_query": (echo, "2.0.0"),
        "only_null_query": (f"{echo}\n  query = {{ a = null }}", "2.3.2"),
        "program_filter": (filtered, "2.2.1"),
        "cwd_default": (echo, "2.0.0"),
        "cwd_relative": (f'{echo}\n  working_dir = "sub"', "2.0.0"),
        "cwd_absolute": (f'{echo}\n  working_dir = "${{abspath(path.module)}}/sub"', "2.0.0"),
        "relative_program": ('program = ["./tool"]', "2.0.0"),
        "relative_program_in_working_dir": ('program = ["./tool"]\n  working_dir = "sub"', "2.0.0"),
        "path_lookup": ("program = " + hcl_list(["sh", "-c", 'printf \'{"via":"%s"}\' PATH']), "2.0.0"),
        "null_value": (emit(script, '{"a": null, "b": "x"}'), "2.0.0"),
        "top_level_null": (emit(script, "null"), "2.3.0"),
        "empty_object": (emit(script, "{}"), "2.0.0"),
        "surrounding_whitespace": (emit(script, '\n\t {"k": "v"} \r\n'), "2.0.0"),
        "duplicate_key": (emit(script, '{"k":"1","k":"2"}'), "2.0.0"),
        "escapes_decoded": (emit(script, r'{"e":"\ud83d\ude00 \u00e9 \u003c \" \/"}'), "2.0.0"),
        "stderr_on_success": (emit(script, '{"ok":"yes"}', "NOISE-ON-SUCCESS"), "2.0.0"),
        "ignores_big_stdin": (emit(script, '{"ok":"yes"}') + f"\n  query = {{ big = {big} }}", "2.0.0"),
    }


@dataclass
class SuccessRun:
    module: Path
    apply: subprocess.CompletedProcess[str]
    results: dict[str, dict[str, str] | None]
    ids: dict[str, str]


@pytest.fixture(scope="module")
def success(terraform: str, mirror: Mirror, tf_env: dict[str, str], tmp_path_factory) -> SuccessRun:
    module = tmp_path_factory.mktemp("success")
    script = write_programs(module)
    cases = {name: args for name, (args, since) in success_cases(script).items() if mirror.has(since)}
    body = "".join(f'data "external" "{name}" {{\n  {args}\n}}\n\n' for name, args in cases.items())
    body += 'output "results" {\n  value = {\n'
    body += "".join(f"    {name} = data.external.{name}.result\n" for name in cases)
    body += '  }\n}\n\noutput "ids" {\n  value = {\n'
    body += "".join(f"    {name} = data.external.{name}.id\n" for name in cases)
    body += "  }\n}\n"
    write_module(module, mirror, body)
    init_module(terraform, tf_env, module)
    apply = run_tf(terraform, tf_env, module, "apply", "-auto-approve", "-input=false", "-no-color")
    assert apply.returncode == 0, f"terraform apply failed:\n{apply.stdout}\n{apply.stderr}"
    outputs = run_tf(terraform, tf_env, module, "output", "-json")
    assert outputs.returncode == 0, outputs.stderr
    values = json.loads(outputs.stdout)
    return SuccessRun(module, apply, values["results"]["value"], values["ids"]["value"])


def result_of(run: SuccessRun, name: str) -> dict[str, str] | None:
    if name not in run.results:
        pytest.skip(f"{name}: not a behaviour of the mirror's provider version")
    return run.results[name]


@pytest.mark.terraform
def test_stdin_is_go_json_marshal_of_the_query(success: SuccessRun) -> None:
    """Keys sorted, compact, <>& and U+2028/9 escaped, \\b \\f short, null dropped, no newline, closed."""
    assert result_of(success, "query_encoding")["stdin"] == EXPECTED_STDIN


@pytest.mark.terraform
def test_no_query_and_all_null_query_send_an_empty_object(success: SuccessRun) -> None:
    assert result_of(success, "no_query")["stdin"] == "{}"
    assert result_of(success, "only_null_query")["stdin"] == "{}"


@pytest.mark.terraform
def test_empty_and_null_program_elements_are_dropped(success: SuccessRun) -> None:
    assert json.loads(result_of(success, "program_filter")["args"]) == ["two words", "x"]


@pytest.mark.terraform
def test_working_dir_defaults_to_terraforms_working_directory(success: SuccessRun) -> None:
    assert result_of(success, "cwd_default")["cwd"] == os.path.realpath(success.module)


@pytest.mark.terraform
def test_working_dir_relative_and_absolute(success: SuccessRun) -> None:
    sub = os.path.realpath(success.module / "sub")
    assert result_of(success, "cwd_relative")["cwd"] == sub
    assert result_of(success, "cwd_absolute")["cwd"] == sub


@pytest.mark.terraform
def test_relative_program_is_found_from_terraforms_directory(success: SuccessRun) -> None:
    assert result_of(success, "relative_program") == {"which": "root"}


@pytest.mark.terraform
def test_relative_program_runs_relative_to_working_dir(success: SuccessRun) -> None:
    """Go checks `./tool` against Terraform's directory, then execs it from `working_dir`."""
    assert result_of(success, "relative_program_in_working_dir") == {"which": "sub"}


@pytest.mark.terraform
def test_bare_program_name_is_looked_up_in_path(success: SuccessRun) -> None:
    assert result_of(success, "path_lookup") == {"via": "PATH"}


@pytest.mark.terraform
def test_program_inherits_terraforms_environment_and_plugin_variables(success: SuccessRun) -> None:
    echoed = result_of(success, "no_query")
    assert echoed["env"] == "passed through <&> ✓"
    assert echoed["plugin_cookie"] == "yes"  # go-plugin's variables are visible too, as with the real one


@pytest.mark.terraform
def test_null_value_becomes_empty_string(success: SuccessRun) -> None:
    assert result_of(success, "null_value") == {"a": "", "b": "x"}


@pytest.mark.terraform
def test_top_level_null_gives_null_result(success: SuccessRun) -> None:
    assert result_of(success, "top_level_null") is None


@pytest.mark.terraform
def test_accepted_result_shapes(success: SuccessRun) -> None:
    assert result_of(success, "empty_object") == {}
    assert result_of(success, "surrounding_whitespace") == {"k": "v"}
    assert result_of(success, "duplicate_key") == {"k": "2"}
    assert result_of(success, "escapes_decoded") == {"e": '😀 é < " /'}


@pytest.mark.terraform
def test_stderr_of_a_successful_program_is_not_shown(success: SuccessRun) -> None:
    assert result_of(success, "stderr_on_success") == {"ok": "yes"}
    assert "NOISE-ON-SUCCESS" not in success.apply.stdout + success.apply.stderr


@pytest.mark.terraform
def test_program_that_ignores_a_large_stdin_succeeds(success: SuccessRun) -> None:
    assert result_of(success, "ignores_big_stdin") == {"ok": "yes"}


@pytest.mark.terraform
def test_id_is_a_dash(success: SuccessRun) -> None:
    assert success.ids and set(success.ids.values()) == {"-"}


# --- failure cases: one module, one `plan -json` -----------------------------------------------------


@dataclass(frozen=True)
class Failure:
    args: str  # the data source's arguments
    summary: str
    detail_ends: str  # the detail's exact ending (or all of it, see `whole`)
    since: str = "2.3.2"  # the oldest real version with these texts
    whole: bool = False  # detail_ends is the entire detail


def failure_cases(script: Path) -> dict[str, Failure]:
    stderr = "first line\nsecond: <>& ✓ and a line much longer than the terminal's 78 columns ......\n"
    stderr += "  indented third\n\ntrailing after a blank line"
    no_stderr = (
        f"{EXECUTION_PREFIX}\n\nThe program was executed, however it returned no additional error messaging."
    )

    def results(stdout: str, error: str) -> Failure:
        return Failure(
            emit(script, stdout),
            "Unexpected External Program Results",
            f"{RESULTS_PREFIX}\nProgram: {PYTHON}\nResult Error: {error}",
            whole=True,
        )

    return {
        "exit_with_stderr": Failure(
            emit(script, '{"ignored":"stdout"}', stderr, 3),
            "External Program Execution Failed",
            f"{EXECUTION_PREFIX}\n\nProgram: {PYTHON}\nError Message: {stderr}\nState: exit status 3",
            whole=True,
        ),
        "exit_without_stderr": Failure(
            emit(script, "", "", 4),
            "External Program Execution Failed",
            f"{no_stderr}\n\nProgram: {PYTHON}\nState: exit status 4",
            whole=True,
        ),
        "working_dir_missing": Failure(
            emit(script, "{}") + '\n  working_dir = "no-such-dir"',
            "External Program Execution Failed",
            f"{no_stderr}\n\nProgram: {PYTHON}\nState: chdir no-such-dir: no such file or directory",
            whole=True,
        ),
        "stdout_empty": results("", "unexpected end of JSON input"),
        "stdout_not_json": results("hello", "invalid character 'h' looking for beginning of value"),
        "stdout_trailing_garbage": results('{"a":"b"} x', "invalid character 'x' after top-level value"),
        "stdout_array": results(
            '["a"]', "json: cannot unmarshal array into Go value of type map[string]string"
        ),
        "stdout_number": results(
            "42", "json: cannot unmarshal number into Go value of type map[string]string"
        ),
        "stdout_string": results(
            '"s"', "json: cannot unmarshal string into Go value of type map[string]string"
        ),
        "value_number": results(
            '{"a":"x","n":1}', "json: cannot unmarshal number into Go value of type string"
        ),
        "value_bool": results('{"b":true}', "json: cannot unmarshal bool into Go value of type string"),
        "value_object": results(
            '{"o":{"k":"v"}}', "json: cannot unmarshal object into Go value of type string"
        ),
        "value_array": results('{"l":["v"]}', "json: cannot unmarshal array into Go value of type string"),
        "syntax_before_type": results('{"n":1,"x":}', "invalid character '}' looking for beginning of value"),
        "not_found_in_path": Failure(
            'program = ["tfext-no-such-program-3f9a"]',
            "External Program Lookup Failed",
            'Platform: linux\nProgram: "tfext-no-such-program-3f9a"\n'
            'Error: exec: "tfext-no-such-program-3f9a": executable file not found in $PATH',
        ),
        "not_found_relative": Failure(
            'program = ["./no-such-dir/prog", "arg"]',
            "External Program Lookup Failed",
            'Program: "./no-such-dir/prog"\n'
            'Error: exec: "./no-such-dir/prog": stat ./no-such-dir/prog: no such file or directory',
        ),
        "not_executable": Failure(
            'program = ["./plain.txt"]',
            "External Program Lookup Failed",
            'Program: "./plain.txt"\nError: exec: "./plain.txt": permission denied',
        ),
        "program_all_empty": Failure(
            'program = ["", null]',
            "External Program Missing",
            MISSING_DETAIL,
            since="2.2.1",
            whole=True,
        ),
    }


@pytest.fixture(scope="module")
def failures(
    terraform: str, mirror: Mirror, tf_env: dict[str, str], tmp_path_factory
) -> dict[str, list[dict]]:
    """address -> the error diagnostics `terraform plan -json` reported for it."""
    module = tmp_path_factory.mktemp("failures")
    script = write_programs(module)
    cases = {name: case for name, case in failure_cases(script).items() if mirror.has(case.since)}
    write_module(
        module, mirror, "".join(f'data "external" "{n}" {{\n  {c.args}\n}}\n\n' for n, c in cases.items())
    )
    init_module(terraform, tf_env, module)
    plan = run_tf(terraform, tf_env, module, "plan", "-json", "-input=false", "-lock=false")
    assert plan.returncode != 0, "the plan of failing data sources succeeded"
    found: dict[str, list[dict]] = {}
    for line in plan.stdout.splitlines():
        message = json.loads(line)
        diagnostic = message.get("diagnostic")
        if message.get("type") == "diagnostic" and diagnostic["severity"] == "error":
            found.setdefault(diagnostic.get("address", "<none>"), []).append(diagnostic)
    return found


@pytest.mark.terraform
@pytest.mark.parametrize("name", sorted(failure_cases(Path("/m/prog.py"))))
def test_failure_is_reported_like_the_real_provider(
    name: str, failures: dict[str, list[dict]], mirror: Mirror, tmp_path: Path
) -> None:
    case = failure_cases(Path("/m/prog.py"))[name]
    if not mirror.has(case.since):
        pytest.skip(
            f"{name}: described for hashicorp/external >= {case.since}, the mirror has {mirror.version}"
        )
    diagnostics = failures.get(f"data.external.{name}")
    assert diagnostics and len(diagnostics) == 1, f"expected one error for {name}, got {diagnostics}"
    (diagnostic,) = diagnostics
    assert diagnostic["summary"] == case.summary
    detail = diagnostic["detail"]
    if case.whole:
        assert detail == case.detail_ends
    else:
        assert detail.endswith(case.detail_ends)
    assert diagnostic["snippet"]["code"].lstrip().startswith("program"), "attached to `program`"


@pytest.mark.terraform
def test_failures_leave_no_other_errors(failures: dict[str, list[dict]], mirror: Mirror) -> None:
    unexpected = {address for address in failures if not address.startswith("data.external.")}
    assert not unexpected, failures


# --- validation and cancellation (modules sharing the failure module's installed provider) ------------


@pytest.mark.terraform
def test_empty_program_list_is_invalid(
    terraform: str, mirror: Mirror, tf_env: dict[str, str], tmp_path
) -> None:
    if not mirror.has("2.3.0"):
        pytest.skip(f"described for hashicorp/external >= 2.3.0, the mirror has {mirror.version}")
    module = tmp_path / "empty-program"
    write_module(module, mirror, 'data "external" "empty_list" {\n  program = []\n}\n')
    init_module(terraform, tf_env, module)
    validate = run_tf(terraform, tf_env, module, "validate", "-json")
    report = json.loads(validate.stdout)
    assert not report["valid"]
    (diagnostic,) = report["diagnostics"]
    assert diagnostic["summary"] == "Invalid Attribute Value"
    assert diagnostic["detail"] == "Attribute program list must contain at least 1 elements, got: 0"


@pytest.mark.terraform
def test_interrupt_kills_the_running_program(
    terraform: str, mirror: Mirror, tf_env: dict[str, str], tmp_path
) -> None:
    """Ctrl-C: Terraform stops the provider, which kills the program instead of waiting for it."""
    module = tmp_path / "slow"
    pid_file = tmp_path / "program.pid"
    program = ["sh", "-c", f"echo $$ > {json.dumps(str(pid_file))}; exec sleep 120"]
    write_module(module, mirror, f'data "external" "slow" {{\n  program = {hcl_list(program)}\n}}\n')
    init_module(terraform, tf_env, module)
    plan = subprocess.Popen(
        [terraform, f"-chdir={module}", "plan", "-input=false", "-no-color", "-lock=false"],
        env=tf_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text().strip()):
            assert plan.poll() is None, f"terraform ended early:\n{plan.communicate()[0]}"
            assert time.monotonic() < deadline, "the program never started"
            time.sleep(0.05)
        program_pid = int(pid_file.read_text())
        plan.send_signal(signal.SIGINT)
        output, _ = plan.communicate(timeout=30)
    finally:
        if plan.poll() is None:
            plan.kill()
            plan.wait()
    assert plan.returncode != 0
    assert "Interrupt received" in output
    assert not process_alive(program_pid), "the program outlived the interrupted run"


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


# --- unit tests: installation and the launcher --------------------------------------------------------


def test_install_provider_writes_the_unpacked_mirror_layout(tmp_path: Path) -> None:
    install = provider_install_module()
    mirror = tmp_path / "mirror"
    assert install.install_provider(mirror) == mirror
    platform_dir = mirror / SOURCE / install.PROVIDER_VERSION / install.terraform_platform()
    assert [p.name for p in platform_dir.iterdir()] == [
        f"terraform-provider-external_v{install.PROVIDER_VERSION}"
    ]
    launcher = install.provider_executable(mirror)
    assert launcher.stat().st_mode & 0o111 == 0o111
    text = launcher.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert PYTHON in text and "tfext.provider.__main__" in text
    assert re.fullmatch(r"[a-z0-9]+_[a-z0-9]+", install.terraform_platform())


def test_install_provider_is_repeatable(tmp_path: Path) -> None:
    install = provider_install_module()
    install.install_provider(tmp_path)
    first = install.provider_executable(tmp_path).read_text()
    install.install_provider(tmp_path)
    assert install.provider_executable(tmp_path).read_text() == first
    assert not [p for p in install.provider_executable(tmp_path).parent.iterdir() if p.name.startswith(".")]


def test_cli_config_routes_only_external_to_the_mirror(tmp_path: Path) -> None:
    install = provider_install_module()
    odd = tmp_path / 'a "quoted" ${dir}'
    text = install.cli_config_text(odd)
    assert 'path    = "' + str(odd).replace('"', '\\"').replace("${", "$${") + '"' in text
    assert text.count('"registry.terraform.io/hashicorp/external"') == 2
    assert re.search(r"filesystem_mirror \{.*include = \[.*\].*\}\s*direct \{\s*exclude = \[", text, re.S)


def test_cli_config_is_accepted_by_terraform(tmp_path: Path) -> None:
    install = provider_install_module()
    terraform_path = shutil.which("terraform")
    if not terraform_path:
        unavailable("the terraform CLI is not on PATH")
    config = tmp_path / "terraformrc"
    config.write_text(install.cli_config_text(tmp_path / 'odd "dir" ${x}'))
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(config), CHECKPOINT_DISABLE="1")
    done = subprocess.run([terraform_path, "version"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "problems with the CLI configuration" not in done.stdout + done.stderr


def test_main_installs_writes_config_and_prints_the_export_line(tmp_path: Path, capsys) -> None:
    install = provider_install_module()
    assert install.main([str(tmp_path / "m")]) == 0
    config = tmp_path / "m" / "terraformrc"
    assert config.read_text() == install.cli_config_text(tmp_path / "m")
    out = capsys.readouterr().out
    assert f"export TF_CLI_CONFIG_FILE={config}" in out
    assert install.main([str(tmp_path / "n"), "--cli-config", str(tmp_path / "rc" / "cfg.tfrc")]) == 0
    assert (tmp_path / "rc" / "cfg.tfrc").is_file()


def test_main_reports_an_unwritable_directory_without_a_traceback(tmp_path: Path, capsys) -> None:
    install = provider_install_module()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert install.main([str(blocker / "mirror")]) == 1  # a file where a directory must go, even for root
    err = capsys.readouterr().err
    assert err.startswith("tfext install-provider: cannot write the provider into ")
    assert "Traceback" not in err and err.count("\n") == 1


def launcher_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env.update(TFEXT_PROVIDER_CACHE_DIR=str(tmp_path / "cache"), **extra)
    return env


def test_launcher_refuses_to_run_outside_terraform(tmp_path: Path) -> None:
    install = provider_install_module()
    install.install_provider(tmp_path)
    done = subprocess.run(
        [install.provider_executable(tmp_path)], env=launcher_env(tmp_path), capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "This binary is a plugin" in done.stderr


def test_launcher_serves_the_handshake_and_stops_on_sigterm(tmp_path: Path) -> None:
    install = provider_install_module()
    install.install_provider(tmp_path / "mirror")
    cookie = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
    env = launcher_env(tmp_path, TF_PLUGIN_MAGIC_COOKIE=cookie, PLUGIN_PROTOCOL_VERSIONS="5,6")
    plugin = subprocess.Popen(
        [install.provider_executable(tmp_path / "mirror")],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = plugin.stdout.readline().rstrip("\n")
        core, protocol, network, address, kind, cert = line.split("|")
        assert (core, protocol, network, kind) == ("1", "6", "unix", "grpc")
        assert Path(address).is_socket()
        der = base64.b64decode(cert + "=" * (-len(cert) % 4))
        from cryptography import x509

        certificate = x509.load_der_x509_certificate(der)
        assert certificate.subject.rfc4514_string() == "CN=localhost"
        identity = tmp_path / "cache" / "server-identity.json"
        assert identity.stat().st_mode & 0o077 == 0, "the cached key is private"
        plugin.send_signal(signal.SIGTERM)
        assert plugin.wait(timeout=10) == 0
        assert not Path(address).exists() and not Path(address).parent.exists()
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait()


# --- unit tests: Go-compatible JSON, lookup, stop -----------------------------------------------------


def external_module():
    provider_install_module()  # the same dependency check
    from tfext.provider import external

    return external


@pytest.mark.parametrize(
    ("stdout", "expected"),
    [
        (b'{"a":"b"}', {"a": "b"}),
        (b' \n{"a": null, "b": "x"}\t\r\n', {"a": "", "b": "x"}),
        (b"null", None),
        (b"{}", {}),
        (b'{"k":"1","k":"2"}', {"k": "2"}),
        (b'{"e":"\\ud83d\\ude00 \\ud800x \\u00e9"}', {"e": "😀 \ufffdx é"}),
        (b'{"e":"\xff\xfe ok"}', {"e": "\ufffd\ufffd ok"}),  # bad UTF-8: one U+FFFD per byte, as Go
        (b'{"k":[1,{"z":"}"}],"v":"ok"}', "json: cannot unmarshal array into Go value of type string"),
        (b"", "unexpected end of JSON input"),
        (b"   ", "unexpected end of JSON input"),
        (b"{", "unexpected end of JSON input"),
        (b'{"a":1', "unexpected end of JSON input"),
        (b"-", "invalid character ' ' in numeric literal"),
        (b"1.", "invalid character ' ' after decimal point in numeric literal"),
        (b"1e+", "invalid character ' ' in exponent of numeric literal"),
        (b"tru", "invalid character ' ' in literal true (expecting 'e')"),
        (b"nulL", "invalid character 'L' in literal null (expecting 'l')"),
        (b'"\\', "invalid character ' ' in string escape code"),
        (b'"\\u12"', "invalid character '\"' in \\u hexadecimal character escape"),
        (b'{"a":"\\q"}', "invalid character 'q' in string escape code"),
        (b'{"a":"x\ny"}', "invalid character '\\n' in string literal"),
        (b'{"a":1,}', "invalid character '}' looking for beginning of object key string"),
        (b"{'a':'b'}", "invalid character '\\'' looking for beginning of object key string"),
        (b'{"a" 1}', "invalid character '1' after object key"),
        (b'{"a":1 "b"}', "invalid character '\"' after object key:value pair"),
        (b"[1 2]", "invalid character '2' after array element"),
        (b"[1,]", "invalid character ']' looking for beginning of value"),
        (b"01", "invalid character '1' after top-level value"),
        (b"NaN", "invalid character 'N' looking for beginning of value"),
        (b"\xef\xbb\xbf{}", "invalid character 'ï' looking for beginning of value"),
        (b"\x01", "invalid character '\\x01' looking for beginning of value"),
        (b"[" * 10001, "invalid character '[' exceeded max depth"),
        (b"[" * 10000 + b"]" * 10000, "json: cannot unmarshal array into Go value of type map[string]string"),
        (b"true", "json: cannot unmarshal bool into Go value of type map[string]string"),
        (b'{"a":1,"b":true}', "json: cannot unmarshal number into Go value of type string"),
    ],
)
def test_stdout_is_decoded_as_go_json_unmarshal(stdout: bytes, expected: dict | str | None) -> None:
    external = external_module()
    if isinstance(expected, str):
        with pytest.raises(external.ResultError) as raised:
            external.decode_result(stdout)
        assert str(raised.value) == expected
    else:
        assert external.decode_result(stdout) == expected


def test_large_stdout_decodes_quickly() -> None:
    external = external_module()
    big = json.dumps({f"k{i}": "v" * 1000 for i in range(5000)}).encode()  # 5 MB
    started = time.monotonic()
    assert len(external.decode_result(big)) == 5000
    assert time.monotonic() - started < 5


def test_query_encoding_matches_go() -> None:
    external = external_module()
    query = {"b": "<x> & y", "a": "\u2028é", "B": 'q"\\', "c": "\x01\b\f\n\x7f"}
    expected = r'{"B":"q\"\\","a":"\u2028é","b":"\u003cx\u003e \u0026 y","c":"\u0001\b\f\n' + "\x7f" + '"}'
    assert external.encode_query(query) == expected.encode()


def test_look_path_follows_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    external = external_module()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tool").write_text("#!/bin/sh\n")
    (bin_dir / "tool").chmod(0o755)
    (bin_dir / "data").write_text("")
    assert external.look_path("tool", f"/nonexistent::{bin_dir}//") == (f"{bin_dir}/tool", None)
    assert external.look_path("data", str(bin_dir)) == (
        None,
        'exec: "data": executable file not found in $PATH',
    )
    assert external.look_path("tool", "") == (None, 'exec: "tool": executable file not found in $PATH')
    monkeypatch.chdir(tmp_path)
    assert external.look_path("tool", ":bin") == ("bin/tool", None)  # relative to "." is accepted
    assert external.look_path("./bin") == (None, 'exec: "./bin": is a directory')
    assert external.look_path("bin/data") == (None, 'exec: "bin/data": permission denied')


def test_stop_kills_a_running_program_and_the_read_reports_it(tmp_path: Path) -> None:
    external = external_module()
    from tf.iface import ReadDataContext
    from tf.utils import Diagnostics

    supervisor = external.ProgramSupervisor()
    source = external.ExternalDataSource(supervisor=supervisor)
    started = tmp_path / "started"
    diags = Diagnostics()
    outcome: dict[str, object] = {}
    config = {"program": ["sh", "-c", f"touch {started}; exec sleep 60"], "query": None, "working_dir": None}
    context = ReadDataContext(diags, "external")
    reader = threading.Thread(target=lambda: outcome.update(state=source.read(context, config)))
    reader.start()
    deadline = time.monotonic() + 20
    while not started.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    supervisor.kill_all()
    reader.join(timeout=10)
    assert not reader.is_alive()
    assert outcome["state"] is None
    (error,) = diags.diagnostics
    assert error.summary == "External Program Execution Failed"
    assert error.detail.endswith("\nState: signal: killed")
