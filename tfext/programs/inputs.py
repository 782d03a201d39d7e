"""From query strings to typed inputs, with errors that name the input. Pure Python (no crypto)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass

from tfext import keys
from tfext.errors import Code, Problem, TfextError, echo
from tfext.nodes import MAX_NODE_NAME, NODE_NAME, is_node_name  # noqa: F401 - tfext.catalog reads them here
from tfext.profiles import DEFAULT_IDENTITY_NAMES, DEFAULT_RENEWAL_WINDOW_HOURS, Inputs, Node

# Tectonic passed "/dev/null" for a path that was not given; "" and a missing key mean the same.
NOT_GIVEN_PATHS = ("", "/dev/null")
DNS_NAME = re.compile(
    r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$", re.I
)
DEFAULT_VALIDITY_HOURS = 26280
HOURS = re.compile(r"[0-9]{1,7}")  # ASCII digits only (str.isdigit takes "²"), bounded like the schema
MAX_LISTED = 5  # bad list items quoted in one message
MAX_NODES = 1000  # members or nodes in one query: more is a mistake, and a run that long would time out


def path(query: dict[str, str], key: str) -> str:
    """A file path input, or "" when not given."""
    value = query.get(key, "")
    return "" if value in NOT_GIVEN_PATHS else value


def json_list(query: dict[str, str], key: str) -> tuple[str, ...]:
    """A list input: Terraform's query only carries strings, so modules `jsonencode` lists."""
    raw = query.get(key, "")
    if raw == "":
        return ()
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError, an over-long number, or nesting too deep
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TfextError.of(
            Code.INVALID_LIST, f"query.{key}", 'expected a JSON list of strings, e.g. ["a", "b"]'
        )
    return tuple(v for v in value if v != "")


# Where an address given among DNS names belongs instead, by query key (the module input's name).
IP_INPUT = {
    "dns_names": "move it to the IP address input beside it (etcd_cert_ip_addresses, "
    "apiserver_extra_ip_addresses)",
    "identity_dns_names": "drop it: the identity service is dialled by its DNS name",
}
# Two to four dot-separated numbers: what resolvers and users read as an IPv4 address (10.0.0.1, and
# also 10.1 or 010.0.0.1, which inet_aton reads in its own way).
IP_SHAPED = re.compile(r"^[0-9]+(\.[0-9]+){1,3}\.?$")


def looks_like_ip(name: str) -> bool:
    """An IP address, or a name shaped like one: never a DNS name, whatever a DNS regex says."""
    if IP_SHAPED.match(name):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def ipv4_name(name: str) -> bool:
    """A member or node name that is an IPv4 address as Go and Python write it (no leading zeros): its
    certificates carry it as an IP SAN (Go matches an address only against IP SANs)."""
    try:
        return str(ipaddress.IPv4Address(name)) == name
    except ValueError:
        return False


def dns_names(
    query: dict[str, str], key: str, *, ip_input: str = "", wildcards: bool = True
) -> tuple[str, ...]:
    """A list of DNS names. An address among them is refused (E086): a DNS SAN of an address matches
    nothing, Go looks for an IP SAN. `wildcards=False` refuses `*.` names too (E088)."""
    names = json_list(query, key)
    addresses = [n for n in names if looks_like_ip(n)]
    bad = [n for n in names if n not in addresses and (len(n) > 253 or not DNS_NAME.match(n))]
    stars = [n for n in names if not wildcards and n.startswith("*") and n not in bad]
    problems = []
    if bad:
        problems.append(Problem(Code.INVALID_ADDRESS, f"query.{key}", f"not DNS names: {listing(bad)}"))
    if addresses:
        fix = ip_input or IP_INPUT.get(key, "move it to an ip_addresses input")
        problems.append(
            Problem(
                Code.IP_AS_NAME,
                f"query.{key}",
                f"{listing(addresses)}: an IP address (or shaped like one) among DNS names would be a DNS "
                f'SAN, which no client dialling the address accepts (Go: "doesn\'t contain any IP SANs"); '
                f"{fix}",
            )
        )
    if stars:
        problems.append(
            Problem(
                Code.WILDCARD_NAME,
                f"query.{key}",
                f"{listing(stars)}: a member's or node's certificate names that member or node alone, and a "
                "wildcard would let it answer for every name below it; list each name",
            )
        )
    if problems:
        raise TfextError(problems)
    return names


def listing(items: list[str], *, quoted: bool = True) -> str:
    """The first MAX_LISTED of `items` for a message, and how many more. Quoted (escaped, cut short)
    unless every item is already known safe to show as it is (a validated node name, a schema-checked key)."""
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(echo(i) if quoted else i for i in items[:MAX_LISTED]) + more


def ip_addresses(query: dict[str, str], key: str) -> tuple[str, ...]:
    out, bad = [], []
    for item in json_list(query, key):
        try:
            out.append(str(ipaddress.ip_address(item)))
        except ValueError:
            bad.append(item)
    if bad:
        raise TfextError.of(
            Code.INVALID_ADDRESS, f"query.{key}", f"not IP addresses (no CIDR suffix): {listing(bad)}"
        )
    return tuple(out)


def node_names(query: dict[str, str], key: str) -> tuple[Node, ...]:
    """A list of node names (kube `nodes`): each one a Kubernetes node name, each once."""
    names = json_list(query, key)
    _check_names(list(names), key)
    return tuple(Node(n) for n in names)


def node_map(query: dict[str, str], key: str) -> tuple[Node, ...]:
    """Members or nodes with addresses (etcd `members`, kube `kubelet_serving`), as the module encodes
    them: {"<name>": {"dns_names": [...], "ip_addresses": [...]}}, in name order."""
    raw = query.get(key, "")
    if raw == "":
        return ()
    try:
        value = json.loads(raw, object_pairs_hook=_Entries)
    except (ValueError, RecursionError):
        value = None
    shape_ok = isinstance(value, dict) and all(
        isinstance(v, dict)
        and set(v) <= {"dns_names", "ip_addresses"}
        and all(isinstance(x, list) and all(isinstance(i, str) for i in x) for x in v.values())
        for v in value.values()
    )
    if not shape_ok:
        raise TfextError.of(
            Code.NODE_LIST_INVALID,
            f"query.{key}",
            'expected a JSON object {"<name>": {"dns_names": [...], "ip_addresses": [...]}}',
        )
    out, problems = [], []
    try:
        _check_names([*value, *value.repeated], key)
    except TfextError as exc:
        if any(p.code is not Code.IP_AS_NAME for p in exc.problems):
            raise  # names that are no node names are not shown, nor used to name anything below
        problems += exc.problems
    for name in sorted(value):
        spec = {k: json.dumps(v) for k, v in value[name].items()}
        parts: dict[str, tuple[str, ...]] = {}
        for part, field, parse in (
            ("dns_names", "dns", _own_dns_names),
            ("ip_addresses", "ips", ip_addresses),
        ):
            try:
                parts[field] = parse(spec, part)
            except TfextError as exc:  # name the member: query.members.etcd-0.ip_addresses
                problems += [
                    Problem(p.code, f"query.{key}.{name}.{p.where[len('query.') :]}", p.detail)
                    for p in exc.problems
                ]
        out.append(Node(name, **parts))
    if problems:
        raise TfextError(sorted(problems, key=lambda p: p.code.number))
    check_distinct(out, key)
    return tuple(out)


def _own_dns_names(spec: dict[str, str], key: str) -> tuple[str, ...]:
    return dns_names(spec, key, ip_input="move it to ip_addresses, beside it", wildcards=False)


def node_addresses(node: Node) -> list[str]:
    """Every name and address that stands for `node`, as compared between nodes: its name, its DNS names
    (lowercase, without a final dot) and its addresses (as Python writes them)."""
    names = [node.name, *(d.lower().rstrip(".") for d in node.dns)]
    names += [str(ipaddress.ip_address(i)) for i in node.ips]
    return list(dict.fromkeys(names))


def check_distinct(nodes: list[Node] | tuple[Node, ...], key: str, others: tuple[str, ...] = ()) -> None:
    """No name or address stands for two members or nodes (E087): whoever holds the key of one certificate
    naming another member's address could answer for it. `others` are names of further nodes (kube
    `nodes` beside `kubelet_serving`), which no serving entry may name among its own."""
    owners: dict[str, list[str]] = {}
    for node in nodes:
        for name in node_addresses(node):
            owners.setdefault(name, []).append(node.name)
    for name in others:  # a node of `nodes` stands for its own name, serving certificate or not
        if name in owners and name not in owners[name]:
            owners[name].insert(0, name)
    shared = [
        f"{name} is {who[0]}'s name, and {who[1]}'s entry lists it too"
        if name == who[0]
        else f"{name} is in the entries of {who[0]} and {who[1]}"
        for name, who in sorted(owners.items())
        if len(who) > 1
    ]
    if shared:  # every name shown was validated (a node name, a DNS name, an address)
        more = f"; and {len(shared) - MAX_LISTED} more" if len(shared) > MAX_LISTED else ""
        raise TfextError.of(
            Code.SAME_NAME_TWICE,
            f"query.{key}",
            "; ".join(shared[:MAX_LISTED]) + more + ": a name or address stands for one member or node "
            "only (the key of a certificate naming another's address can answer for it); keep each in "
            "the entry of the one it belongs to",
        )


class _Entries(dict):
    """A JSON object that remembers the keys it holds more than once: `json.loads` keeps the last of them
    without a word, which would drop a member from the list."""

    def __init__(self, pairs: list[tuple[str, object]]):
        super().__init__(pairs)
        self.repeated = [k for k, n in Counter(k for k, _ in pairs).items() if n > 1]


def _check_names(names: list[str], key: str) -> None:
    # the count first: every other check is linear in it, and a long list is refused without more work
    if len(names) > MAX_NODES:
        raise TfextError.of(
            Code.NODE_LIST_INVALID, f"query.{key}", f"{len(names)} entries; at most {MAX_NODES} per module"
        )
    bad = [n for n in names if not is_node_name(n)]
    if bad:
        raise TfextError.of(
            Code.NODE_LIST_INVALID,
            f"query.{key}",
            f"not node names (lowercase letters, digits, '-' and '.', as Kubernetes names nodes): "
            f"{listing(bad)}",
        )
    twice = sorted(n for n, count in Counter(names).items() if count > 1)
    if twice:
        raise TfextError.of(
            Code.NODE_LIST_INVALID, f"query.{key}", f"listed more than once: {listing(twice)}"
        )
    odd = [n for n in names if looks_like_ip(n) and not ipv4_name(n)]
    if odd:
        raise TfextError.of(
            Code.IP_AS_NAME,
            f"query.{key}",
            f"{listing(odd, quoted=False)}: shaped like an IP address, but not one as Go reads it (four "
            "numbers 0-255, no leading zeros); a name that is an IPv4 address becomes an IP SAN, so write "
            "the address exactly, or use the host name",
        )


def cidr(query: dict[str, str], key: str, min_hosts: int = 0) -> str:
    value = query.get(key, "")
    if not value:
        return ""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise TfextError.of(
            Code.INVALID_ADDRESS, f"query.{key}", f"{echo(value)} is not a CIDR such as 10.3.0.0/16"
        ) from None
    if net.num_addresses <= min_hosts:
        raise TfextError.of(
            Code.INVALID_ADDRESS,
            f"query.{key}",
            f"{echo(value)} is too small: host {min_hosts} must be inside it",
        )
    return value


def split_host(value: str, key: str) -> str:
    """The host of `host`, `host:port`, `[v6]:port` or a URL; validated as a DNS name or an IP."""
    if not value:
        return ""
    try:  # a bare IP: an IPv6 address has colons that urlsplit would take for a port
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    text = value if "://" in value else f"//{value}"
    try:
        host = urllib.parse.urlsplit(text).hostname or ""
        urllib.parse.urlsplit(text).port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        host = ""
    if host:
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            if DNS_NAME.match(host):
                return host
    raise TfextError.of(
        Code.INVALID_ADDRESS, f"query.{key}", f"{echo(value)} has no valid host name or IP address"
    )


def hours(query: dict[str, str], key: str, default: int) -> int:
    raw = query.get(key, "")
    if raw == "":
        return default
    if not HOURS.fullmatch(raw) or int(raw) <= 0:
        raise TfextError.of(
            Code.INVALID_VALUE, f"query.{key}", f"{echo(raw)} is not a positive whole number of hours"
        )
    return int(raw)


@dataclass(frozen=True)
class Options:
    """How to issue and check, beside what the certificates say."""

    key_algorithm: str
    key_format: str
    validity_hours: int
    renewal_window: dt.timedelta


def options(query: dict[str, str]) -> Options:
    algorithm = query.get("key_algorithm") or keys.DEFAULT_KEY_ALGORITHM
    if algorithm not in keys.KEY_ALGORITHMS:  # the schema's enum says the same; kept for direct callers
        raise TfextError.of(
            Code.INVALID_VALUE,
            "query.key_algorithm",
            f"{echo(algorithm)} is not one of {', '.join(keys.KEY_ALGORITHMS)}",
        )
    return Options(
        key_algorithm=algorithm,
        key_format=query.get("key_format") or keys.DEFAULT_KEY_FORMAT,
        validity_hours=hours(query, "validity_period", DEFAULT_VALIDITY_HOURS),
        renewal_window=dt.timedelta(hours=hours(query, "renewal_window_hours", DEFAULT_RENEWAL_WINDOW_HOURS)),
    )


def certificate_inputs(query: dict[str, str], service_hosts: int = 1) -> Inputs:
    """Everything that shapes names in certificates; absent keys take their defaults.

    `service_hosts` is the highest host number of the service CIDR the module puts in a certificate.
    Every bad input is reported, together, in one error.
    """
    problems: list[Problem] = []

    def parsed(parse, *args, default):
        try:
            return parse(*args)
        except TfextError as exc:
            problems.extend(exc.problems)
            return default

    inputs = Inputs(
        dns_names=parsed(dns_names, query, "dns_names", default=()),
        ip_addresses=parsed(ip_addresses, query, "ip_addresses", default=()),
        service_cidr=parsed(cidr, query, "service_cidr", service_hosts, default=""),
        api_host=parsed(split_host, query.get("kube_apiserver_url", ""), "kube_apiserver_url", default=""),
        cluster_domain=query.get("cluster_domain") or "cluster.local",
        identity_names=parsed(dns_names, query, "identity_dns_names", default=()) or DEFAULT_IDENTITY_NAMES,
        ingress_host=parsed(split_host, query.get("base_address", ""), "base_address", default=""),
        members=parsed(node_map, query, "members", default=()),
        nodes=parsed(node_names, query, "nodes", default=()),
        serving_nodes=parsed(node_map, query, "kubelet_serving", default=()),
    )
    listed = {n.name for n in inputs.nodes}
    unlisted = [n.name for n in inputs.serving_nodes if n.name not in listed]
    if inputs.serving_nodes and len(inputs.nodes) > 1:  # a serving entry may not name another node
        try:
            check_distinct(inputs.serving_nodes, "kubelet_serving", tuple(sorted(listed)))
        except TfextError as exc:
            problems.extend(exc.problems)
    # nodes that do not parse list no one: every serving node would seem unlisted, a second wrong message
    if unlisted and not any(p.where == "query.nodes" for p in problems):
        problems.append(
            Problem(
                Code.NODE_LIST_INVALID,
                "query.kubelet_serving",
                f"serving certificates for nodes not in nodes: {listing(unlisted)}",
            )
        )
    if problems:
        raise TfextError(sorted(problems, key=lambda p: p.code.number))
    return inputs
