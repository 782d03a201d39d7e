"""`tfext topology [DIR|-]`: Tectonic's CA topology, drawn from the certificates actually generated.

Which CA signs what is read from the certificates themselves (signature checks, not assumptions), so a
user-provided set with its own ingress CA draws a third CA, and the Tectonic example, whose identity and
ingress CAs are the kube CA, draws two. Which daemon flag consumes each file comes from `USES`, the
seed's topology tables (with the real etcd flags: docs/tectonic-reference.md section 4).

Input: a directory in the `tfext write-assets` layout, or on stdin `terraform output -json` or
`terraform state pull` of any root module calling the tfext modules (certificates found by role). Only
certificates are read; key files are noted by name, never opened. Output: Mermaid (default) or Graphviz
DOT. It carries no serials or dates, so the drawing of a configuration is stable across re-issues.

During a CA rotation a CA file holds two CAs, the signing CA first (docs/ca-rotation.md): both are drawn,
labelled signing and incoming (the other one starts later) or outgoing, and each leaf hangs from the one
that really signed it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tfext import certinfo
from tfext.errors import Code, Problem, echo_path, safe_text
from tfext.tools.cli import Parser, guarded, read_stdin, refuse_content_as_path, say
from tfext.tools.layout import NODE_LAYOUT, node_role, role_files
from tfext.tools.roles import nothing_found
from tfext.tools.sources import (
    MAX_FILES,
    Found,
    InputError,
    Issuers,
    Reading,
    common_name,
    load_json,
)


@dataclass(frozen=True)
class Use:
    """One place a file is configured: the consumer and its flag, environment variable or config key."""

    consumer: str
    setting: str


@dataclass(frozen=True)
class Asset:
    """A certificate file of the layout, its key file (if it has one) and who uses the pair."""

    cert_file: str
    key_file: str | None
    role: str
    module: str
    uses: tuple[Use, ...]


def _uses(consumer: str, *settings: str) -> tuple[Use, ...]:
    return tuple(Use(consumer, s) for s in settings)


APISERVER, ETCD, KUBELET = "kube-apiserver", "etcd", "kubelet"
CONTROLLER, KUBECONFIG = "kube-controller-manager", "kubeconfig (kubelets, admin)"
ADMIN_KUBECONFIG = "kubeconfig (admin)"
IDENTITY, CONSOLE, INGRESS = "Tectonic Identity", "Tectonic Console", "Tectonic Ingress controller"

# Every file of the layout (tfext.tools.layout.LAYOUT), in its order, and who consumes it.
USES: tuple[Asset, ...] = (
    Asset(
        "ca.crt",
        "ca.key",
        "kube CA",
        "kube",
        _uses(APISERVER, "--client-ca-file", "--tls-ca-file")
        + _uses(KUBELET, "--client-ca-file")
        + _uses(CONTROLLER, "--root-ca-file")
        + _uses(KUBECONFIG, "certificate-authority-data"),
    ),
    Asset(
        "apiserver.crt",
        "apiserver.key",
        "API server",
        "kube",
        # Tectonic also passed it as --kubelet-client-certificate; the kube module's own
        # apiserver-kubelet-client is that identity now (docs/per-node.md).
        _uses(APISERVER, "--tls-cert-file / --tls-private-key-file"),
    ),
    Asset(
        "kubelet.crt",
        "kubelet.key",
        "kubelet and admin client",
        "kube",
        _uses(KUBECONFIG, "client-certificate-data / client-key-data"),
    ),
    Asset(
        "apiserver-kubelet-client.crt",
        "apiserver-kubelet-client.key",
        "API server's kubelet client",
        "kube",
        _uses(APISERVER, "--kubelet-client-certificate / --kubelet-client-key"),
    ),
    Asset(
        "admin.crt",
        "admin.key",
        "admin client",
        "kube",
        _uses(ADMIN_KUBECONFIG, "client-certificate-data / client-key-data"),
    ),
    Asset(
        "etcd-client-ca.crt",
        None,
        "etcd CA",
        "etcd",
        _uses(ETCD, "--trusted-ca-file", "--peer-trusted-ca-file") + _uses(APISERVER, "--etcd-cafile"),
    ),
    Asset(
        "etcd-client.crt",
        "etcd-client.key",
        "etcd client (API server)",
        "etcd",
        _uses(APISERVER, "--etcd-certfile / --etcd-keyfile"),
    ),
    Asset(
        "etcd/server.crt", "etcd/server.key", "etcd server", "etcd", _uses(ETCD, "--cert-file / --key-file")
    ),
    Asset(
        "etcd/peer.crt",
        "etcd/peer.key",
        "etcd peer",
        "etcd",
        _uses(ETCD, "--peer-cert-file / --peer-key-file"),
    ),
    Asset("identity-ca.crt", None, "identity CA", "identity", _uses(IDENTITY, "grpc.tlsClientCA")),
    Asset(
        "identity-server.crt",
        "identity-server.key",
        "identity gRPC server",
        "identity",
        _uses(IDENTITY, "grpc.tlsCert / grpc.tlsKey"),
    ),
    Asset(
        "identity-client.crt",
        "identity-client.key",
        "console gRPC client",
        "identity",
        _uses(CONSOLE, "BRIDGE_DEX_CLIENT_CERT_FILE / BRIDGE_DEX_CLIENT_KEY_FILE"),
    ),
    Asset(
        "ingress-ca.crt",
        None,
        "ingress CA",
        "ingress",
        _uses(CONSOLE, "BRIDGE_CA_FILE") + _uses(APISERVER, "--oidc-ca-file"),
    ),
    Asset(
        "ingress.crt",
        "ingress.key",
        "ingress server",
        "ingress",
        _uses(INGRESS, "--default-ssl-certificate"),
    ),
)
# Each member's and node's own certificate (`tfext.tools.roles.PER_NODE`; its files are
# tfext.tools.layout.NODE_LAYOUT's): what it is, and who consumes it on that member or node.
NODE_USES: dict[tuple[str, str], tuple[str, tuple[Use, ...]]] = {
    ("kube", "kubelet"): ("kubelet client", _uses(KUBELET, "kubeconfig client-certificate / client-key")),
    ("kube", "serving"): ("kubelet serving", _uses(KUBELET, "--tls-cert-file / --tls-private-key-file")),
    ("etcd", "server"): ("etcd member server", _uses(ETCD, "--cert-file / --key-file")),
    ("etcd", "peer"): ("etcd member peer", _uses(ETCD, "--peer-cert-file / --peer-key-file")),
}
MODULE_TITLES = {m: f"modules/tls/{m}" for m in ("etcd", "kube", "identity", "ingress")}
CONSUMERS = (ETCD, APISERVER, KUBELET, CONTROLLER, KUBECONFIG, ADMIN_KUBECONFIG, IDENTITY, CONSOLE, INGRESS)


def node_asset(cert_file: str) -> Asset | None:
    """The Asset of one member's or node's certificate file (`kube/nodes/w1/kubelet-client.crt`)."""

    found = node_role(cert_file)
    if found is None:
        return None
    kind, slot = found
    role, _, node = slot.partition(":")
    what, uses = NODE_USES[(kind, role)]
    return Asset(cert_file, role_files(kind, slot)[1], f"{what} {node}", kind, uses)


def assets_of(cert_files: object) -> list[Asset]:
    """The assets of these certificate files: the layout's (in USES order), then each member's and node's
    (by file name)."""
    files = set(cert_files)
    static = [asset for asset in USES if asset.cert_file in files]
    per_node = [node_asset(f) for f in sorted(files - {a.cert_file for a in USES})]
    return static + [asset for asset in per_node if asset is not None]


# --- the graph ------------------------------------------------------------------------------------------


@dataclass
class CertNode:
    """A distinct certificate: a CA (possibly held in several files) or a leaf with its key file."""

    id: str
    cert: x509.Certificate
    module: str
    assets: list[Asset] = field(default_factory=list)
    has_key: dict[str, bool] = field(default_factory=dict)  # cert file => its key file is present
    part: str = ""  # in a CA bundle of a rotation: "signing", "incoming" or "outgoing"

    @property
    def is_ca(self) -> bool:
        return certinfo.is_ca(self.cert)


@dataclass
class Graph:
    """Nodes by module, who signed whom, and which consumer uses which node through which settings."""

    nodes: list[CertNode]
    signs: list[tuple[str, str]]  # (issuer node id, node id)
    unknown_issuers: dict[str, str]  # node id of a missing issuer => its subject
    uses: dict[tuple[str, str], list[str]]  # (node id, consumer) => settings

    def modules(self) -> Iterator[tuple[str, str, list[CertNode]]]:
        """(module, title, its nodes) of each module that has nodes, in MODULE_TITLES' order."""
        for module, title in MODULE_TITLES.items():
            members = [n for n in self.nodes if n.module == module]
            if members:
                yield module, title, members

    def consumers(self) -> list[str]:
        """The consumers that use a node, in CONSUMERS' order."""
        return [c for c in CONSUMERS if any(key[1] == c for key in self.uses)]

    def used_by(self) -> Iterator[tuple[CertNode, str, list[str]]]:
        """(node, consumer, settings) of each use: a leaf a consumer presents, or a CA it trusts."""
        by_id = {n.id: n for n in self.nodes}
        for (node_id, consumer), settings in self.uses.items():
            yield by_id[node_id], consumer, settings


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def is_ca_file(asset: Asset) -> bool:
    """ca.crt, etcd-client-ca.crt, identity-ca.crt, ingress-ca.crt: may hold the two CAs of a rotation."""
    return asset.role.endswith(" CA")


def _parts(cas: list[x509.Certificate]) -> list[str]:
    """The part of each CA of a file: the first signs; a second one is incoming if it starts later."""
    if len(cas) < 2:  # noqa: PLR2004 - a bundle is two CAs
        return [""] * len(cas)
    later = cas[1].not_valid_before_utc > cas[0].not_valid_before_utc
    return ["signing", "incoming" if later else "outgoing"]


def build(certs: dict[str, x509.Certificate | list[x509.Certificate]], keys: set[str]) -> Graph:
    """The graph of the files found: `certs` by layout file name (a CA file may hold the two CAs of a
    rotation, signing CA first), `keys` the key files present."""
    nodes: dict[bytes, CertNode] = {}
    ids: set[str] = set()
    for asset in assets_of(certs):
        held = certs[asset.cert_file]
        held = held if isinstance(held, list) else [held]
        for cert, part in zip(held, _parts(held), strict=True):
            fingerprint = cert.fingerprint(hashes.SHA256())
            node = nodes.get(fingerprint)
            if node is None:
                node_id = "c_" + _ident(asset.cert_file.removesuffix(".crt"))
                node_id += f"_{part}" if part and part != "signing" else ""
                node_id = _unique_id(node_id, ids)
                node = nodes[fingerprint] = CertNode(node_id, cert, asset.module, part=part)
            node.assets.append(asset)
            node.has_key[asset.cert_file] = (
                asset.key_file in keys if asset.key_file and node.part in ("", "signing") else False
            )
    ordered = list(nodes.values())
    signs, unknown = [], {}
    found = {node.id: Found(node.id, node.cert) for node in ordered}
    issuers = Issuers(found.values())
    by_id = {node.id: node for node in ordered}
    for node in ordered:
        if issuers.is_self_signed(found[node.id]):
            continue
        parent = issuers.issuer_of(found[node.id])
        issuer = by_id[parent.name] if parent else None
        if issuer:
            signs.append((issuer.id, node.id))
        else:
            missing = "i_" + _ident(node.cert.issuer.rfc4514_string()).lower()
            unknown[missing] = node.cert.issuer.rfc4514_string()
            signs.append((missing, node.id))
    uses: dict[tuple[str, str], list[str]] = {}
    for node in ordered:
        for asset in node.assets:
            for use in asset.uses:
                settings = uses.setdefault((node.id, use.consumer), [])
                if use.setting not in settings:
                    settings.append(use.setting)
    return Graph(ordered, signs, unknown, uses)


def _unique_id(node_id: str, ids: set[str]) -> str:
    """`node_id`, or `node_id_2`, ... where another node has it (nodes `w-1` and `w.1` have one ident)."""
    unique, n = node_id, 1
    while unique in ids:
        n += 1
        unique = f"{node_id}_{n}"
    ids.add(unique)
    return unique


def _label_lines(node: CertNode) -> list[str]:
    cn = safe_text(common_name(node.cert.subject))
    files = [
        a.cert_file + (f" + {Path(a.key_file).name}" if a.key_file and node.has_key.get(a.cert_file) else "")
        for a in node.assets
    ]
    if node.is_ca:
        return [f"{cn} (CA, {node.part})" if node.part else f"{cn} (CA)", " · ".join(files)]
    return [node.assets[0].role, files[0], f"CN={cn}"]


def _consumer_id(consumer: str) -> str:
    return "u_" + _ident(consumer).lower()


def _mermaid_text(text: str) -> str:
    """Text for inside a quoted Mermaid label: no control characters, and every character that could end
    the label, start markup or an entity (`"`, `<`, `>`, `&`, `#`, backtick) as a Mermaid entity code."""
    text = safe_text(text)
    return re.sub(r'[#"<>&`]', lambda m: f"#{ord(m.group())};", text)


def _mermaid_node(node: CertNode) -> str:
    label = "<br/>".join(_mermaid_text(line) for line in _label_lines(node))
    return f'    {node.id}[["{label}"]]' if node.is_ca else f'    {node.id}["{label}"]'


def _dot_text(text: str) -> str:
    """Text for inside a quoted DOT string: no control characters; backslashes (DOT's own escapes such as
    `\\l`) and quotes escaped."""
    return safe_text(text).replace("\\", "\\\\").replace('"', '\\"')


def _dot_node(node: CertNode) -> str:
    label = "\\n".join(_dot_text(line) for line in _label_lines(node))
    style = ", style=bold, shape=box3d" if node.is_ca else ""
    return f'    {node.id} [label="{label}"{style}];'


@dataclass(frozen=True)
class DrawingFormat:
    """How one drawing format writes each part of the graph; `draw` walks the graph once, for every format."""

    head: tuple[str, ...]
    group: Callable[[str, str, list[str]], list[str]]  # (id, title, its members' lines) => its lines
    module_id: str  # a module's group; `{}` is the module
    consumers_id: str  # the consumers' group
    node: Callable[[CertNode], str]
    unknown: Callable[[str, str], str]  # (node id, subject) of an issuer that was not given
    consumer: Callable[[str], str]
    signs: Callable[[str, str], str]  # (issuer id, node id)
    use: Callable[[CertNode, str, str], str]  # (node, consumer id, settings): a CA trusted, a leaf presented
    tail: tuple[str, ...] = ()


# A Mermaid flowchart: modules as subgraphs, consumers on the right.
MERMAID = DrawingFormat(
    head=("flowchart LR",),
    group=lambda ident, title, lines: [f'  subgraph {ident}["{title}"]', *lines, "  end"],
    module_id="m_{}",
    consumers_id="consumers",
    node=_mermaid_node,
    unknown=lambda ident, subject: f'  {ident}{{{{"issuer not given<br/>{_mermaid_text(subject)}"}}}}',
    consumer=lambda name: f'    {_consumer_id(name)}(["{name}"])',
    signs=lambda issuer, node: f"  {issuer} -->|signs| {node}",
    use=lambda node, consumer, settings: (
        f'  {node.id} {"-.->" if node.is_ca else "-->"}|"{settings}"| {consumer}'
    ),
)

# Graphviz DOT: modules as clusters, CAs in bold, trust edges dashed.
DOT = DrawingFormat(
    head=(
        "digraph tls {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ),
    group=lambda ident, title, lines: [f"  subgraph {ident} {{", f'    label="{title}";', *lines, "  }"],
    module_id="cluster_{}",
    consumers_id="cluster_consumers",
    node=_dot_node,
    unknown=lambda ident, subject: (
        f'  {ident} [label="issuer not given\\n{_dot_text(subject)}", style=dashed];'
    ),
    consumer=lambda name: f'    {_consumer_id(name)} [label="{_dot_text(name)}", shape=ellipse];',
    signs=lambda issuer, node: f'  {issuer} -> {node} [label="signs"];',
    use=lambda node, consumer, settings: (
        f'  {node.id} -> {consumer} [label="{_dot_text(settings)}"{", style=dashed" if node.is_ca else ""}];'
    ),
    tail=("}",),
)


def draw(graph: Graph, drawing: DrawingFormat) -> str:
    """The graph in `drawing`'s format: each module's certificates as a group, the issuers not given, the
    consumers, who signs what, and which consumer uses which certificate through which settings."""
    out = list(drawing.head)
    for module, title, members in graph.modules():
        out += drawing.group(drawing.module_id.format(module), title, [drawing.node(n) for n in members])
    out += [drawing.unknown(missing, subject) for missing, subject in graph.unknown_issuers.items()]
    consumers = [drawing.consumer(c) for c in graph.consumers()]
    out += drawing.group(drawing.consumers_id, "consumers", consumers)
    out += [drawing.signs(issuer, node) for issuer, node in graph.signs]
    out += [drawing.use(node, _consumer_id(c), ", ".join(used)) for node, c, used in graph.used_by()]
    return "\n".join([*out, *drawing.tail]) + "\n"


def to_mermaid(graph: Graph) -> str:
    return draw(graph, MERMAID)


def to_dot(graph: Graph) -> str:
    return draw(graph, DOT)


# --- inputs ---------------------------------------------------------------------------------------------


def _parse(
    name: str, data: bytes, reading: Reading, bundle: bool = False
) -> x509.Certificate | list[x509.Certificate] | None:
    """The one certificate of a layout file, or None (with the reason recorded in `reading`); with
    `bundle` (a CA file), the two CAs of a rotation are a list."""
    before = len(reading.found)
    reading.certificates_in(data, name)
    found = reading.found[before:]
    certs = [f.cert for f in found]
    if bundle and len(certs) == 2 and all(f.is_ca for f in found) and certs[0] != certs[1]:  # noqa: PLR2004
        return certs
    if len(certs) > 1:
        reading.problems.append(
            Problem(
                Code.TOO_MANY_CERTS, name, f"holds {len(certs)} certificates; the layout has one per file"
            )
        )
        return None
    return certs[0] if certs else None


def from_directory(
    directory: Path, reading: Reading
) -> tuple[dict[str, x509.Certificate | list[x509.Certificate]], set[str]]:
    """Certificates and key file names of the layout found in `directory`. Key files are not opened, and
    no symbolic link is followed out of the directory."""
    certs: dict[str, x509.Certificate | list[x509.Certificate]] = {}
    keys: set[str] = set()
    for asset in [*USES, *_node_assets_under(directory)]:
        path = directory / asset.cert_file
        if _inside(directory, path) and path.is_file():
            data = reading.read(path)
            cert = _parse(echo_path(path), data, reading, is_ca_file(asset)) if data is not None else None
            if cert:
                certs[asset.cert_file] = cert
        key = directory / asset.key_file if asset.key_file else None
        if key is not None and _inside(directory, key) and key.is_file():
            keys.add(asset.key_file)
    return certs, keys


def _node_assets_under(directory: Path) -> list[Asset]:
    """Each member's and node's certificate file in `directory` (`kube/nodes/<node>/kubelet-client.crt`,
    `etcd/members/<member>/server.crt`, ...), for every entry named as a node is; `from_directory` reads
    them as it reads the layout's files (no link followed)."""

    found: list[Asset] = []
    for template in (t for t in NODE_LAYOUT.values() if t.endswith(".crt")):
        base = directory / template.partition("{name}")[0]
        if not _inside(directory, base / "-") or not base.is_dir():
            continue
        for entry in sorted(p.name for p in base.iterdir())[:MAX_FILES]:
            asset = node_asset(template.format(name=entry))
            if asset is not None:
                found.append(asset)
    return found


def _inside(directory: Path, path: Path) -> bool:
    """No component between `directory` and `path` (`etcd/` of `etcd/server.crt`) is a symbolic link."""
    parent = path.parent
    while parent != directory:
        if parent.is_symlink():
            return False
        parent = parent.parent
    return True


def from_outputs(
    document: dict, reading: Reading
) -> tuple[dict[str, x509.Certificate | list[x509.Certificate]], set[str]]:
    """Certificates and key presence from `terraform output -json` or `terraform state pull` of any root
    module calling the tfext modules, found by role (`tfext.tools.roles`); key values are never parsed."""
    from tfext.tools.roles import locate, parse

    items = locate(document)
    parse(items, reading)
    certs: dict[str, x509.Certificate | list[x509.Certificate]] = {}
    keys: set[str] = set()
    for item in items:
        cert_file, key_file = role_files(item.kind, item.slot)
        bundle = item.slot == "ca" and all(f.is_ca for f in item.found)
        if bundle and len(item.found) == 2:  # noqa: PLR2004 - a rotation's two CAs, signing CA first
            certs.setdefault(cert_file, [f.cert for f in item.found])
        elif len(item.found) > 1:
            reading.problems.append(
                Problem(
                    Code.TOO_MANY_CERTS,
                    item.name,
                    f"holds {len(item.found)} certificates; the layout has one per file",
                )
            )
        elif item.found and cert_file not in certs:
            certs[cert_file] = item.found[0].cert
        if key_file and item.has_key:
            keys.add(key_file)  # present; its value is never parsed
    return certs, keys


@guarded("tfext topology")
def main(argv: list[str]) -> int:
    """`tfext topology`: parse `argv`, print the result, return the exit status."""
    parser = Parser(
        prog="tfext topology",
        description="Draw the CA topology of the generated certificates: which CA signs what (checked on the "
        "certificates), and which daemon flag consumes each file.",
        epilog="Examples: `terraform output -json | tfext topology`, "
        "`tfext topology --format dot generated/tls | dot -Tsvg > tls.svg`.",
    )
    parser.add_argument(
        "source",
        nargs="?",
        default="-",
        metavar="DIR",
        help="a directory written by `tfext write-assets`; default - reads `terraform output -json` or "
        "`terraform state pull` on stdin",
    )
    parser.add_argument("--format", choices=("mermaid", "dot"), default="mermaid", help="default: mermaid")
    args = parser.parse_args(argv)
    prog = parser.prog
    reading = Reading()
    try:
        if args.source == "-":
            document = load_json(read_stdin(), "stdin")
            if not isinstance(document, dict):
                raise InputError.of(
                    Code.NOT_AN_OBJECT, "stdin", "expected the JSON object of `terraform output -json`"
                )
            certs, keys = from_outputs(document, reading)
            where = "stdin"
        else:
            refuse_content_as_path(args.source, "DIR")
            directory = Path(args.source)
            if not directory.is_dir():
                raise InputError.of(
                    Code.FILE_MISSING,
                    echo_path(args.source),
                    "not a directory (pipe `terraform output -json` to use stdin)",
                )
            certs, keys = from_directory(directory, reading)
            where = echo_path(args.source)
    except InputError as exc:
        say(prog, exc.render())
        return 2
    problems = reading.problems + [b.problem for b in reading.bad]
    for problem in problems:
        say(prog, problem.render())
    if not certs:
        if args.source == "-" and not problems:
            say(prog, nothing_found(where).render())
        elif args.source == "-":
            pass  # the problems above say why
        else:
            say(prog, f"none of the layout's certificates (ca.crt, etcd/server.crt, ...) in {where}")
        return 2
    graph = build(certs, keys)
    sys.stdout.write(to_mermaid(graph) if args.format == "mermaid" else to_dot(graph))
    return 1 if problems else 0
