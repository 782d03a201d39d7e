"""`tfext write-assets DIR`: the example's outputs as files, in Tectonic's `generated/tls/` layout.

Reads `terraform output -json` or `terraform state pull` of any root module calling the tfext modules on
stdin: each file's content is found by its role (`tfext.tools.roles`), whatever the outputs are called, or
with no outputs at all (keys then come from the seals, or from the user-provided key files the state
names). A root module that keeps its keys in a key directory and out of its outputs (terraform/examples/
key-dir) gives each module's `key_files` output instead: each key is read from its file (a relative path
from the directory tfext runs in, the root module's), and from `terraform state pull` from `--key-dir`.
Keys are written with mode 0600, certificates 0644, each file
atomically (a temporary file in the same directory, created 0600, fsynced, then renamed), so an
interrupted run never leaves a half-written file and a key is never readable by others, not even for a
moment. Which file each certificate and key goes to is `tfext.tools.layout`'s table (`LAYOUT`, Tectonic's
file names, which the user-provided example reads; the kube module's own clients; and each member's and
node's own directory, `etcd/members/<member>/` and `kube/nodes/<node>/`: the `member_certs_dir` and
`node_certs_dir` the user-provided flavors read, so the directory can be fed back to them). The files of a
member or node the
input no longer holds (a node removed from `nodes`) are named on stderr (TFEXT-E096) and, with `--prune`,
removed (`tfext.tools.stale`: only files of that layout, only under DIR, never through a link).

Nothing is ever written outside DIR:
- every directory is opened by descriptor, one component at a time, with O_NOFOLLOW: a symbolic link
  (`DIR/etcd -> elsewhere`) is refused, never followed, and so is a directory others can write to (they
  could swap a key file) - DIR itself too;
- every value is checked against its file's role before anything is written: a `.key` file holds exactly
  one private key, a `.crt` file certificates only (a key given as a certificate is refused, never written
  0644);
- every target is checked first (a directory or anything but a regular file in its place is refused), then
  every temporary file is written, then the renames: if one fails, the files already replaced are rolled
  back to their old content, and the message names the failing file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from tfext.errors import Code, TfextError, echo_path, safe_text
from tfext.files import (
    DIRECTORY_MODE,
    WriteError,
    open_directory,
    read_regular_file,
    unlink,
    write_temporary,
)
from tfext.tools.cli import Parser, guarded, read_stdin, refuse_content_as_path, say
from tfext.tools.layout import (  # noqa: F401 - ENTRY, LAYOUT, NODE_LAYOUT, entry_name: read from here too
    ENTRY,
    FILES,
    LAYOUT,
    NODE_LAYOUT,
    entry_name,
    in_order,
    layout_file,
    role_names,
)


def outputs_by_role(document: object, key_dir: str | None = None) -> tuple[dict[str, str], list[str]]:
    """Layout name => PEM text for every certificate and key found by role in `document` (a state, or
    `terraform output -json`), and the problems that stop the run (each names a role, never a value):
    among them every certificate whose key is missing or is not its own (`pair_problems`). Keys the input
    names as files (a module's `key_files` output, a state's key-directory records read from `key_dir`)
    are read from them."""
    from tfext.tools import roles
    from tfext.tools.sources import Reading

    items = roles.locate(document, key_dir)
    reading = Reading()
    roles.parse(items, reading)
    outputs: dict[str, str] = {}
    for item in items:
        cert_name, key_name = role_names(item.kind, item.slot)
        outputs[cert_name] = item.cert_pem
        key = roles.key_text(item, reading) if key_name else None
        if key:
            outputs[key_name] = key
    elsewhere = roles.key_dir_problem(items)
    problems = [p.render() for p in reading.problems + ([elsewhere] if elsewhere else [])]
    problems += [b.problem.render() for b in reading.bad]
    several = sorted({i.role for i in items if i.name != i.role})
    if several:
        instances = sorted({i.instance for i in items if i.name != i.role})
        problems.append(
            f"{Code.AMBIGUOUS_ROLES.tag} input: {', '.join(several)} are held by several modules "
            f"({', '.join(instances)}); one asset directory is one cluster's: pipe one module's outputs "
            "(`terraform output -json <name>`) per directory"
        )
    return outputs, problems + (pair_problems(items, outputs) if not problems else [])


def pair_problems(items: list, outputs: dict[str, str]) -> list[str]:
    """Each certificate the layout writes with a key file, whose key is missing (E068) or is not the
    private key of the first certificate of its file (E030, or the code of a key that cannot be read):
    written, the pair would fail where it is used, or leave an older key beside a new certificate. A CA
    read from outputs may come alone (a module given its CA without the key), a leaf never."""
    from tfext.tools.pairs import HEAL, judge

    problems = []
    for item in items:
        cert_name, key_name = role_names(item.kind, item.slot)
        if key_name is None or not outputs.get(cert_name):
            continue
        cert_file, key_file = layout_file(cert_name), layout_file(key_name)
        key = outputs.get(key_name)
        if not key and (item.key_path or item.key_elsewhere or (item.slot == "ca" and not item.heal)):
            # an unreadable key file, or a key directory not given, is reported already; a CSR's key is
            # the node's own; a given CA may come without its key
            continue
        verdict = judge(outputs[cert_name], key)
        if verdict.whole:
            continue
        if item.key_source == "file":
            from tfext.tools.keyfiles import RESTORE, shown

            remedy = f"its key file ({shown(item.key_path)}) is not the certificate's: {RESTORE}"
        elif item.key_path:
            remedy = "give the key file that belongs to the certificate (the user-provided module checks it)"
        elif verdict.code is Code.KEY_MISSING and not (item.heal or item.key_expected):
            remedy = "pipe the outputs that hold its key too (`terraform output -json` holds every output)"
        else:
            remedy = HEAL
        if verdict.code is Code.KEY_MISSING:
            detail = f"{cert_file} would be written without {key_file}: the input holds no key for it"
        else:
            detail = f"{key_file}: {verdict.detail} ({cert_file})"
        problems.append(f"{verdict.code.tag} {item.name}: {detail}; {remedy}")
    return problems


def fingerprint_text(cert) -> str:
    """A certificate's SHA-256 fingerprint in four groups of 16 hex digits (a message shows it whole;
    one run of 64 digits would be withheld as key-shaped)."""
    from cryptography.hazmat.primitives import hashes

    digest = cert.fingerprint(hashes.SHA256()).hex()
    return " ".join(digest[i : i + 16] for i in range(0, len(digest), 16))


def _cas(text: str) -> list:
    from tfext.tools.sources import load_certificate, pem_blocks

    out = []
    with contextlib.suppress(TfextError):
        for block in pem_blocks(text.encode("ascii", "replace")):
            if block.is_certificate:
                with contextlib.suppress(TfextError):
                    out.append(load_certificate(block.data))
    return out


def _named(certs: list) -> str:
    from tfext.tools.sources import common_name

    return "; ".join(f"{safe_text(common_name(c.subject))} (SHA-256 {fingerprint_text(c)})" for c in certs)


def replaced_cas(outputs: dict[str, str], directory: Path) -> list[str]:
    """E067 for each CA file of DIR that holds a CA none of whose keys is in the CA file about to be
    written: a new CA, which would replace a deployed one (and everything it signed) unnoticed. A CA
    rotation's bundle holds the deployed CA beside the new one, and `finish` writes a CA the deployed
    bundle holds, so neither is a replacement. A file that holds no certificate is no deployed CA."""
    from tfext.tools.roles import CONTRACT
    from tfext.tools.sources import MAX_FILE_BYTES, spki_sha256

    problems = []
    for name in (role_names(kind, "ca")[0] for kind in CONTRACT):  # ca.crt, etcd-client-ca.crt, ...
        text = outputs.get(name)
        filename = FILES[name]
        path = Path(directory) / filename
        if not text or not os.path.lexists(path):
            continue
        try:
            deployed = _cas(read_regular_file(path, MAX_FILE_BYTES, echo_path(path)).decode("ascii"))
        except (TfextError, UnicodeDecodeError):
            continue
        incoming = _cas(text)
        if not deployed or not incoming:
            continue
        keys = {spki_sha256(c.public_key()) for c in incoming}
        if any(spki_sha256(c.public_key()) in keys for c in deployed):
            continue
        problems.append(
            f"{Code.CA_REPLACED.tag} {echo_path(path)}: holds the CA {_named(deployed)}, and the input's is "
            f"another CA, {_named(incoming)}: writing it would replace the deployed CA, and every "
            "certificate it signed would stop being trusted. If an apply was stopped or killed and the "
            "state was emptied or torn, restore the state from its backup (terraform.tfstate.backup, or "
            "the backend's previous version) and apply again; if this is a new CA on purpose, run again "
            "with --replace-ca"
        )
    return problems


def is_secret(filename: str) -> bool:
    return filename.endswith(".key")


def open_target(directory: Path) -> int:
    """A descriptor of DIR, its missing parents created 0755. DIR itself must not be a symbolic link."""
    directory = Path(os.path.abspath(directory))
    missing = []
    probe = directory
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing[1:]):  # DIR's missing parents; DIR itself is opened (and made) below
        try:
            os.mkdir(path, DIRECTORY_MODE)
            os.chmod(path, DIRECTORY_MODE)
        except FileExistsError:
            pass
        except OSError as exc:
            raise WriteError.of(Code.WRITE_FAILED, echo_path(path), exc.strerror or "cannot create") from None
    parent_fd = open_directory(None, str(directory.parent), echo_path(directory.parent), create=False)
    try:
        return open_directory(parent_fd, directory.name, echo_path(directory), create=True)
    finally:
        os.close(parent_fd)


@dataclass
class _Pending:
    filename: str  # relative to DIR, e.g. "etcd/server.key"
    dir_fd: int
    name: str  # within its directory
    temporary: str
    backup: str | None = None  # a hard link to the old file, kept until every rename succeeded
    replaced: bool = False


def _check_target(dir_fd: int, name: str, shown: str) -> None:
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise WriteError.of(Code.WRITE_FAILED, shown, f"is {kind}; not replaced")


def write_assets(outputs: dict[str, str], directory: Path) -> list[Path]:
    """Write every known, non-empty output; returns the files written.

    Every target is checked, then every temporary file written, before the first rename; if a rename
    fails, the files replaced before it get their old content back. Raises WriteError (naming the file)
    or OSError; either way the old files are as they were.
    """
    directory = Path(directory)
    wanted = in_order(outputs)
    root_fd = open_target(directory)
    dir_fds: dict[str, int] = {"": root_fd}
    pending: list[_Pending] = []
    try:
        for _, filename in wanted:  # every directory and every target first
            dir_fd = _subdirectory(dir_fds, os.path.dirname(filename), directory)
            _check_target(dir_fd, os.path.basename(filename), echo_path(directory / filename))
        for name, filename in wanted:
            dir_fd = dir_fds[os.path.dirname(filename)]
            base = os.path.basename(filename)
            mode = 0o600 if is_secret(filename) else 0o644
            temporary = write_temporary(dir_fd, base, outputs[name], mode)
            pending.append(_Pending(filename, dir_fd, base, temporary))
        for item in pending:
            _replace(item, directory)
        for fd in dict.fromkeys(dir_fds.values()):
            with contextlib.suppress(OSError):
                os.fsync(fd)  # make the renames durable (best effort)
    except BaseException:
        _roll_back(pending)
        raise
    finally:
        for item in pending:
            if item.backup:
                unlink(item.backup, item.dir_fd)
            if not item.replaced:
                unlink(item.temporary, item.dir_fd)
        for fd in dict.fromkeys(dir_fds.values()):
            os.close(fd)
    return [directory / item.filename for item in pending]


def _subdirectory(dir_fds: dict[str, int], sub: str, directory: Path) -> int:
    """The descriptor of `sub` (`kube/nodes/w1`) under DIR, each component opened (or made) from its
    parent's descriptor in turn, so that no component is ever followed as a link; kept in `dir_fds`."""
    if sub not in dir_fds:
        parent = _subdirectory(dir_fds, os.path.dirname(sub), directory)
        dir_fds[sub] = open_directory(parent, os.path.basename(sub), echo_path(directory / sub), create=True)
    return dir_fds[sub]


def _replace(item: _Pending, directory: Path) -> None:
    shown = echo_path(directory / item.filename)
    backup = f".{item.name}.{secrets.token_hex(6)}.old"
    try:
        os.link(item.name, backup, src_dir_fd=item.dir_fd, dst_dir_fd=item.dir_fd, follow_symlinks=False)
        item.backup = backup
    except FileNotFoundError:
        pass  # a new file: rolled back by removing it
    except OSError as exc:
        raise WriteError.of(Code.WRITE_FAILED, shown, f"cannot keep the old file ({exc.strerror})") from None
    try:
        os.replace(item.temporary, item.name, src_dir_fd=item.dir_fd, dst_dir_fd=item.dir_fd)
    except OSError as exc:
        why = f"cannot be replaced ({exc.strerror}); every file written before it was put back"
        raise WriteError.of(Code.WRITE_FAILED, shown, why) from None
    item.replaced = True


def _roll_back(pending: list[_Pending]) -> None:
    for item in pending:
        if not item.replaced:
            continue
        try:
            if item.backup:
                os.replace(item.backup, item.name, src_dir_fd=item.dir_fd, dst_dir_fd=item.dir_fd)
                item.backup = None
            else:
                os.unlink(item.name, dir_fd=item.dir_fd)
        except OSError:
            pass  # best effort; the message names the file that failed


def _blocks(value: str) -> list[str]:
    from tfext.tools.sources import pem_blocks

    return [b.label for b in pem_blocks(value.encode("ascii"))]


def check_outputs(outputs: dict[str, str]) -> list[str]:
    """Problems that must stop the run before anything is written (each names an output, never a value):
    a value that is not PEM text, or whose content does not fit its file's role."""
    problems = []
    for name, filename in in_order(outputs):
        value = outputs[name]
        if not value.isascii() or "-----BEGIN " not in value:
            problems.append(f"{Code.NOT_PEM.tag} output {name} is not PEM text")
            continue
        labels = _blocks(value)
        keys = [label for label in labels if label.endswith("PRIVATE KEY")]
        if is_secret(filename):
            if len(keys) != 1 or len(labels) != 1:
                problems.append(
                    f"{Code.NOT_PEM.tag} output {name} ({filename}) must hold exactly one private key, "
                    f"it holds {len(labels)} PEM block(s) of which {len(keys)} private key(s)"
                )
        elif keys or "PRIVATE KEY" in value or not labels or set(labels) - {"CERTIFICATE"}:
            what = "a private key" if keys or "PRIVATE KEY" in value else "other than certificates"
            problems.append(
                f"{Code.NOT_PEM.tag} output {name} ({filename}) holds {what}; a .crt file holds only "
                "CERTIFICATE blocks and is written 0644"
            )
    return problems


@guarded("tfext write-assets")
def main(argv: list[str]) -> int:
    parser = Parser(
        prog="tfext write-assets",
        description="Write the certificates and keys of `terraform output -json` or `terraform state pull` "
        "(stdin) of a root module calling the tfext modules as files in Tectonic's generated/tls layout, "
        "each etcd member's and node's own under etcd/members/<member>/ and kube/nodes/<node>/: "
        "keys 0600, certificates 0644, each file written atomically. Where the outputs hold no key, each is "
        "read from the file the module's key_files output names (relative paths from the directory tfext "
        "runs in: the root module's); from a state, key-directory records need --key-dir. The files of "
        "members and nodes the input no longer holds are named on stderr, and removed with --prune.",
    )
    parser.add_argument("dir", type=Path, help="asset directory, e.g. generated/tls")
    parser.add_argument(
        "--replace-ca",
        action="store_true",
        help="write a CA that is not the one DIR holds (a new CA on purpose); without it, that is refused",
    )
    parser.add_argument(
        "--key-dir",
        metavar="KEY_DIR",
        help="the root module's key_dir, where a `terraform state pull` in key-directory mode has its keys "
        "(`terraform output -json` names its key files itself, in the key_files outputs)",
    )
    parser.add_argument(
        "--prune",
        action="store_true",
        help="remove the files of members and nodes the input no longer holds (etcd/members/<member>/*, "
        "kube/nodes/<node>/* as write-assets writes them, never anything else), and their directories "
        "left empty; without it they are only named on stderr",
    )
    args = parser.parse_args(argv)
    prog = parser.prog
    refuse_content_as_path(args.dir, "DIR")
    if args.key_dir is not None:
        refuse_content_as_path(args.key_dir, "--key-dir")
    from tfext.tools.sources import InputError, load_json

    try:
        raw = load_json(read_stdin(), "stdin")
    except InputError as exc:
        say(prog, exc.render())
        return 2
    if not isinstance(raw, dict):
        say(prog, f"{Code.NOT_AN_OBJECT.tag} stdin: expected the JSON object of `terraform output -json`")
        return 2
    from tfext.tools.roles import nothing_found

    outputs, problems = outputs_by_role(raw, args.key_dir)
    if not problems and not in_order(outputs):
        say(prog, nothing_found("stdin").render())
        return 2
    problems = check_outputs(outputs) or problems
    if not problems and not args.replace_ca:
        problems = replaced_cas(outputs, args.dir)
    if problems:
        for problem in problems:
            say(prog, f"{problem}; nothing was written")
        return 2
    try:
        written = write_assets(outputs, args.dir)
    except WriteError as exc:
        say(prog, exc.render())
        return 1
    except OSError as exc:
        say(prog, f"cannot write under {echo_path(args.dir)}: {exc.strerror}")
        return 1
    for path in written:
        sys.stdout.write(safe_text(f"{oct(path.stat().st_mode & 0o777)[2:]}  {echo_path(path)}") + "\n")
    return left_behind(prog, raw, outputs, args.dir, args.prune)


def left_behind(prog: str, document: object, outputs: dict[str, str], directory: Path, prune: bool) -> int:
    """After a write: name on stderr the files of members and nodes the input no longer holds, or remove
    them (`--prune`); the exit status (1 when one could not be removed)."""
    from tfext.tools import stale

    judged = stale.judged_roles(document, outputs)
    found = stale.find(directory, judged, stale.present(outputs)) if judged else stale.Stale()
    for parent in found.unlooked:
        say(
            prog,
            f"{Code.STALE_FILES.tag} {echo_path(directory / parent)}: more than {stale.MAX_ENTRIES} entries; "
            "only the first were looked at for files of members or nodes the input no longer holds",
        )
    if not found.files:
        return 0
    count = f"{len(found.files)} file{'s' if len(found.files) > 1 else ''}"
    if not prune:
        listed = "\n".join(f"  {echo_path(directory / f)}" for f in found.files)
        say(
            prog,
            f"{Code.STALE_FILES.tag} {echo_path(directory)}: {count} of members or nodes the input no longer "
            f"holds, left as they were:\n{listed}",
        )
        say(
            prog,
            "run it again with --prune to remove them and the member or node directories they leave empty "
            "(nothing else is removed)",
        )
        return 0
    done = stale.prune(directory, found.files)
    if done.removed:
        files = [r for r in done.removed if not r.endswith("/")]
        emptied = len(done.removed) - len(files)
        also = f", and {emptied} director{'ies' if emptied > 1 else 'y'} left empty" if emptied else ""
        listed = "\n".join(
            f"  {echo_path(directory / r)}{'/' if r.endswith('/') else ''}" for r in done.removed
        )
        say(
            prog,
            f"removed {len(files)} file{'s' if len(files) != 1 else ''} of members or nodes the input no "
            f"longer holds{also}:\n{listed}",
        )
    for problem in done.problems:
        say(prog, problem.render())
    return 1 if done.problems else 0
