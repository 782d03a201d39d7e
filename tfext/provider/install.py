"""Install the offline `hashicorp/external` provider into a Terraform filesystem mirror.

    python -m tfext install-provider DIR [--cli-config FILE]

writes the *unpacked* mirror layout Terraform's `filesystem_mirror` installation method reads:

    DIR/registry.terraform.io/hashicorp/external/2.3.5+tfext/<os>_<arch>/terraform-provider-external_v2.3.5+tfext

The "binary" is a small `/bin/sh` launcher that execs the interpreter that ran the install (absolute
path, so a virtualenv works without being on PATH) on `tfext.provider`. A CLI configuration routes only
`registry.terraform.io/hashicorp/external` to the mirror; every other provider is installed as usual.
Point `TF_CLI_CONFIG_FILE` at it and `terraform init` works offline ("unauthenticated" install).

The version is `PROVIDER_VERSION` (2.3.5+tfext): the release whose behaviour `tfext.provider.external`
reproduces, with semver build metadata no HashiCorp release carries. `terraform init` says "Installed
hashicorp/external v2.3.5+tfext" and `terraform version` lists it so; `>= 2.1` and `~> 2.3` constraints
match it, while an exact `= 2.3.5` pin of the real release does not. Terraform's dependency lock file
records this launcher's checksum, which differs per machine - do not commit a `.terraform.lock.hcl` made
with the mirror (the command says so).

This module imports only the standard library (and tfext's own stdlib-only message helpers), so it is cheap
to load from the `tfext` CLI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import shlex
import stat
import sys
import tempfile
from pathlib import Path

from tfext.tools.cli import Parser, guarded, refuse_content_as_path, say

REPRODUCED_VERSION = "2.3.5"
"""The real hashicorp/external release whose behaviour the offline implementation reproduces."""

PROVIDER_VERSION = f"{REPRODUCED_VERSION}+tfext"
"""The version it installs as: build metadata (`+tfext`) that no HashiCorp release has, so that
`terraform init`, `terraform version` and a lock file can't be mistaken for HashiCorp's build."""

LAUNCHER_MARK = "tfext's offline implementation, not the HashiCorp build"

PROVIDER_SOURCE = "registry.terraform.io/hashicorp/external"
"""The provider's fully qualified source address, as Terraform and the mirror layout spell it."""

_EXECUTABLE_PREFIX = "terraform-provider-external"

# Modules the plugin process needs; checked at install time so a broken launcher is never written.
_RUNTIME_MODULES = ("tf", "grpc", "google.protobuf", "msgpack")

# uname machine names -> Go's GOARCH, which is how Terraform names a platform.
_GO_ARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "i386": "386",
    "i686": "386",
    "armv6l": "arm",
    "armv7l": "arm",
    "s390x": "s390x",
    "ppc64le": "ppc64le",
}


class ProviderInstallError(Exception):
    """The provider could not be installed; the message says why, for a person."""


DIRECTORY_MODE = 0o755


def make_directories(directory: Path, below: Path | None = None) -> None:
    """Create `directory` and its missing parents 0755 whatever the umask, refusing shared ones.

    Terraform runs the launcher in this tree, so no other user may be able to swap it: a directory that
    exists at or under `below` (the mirror root) must not be a symbolic link nor group- or world-writable,
    and no existing parent may be world-writable without the sticky bit (as /tmp has). Raises
    `ProviderInstallError`, naming the directory.
    """
    directory = Path(os.path.abspath(directory))
    below = Path(os.path.abspath(below)) if below is not None else directory
    chain = [directory, *directory.parents]
    for path in reversed(chain):
        inside = path == below or below in path.parents
        try:
            info = path.lstat() if inside and path != below else path.stat()
        except FileNotFoundError:
            try:
                os.mkdir(path, DIRECTORY_MODE)
                os.chmod(path, DIRECTORY_MODE, follow_symlinks=False)
            except FileExistsError:
                info = path.lstat()
            except OSError as exc:
                raise ProviderInstallError(
                    f"cannot write the provider into {_shown(path)}: {exc.strerror or exc}"
                ) from exc
            else:
                continue
        except OSError as exc:
            raise ProviderInstallError(
                f"cannot write the provider into {_shown(path)}: {exc.strerror}"
            ) from exc
        if not stat.S_ISDIR(info.st_mode):
            what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a directory"
            raise ProviderInstallError(f"cannot write the provider into {_shown(path)}: it is {what}")
        shared = info.st_mode & (0o022 if inside else 0o002)
        if shared and not (not inside and info.st_mode & stat.S_ISVTX):
            who = "others" if info.st_mode & 0o002 else "its group"
            raise ProviderInstallError(
                f"refusing {_shown(path)}: it is writable by {who} (mode {stat.S_IMODE(info.st_mode):o}), "
                "who could swap the launcher Terraform runs; chmod go-w it or choose another directory"
            )


def _shown(path: object) -> str:
    from tfext.errors import echo_path

    return echo_path(path)


def go_os() -> str:
    """This machine's operating system as Go's GOOS names it (`linux`, `darwin`, ...)."""
    name = sys.platform
    if name.startswith("linux"):
        return "linux"
    if name.startswith("freebsd"):
        return "freebsd"
    if name.startswith("openbsd"):
        return "openbsd"
    if name == "win32":
        return "windows"
    return name  # "darwin" and the rest already match


def go_arch() -> str:
    """This machine's architecture as Go's GOARCH names it (`amd64`, `arm64`, ...)."""
    machine = platform.machine().lower()
    return _GO_ARCH.get(machine, machine)


def terraform_platform() -> str:
    """The `<os>_<arch>` directory name Terraform looks for in a mirror, e.g. `linux_amd64`."""
    return f"{go_os()}_{go_arch()}"


def provider_executable(mirror_dir: Path, version: str = PROVIDER_VERSION) -> Path:
    """Where `install_provider` puts the launcher for this platform inside `mirror_dir`."""
    return (
        Path(mirror_dir)
        / PROVIDER_SOURCE
        / version
        / terraform_platform()
        / f"{_EXECUTABLE_PREFIX}_v{version}"
    )


def _package_root() -> Path:
    """The sys.path entry `tfext` was imported from (a checkout or site-packages)."""
    import tfext

    return Path(tfext.__file__).resolve().parent.parent


def launcher_text(python: str | None = None, package_root: Path | None = None) -> str:
    """The launcher script: exec `python` on the plugin server, with `package_root` importable.

    `-c` rather than `-m`: with `-m`, Python puts the current directory - Terraform's working directory,
    i.e. the user's root module - first on sys.path, where a stray `grpc.py` or `tfext/` would shadow the
    real ones. `-c` puts "" there instead, which the launcher replaces with the install's package root.
    No environment variable is set: the external programs must see exactly Terraform's environment.
    """
    python = python or os.path.abspath(sys.executable)
    package_root = package_root or _package_root()
    code = (
        f"import sys; sys.path[0] = {json.dumps(str(package_root))}; "
        "from tfext.provider.__main__ import main; sys.exit(main())"
    )
    return (
        "#!/bin/sh\n"
        f"# {PROVIDER_SOURCE} {PROVIDER_VERSION}: {LAUNCHER_MARK}.\n"
        "# Written by `python -m tfext install-provider`; Terraform starts it as a plugin.\n"
        f'exec {shlex.quote(python)} -c {shlex.quote(code)} "$@"\n'
    )


def install_provider(mirror_dir: Path, version: str = PROVIDER_VERSION) -> Path:
    """Write the provider into `mirror_dir` (unpacked filesystem-mirror layout) and return `mirror_dir`.

    Re-running replaces the launcher atomically, so it is safe while Terraform is using the mirror.
    Raises `ProviderInstallError` when the platform is unsupported or the directory can't be written.
    """
    if go_os() == "windows":
        raise ProviderInstallError(
            "the offline provider's launcher is a /bin/sh script; Windows is not supported"
        )
    mirror_dir = Path(os.path.abspath(mirror_dir))
    target = provider_executable(mirror_dir, version)
    make_directories(target.parent, below=mirror_dir)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".launcher-", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as tmp:
                tmp.write(launcher_text())
            os.chmod(tmp_name, 0o755)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        where = exc.filename or mirror_dir
        raise ProviderInstallError(
            f"cannot write the provider into {_shown(where)}: {exc.strerror or exc}"
        ) from exc
    remove_stale_launchers(mirror_dir, keep=version)
    return mirror_dir


def remove_stale_launchers(mirror_dir: Path, keep: str = PROVIDER_VERSION) -> list[Path]:
    """Remove launchers of ours under other versions (tfext up to 0.2 installed as plain `2.3.5`, which
    Terraform would rank equal to `2.3.5+tfext`). Only files carrying our launcher's mark are removed, so
    a real provider put in the same mirror stays. Returns the files removed."""
    base = Path(mirror_dir) / PROVIDER_SOURCE
    removed = []
    for launcher in base.glob(f"*/*/{_EXECUTABLE_PREFIX}_v*") if base.is_dir() else ():
        version = launcher.parent.parent.name
        if version == keep or launcher.is_symlink() or not launcher.is_file():
            continue
        try:
            with launcher.open("rb") as f:
                head = f.read(512)
        except OSError:
            continue
        if head.startswith(b"#!/bin/sh\n") and LAUNCHER_MARK.encode() in head:
            launcher.unlink(missing_ok=True)
            removed.append(launcher)
            for directory in (launcher.parent, launcher.parent.parent):
                try:
                    directory.rmdir()  # only when empty
                except OSError:
                    break
    return removed


def _hcl_string(value: str) -> str:
    """`value` as a quoted HCL string literal (escapes quotes, backslashes and template sequences)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("${", "$${").replace("%{", "%%{") + '"'


def cli_config_text(mirror_dir: Path) -> str:
    """A Terraform CLI configuration that installs hashicorp/external from `mirror_dir`, others directly.

    Put it in a file named by `TF_CLI_CONFIG_FILE`. It replaces `~/.terraformrc` for that run, so copy
    any settings you need from there (credentials, plugin_cache_dir) into it.
    """
    path = _hcl_string(os.path.abspath(mirror_dir))
    source = _hcl_string(PROVIDER_SOURCE)
    return (
        "# hashicorp/external from tfext's offline mirror; every other provider from its registry.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {path}\n"
        f"    include = [{source}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{source}]\n"
        "  }\n"
        "}\n"
    )


def _missing_runtime_modules() -> list[str]:
    missing = []
    for name in _RUNTIME_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:  # a parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


def _write_text(path: Path, text: str) -> None:
    make_directories(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=".terraformrc-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as tmp:
            tmp.write(text)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@guarded("tfext install-provider")
def main(argv: list[str]) -> int:
    """`tfext install-provider DIR [--cli-config FILE]`: install the mirror and write the CLI config.

    `argv` holds the arguments after the command name. Returns the process exit code; errors are one
    line on stderr, never a traceback.
    """
    from tfext.errors import TfextError, safe_line

    parser = Parser(
        prog="tfext install-provider",
        description=(
            f"Install tfext's offline implementation of hashicorp/external {PROVIDER_VERSION} into a "
            "Terraform filesystem mirror, and write a CLI configuration that uses it."
        ),
    )
    parser.add_argument("dir", type=Path, help="the mirror directory (created if missing)")
    parser.add_argument(
        "--cli-config",
        type=Path,
        metavar="FILE",
        help="where to write the Terraform CLI configuration (default: DIR/terraformrc)",
    )
    args = parser.parse_args(argv)
    prog = parser.prog

    for given, what in ((args.dir, "DIR"), (args.cli_config, "--cli-config")):
        if given is not None:
            try:
                refuse_content_as_path(given, what)
            except TfextError as exc:
                say(prog, exc.render())
                return 2
    missing = _missing_runtime_modules()
    if missing:
        say(
            prog,
            f"the provider needs {', '.join(missing)}, which this Python ({_shown(sys.executable)}) can't "
            "import; install tfext[provider] into it first",
        )
        return 1
    try:
        mirror = install_provider(args.dir)
    except ProviderInstallError as exc:
        say(prog, str(exc))
        return 1
    config_file = Path(os.path.abspath(args.cli_config or mirror / "terraformrc"))
    try:
        _write_text(config_file, cli_config_text(mirror))
    except ProviderInstallError as exc:
        say(prog, str(exc).replace("the provider into", "the CLI configuration into"))
        return 1
    except OSError as exc:
        say(prog, f"cannot write the CLI configuration {_shown(config_file)}: {exc.strerror or exc}")
        return 1

    sys.stdout.write(
        safe_line(
            f"Installed hashicorp/external {PROVIDER_VERSION} (tfext offline implementation) into {mirror}\n"
            f"  provider: {provider_executable(mirror)}\n"
            f"  runs:     {os.path.abspath(sys.executable)}\n"
            f"Wrote the Terraform CLI configuration {config_file}\n"
            "Use it with:\n"
            f"  export TF_CLI_CONFIG_FILE={shlex.quote(str(config_file))}\n"
            f"Do not commit the .terraform.lock.hcl that `terraform init` writes with it: it pins "
            f"{PROVIDER_VERSION} and this machine's launcher checksum, not HashiCorp's release. Keep a lock "
            "file meant for the real registry out of such a working directory; to switch a directory "
            "between the two, see docs/provider.md (`terraform init -upgrade` after removing the lock file)."
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
