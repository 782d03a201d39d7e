"""What `tfext write-assets DIR` leaves behind: the files of members and nodes the input no longer holds.

A node removed from `nodes` (a member from `members`, a node from `kubelet_serving`) loses its
certificates in the next apply, but its files stay in the asset directory: `kube/nodes/worker-4/
kubelet-client.key` would lie there, a key to an identity no longer issued, and `node_certs_dir` would
still hand it to a user-provided flavor. write-assets names them on stderr (TFEXT-E096, never their
content) and, with `--prune`, removes them.

What counts as stale is narrow, so that nothing else is ever touched:
- only the files tfext's own layout writes in a member's or node's directory (`layout.NODE_LAYOUT`:
  `kube/nodes/<node>/kubelet-client.crt`, `.key`, `kubelet-serving.*`, `etcd/members/<member>/server.*`,
  `peer.*`), in a directory named as a node (`is_node_name`), as regular files: any other file, a
  symbolic link, a directory of another name is left alone and keeps its directory;
- only for a role whose members or nodes the input speaks for: a state (`terraform state pull`) for each
  module it holds, since a state has every member and node of its modules; outputs for each per-node map
  output they hold (`node_kubelet_client_cert_pem`, even empty): the tectonic example's outputs, which
  hold no such map, never make a node's files stale;
- a file is stale when its member or node has no certificate of that role in the input (a node that now
  brings a CSR still has its certificate, so its files are kept);
- everything is reached from DIR one component at a time, never through a link (O_NOFOLLOW), and a
  directory others can write to is refused (TFEXT-E065), as when writing.

After the files, `--prune` removes each member's or node's directory it left empty (never `kube/nodes`
itself, nor a directory that holds anything else).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from tfext.errors import Code, Problem, echo_path
from tfext.files import WriteError, open_directory
from tfext.nodes import is_node_name
from tfext.tools.layout import ENTRY, NODE_LAYOUT

MAX_ENTRIES = 10000  # entries looked at in one per-node directory (1000 nodes is the modules' limit)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def node_files() -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """(module, per-node role) => (its per-node directory under DIR, the files of one member or node):
    `("kube", "kubelet")` => `("kube/nodes", ("kubelet-client.crt", "kubelet-client.key"))`."""
    from tfext.tools.roles import PER_NODE

    out = {}
    for kind, roles in PER_NODE.items():
        for role, outputs in roles.items():
            templates = [NODE_LAYOUT[f"{kind}_certs_{output}"] for output in outputs]
            parent = templates[0].partition("/{name}/")[0]
            out[(kind, role)] = (parent, tuple(t.partition("/{name}/")[2] for t in templates))
    return out


def judged_roles(document: object, outputs: dict[str, str]) -> set[tuple[str, str]]:
    """The (module, per-node role) pairs whose members and nodes the input speaks for: every per-node
    role of each module a state holds, and each per-node map output that outputs hold (flat or in a
    module object, empty or not). `outputs` are write-assets' (layout name => text)."""
    from tfext.tools.roles import PER_NODE, is_state

    if isinstance(document, dict) and is_state(document):
        kinds = {kind for kind in PER_NODE if any(name.startswith(f"{kind}_certs_") for name in outputs)}
        held = {(kind, role) for kind in kinds for role in PER_NODE[kind]}
        state_outputs = document.get("outputs")
        return held | _maps_held(state_outputs if isinstance(state_outputs, dict) else {})
    return _maps_held(document if isinstance(document, dict) else {})


def _maps_held(document: dict) -> set[tuple[str, str]]:
    """Per-node map outputs in `terraform output -json` (or one output's value): flat
    (`<prefix>_node_kubelet_client_cert_pem`) or in module objects, at any depth the tools read."""
    from tfext.tools.roles import PER_NODE, module_objects

    wrapped = bool(document) and all(isinstance(v, dict) and "value" in v for v in document.values())
    values = {k: v["value"] for k, v in document.items()} if wrapped else document
    held = set()
    for name, value in values.items():
        if isinstance(value, dict):
            for kind, roles in PER_NODE.items():
                for role, (cert, _) in roles.items():
                    if name == cert or name.endswith("_" + cert):
                        held.add((kind, role))
    for _, kind, value in module_objects(values):
        held |= {
            (kind, r) for r, (cert, _) in PER_NODE.get(kind, {}).items() if isinstance(value.get(cert), dict)
        }
    return held


def present(outputs: dict[str, str]) -> set[tuple[str, str, str]]:
    """(module, role, node) of every member's and node's certificate write-assets writes."""
    from tfext.tools.roles import PER_NODE

    by_output = {
        f"{kind}_certs_{cert}": (kind, role)
        for kind, roles in PER_NODE.items()
        for role, (cert, _) in roles.items()
    }
    out = set()
    for name, text in outputs.items():
        entry = ENTRY.fullmatch(name)
        if entry and text and entry["output"] in by_output:
            out.add((*by_output[entry["output"]], entry["name"]))
    return out


@dataclass
class Stale:
    """The stale files found under DIR (paths relative to it), and what could not be looked at."""

    files: list[str] = field(default_factory=list)
    unlooked: list[str] = field(default_factory=list)  # per-node directories of more than MAX_ENTRIES


def find(directory: Path, judged: set[tuple[str, str]], have: set[tuple[str, str, str]]) -> Stale:
    """The files of tfext's layout, under DIR's per-node directories of the `judged` roles, whose member
    or node has no certificate of that role in `have` (see the module docstring). Reads, never writes."""
    found = Stale()
    try:
        root = os.open(os.path.abspath(directory), _DIR_FLAGS)
    except OSError:
        return found  # no DIR (or not one): nothing left in it
    try:
        layout = node_files()
        parents: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
        for kind, role in sorted(judged):
            parent, names = layout[(kind, role)]
            parents.setdefault(parent, []).append((kind, role, names))
        for parent, roles in sorted(parents.items()):
            for node, node_fd in _node_dirs(root, parent, found):
                try:
                    for kind, role, names in roles:
                        if (kind, role, node) in have:
                            continue
                        found.files += [f"{parent}/{node}/{n}" for n in names if _is_regular(node_fd, n)]
                finally:
                    os.close(node_fd)
    finally:
        os.close(root)
    found.files.sort()
    return found


def _open_below(root: int, relative: str) -> int | None:
    """A descriptor of `relative` under `root`, each component opened without following a link; None
    when one is missing, a link or not a directory."""
    fd = os.dup(root)
    for part in relative.split("/"):
        try:
            below = os.open(part, _DIR_FLAGS, dir_fd=fd)
        except OSError:
            os.close(fd)
            return None
        os.close(fd)
        fd = below
    return fd


def _node_dirs(root: int, parent: str, found: Stale):
    """(node, descriptor) of each directory under `parent` named as a member or node (links and other
    names skipped), at most MAX_ENTRIES entries looked at."""

    fd = _open_below(root, parent)
    if fd is None:
        return
    try:
        names = []
        with os.scandir(fd) as entries:
            for i, entry in enumerate(entries):
                if i >= MAX_ENTRIES:
                    found.unlooked.append(parent)
                    break
                if is_node_name(entry.name) and entry.is_dir(follow_symlinks=False):
                    names.append(entry.name)
        for name in sorted(names):
            try:
                node_fd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                continue  # swapped for a link, or gone, meanwhile: not ours to look into
            yield name, node_fd
    finally:
        os.close(fd)


def _is_regular(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


@dataclass
class Pruned:
    removed: list[str] = field(default_factory=list)  # files, then emptied directories (ending in "/")
    problems: list[Problem] = field(default_factory=list)


def prune(directory: Path, files: list[str]) -> Pruned:
    """Remove each stale file (checked again: a regular file, every directory on the way reached without
    a link and writable by its owner alone), then each member's or node's directory left empty."""
    done = Pruned()
    directory = Path(os.path.abspath(directory))
    by_node: dict[str, list[str]] = {}
    for relative in files:
        node_dir, _, name = relative.rpartition("/")
        by_node.setdefault(node_dir, []).append(name)
    try:
        root = open_directory(None, str(directory), echo_path(directory), create=False)
    except WriteError as exc:
        done.problems += exc.problems
        return done
    try:
        for node_dir, names in sorted(by_node.items()):
            _prune_node(root, directory, node_dir, names, done)
    finally:
        os.close(root)
    return done


def _prune_node(root: int, directory: Path, node_dir: str, names: list[str], done: Pruned) -> None:
    parts = node_dir.split("/")
    node = parts[-1]
    fds = [root]
    try:
        for i, part in enumerate(parts):
            fds.append(
                open_directory(fds[-1], part, echo_path(directory.joinpath(*parts[: i + 1])), create=False)
            )
    except WriteError as exc:
        done.problems += exc.problems
        for fd in fds[1:]:
            os.close(fd)
        return
    node_fd, parent_fd = fds[-1], fds[-2]
    try:
        for name in sorted(names):
            shown = echo_path(directory / node_dir / name)
            if not _is_regular(node_fd, name):
                continue  # gone, or replaced by something tfext never writes
            try:
                os.unlink(name, dir_fd=node_fd)
            except OSError as exc:
                done.problems.append(
                    Problem(Code.STALE_FILES, shown, f"could not be removed ({exc.strerror}); it is left")
                )
                continue
            done.removed.append(f"{node_dir}/{name}")
        with contextlib.suppress(OSError):
            os.fsync(node_fd)  # make the removals durable (best effort)
        if not os.listdir(node_fd):
            try:
                os.rmdir(node, dir_fd=parent_fd)
                done.removed.append(f"{node_dir}/")
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                    done.problems.append(
                        Problem(
                            Code.STALE_FILES,
                            echo_path(directory / node_dir),
                            f"is empty, and could not be removed ({exc.strerror})",
                        )
                    )
    finally:
        for fd in fds[1:]:
            os.close(fd)
