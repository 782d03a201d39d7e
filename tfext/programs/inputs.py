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
from tfext.profiles import DEFAULT_IDENTITY_NAMES, DEFAULT_RENEWAL_WINDOW_HOURS, Inputs, Node

# Tectonic passed "/dev/null" for a path that was not given; "" and a missing key mean the same.
NOT_GIVEN_PATHS = ("", "/dev/null")
DNS_NAME = re.compile(
    r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$", re.I
)
DEFAULT_VALIDITY_HOURS = 26280
HOURS = re.compile(r"[0-9]{1,7}")  # ASCII digits only (str.isdigit takes "²"), bounded like the schema
MAX_LISTED = 5  # bad list items quoted in one message
# A Kubernetes node name (and ours for an etcd member): a lowercase RFC 1123 subdomain, which is also a
# DNS name, so it can stand in a SAN. No ":" either: slot names are "<role>:<node>".
NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_NODES = 1000  # members or nodes in one query: more is a mistake, and a run that long would time out
MAX_NODE_NAME = 253


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


def dns_names(query: dict[str, str], key: str) -> tuple[str, ...]:
    names = json_list(query, key)
    bad = [n for n in names if len(n) > 253 or not DNS_NAME.match(n)]
    if bad:
        raise TfextError.of(Code.INVALID_ADDRESS, f"query.{key}", f"not DNS names: {listing(bad)}")
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
    _check_names([*value, *value.repeated], key)
    out = []
    for name in sorted(value):
        spec = {k: json.dumps(v) for k, v in value[name].items()}
        try:
            out.append(Node(name, dns=dns_names(spec, "dns_names"), ips=ip_addresses(spec, "ip_addresses")))
        except TfextError as exc:  # name the member: query.members.etcd-0.ip_addresses
            raise TfextError(
                [
                    Problem(p.code, f"query.{key}.{name}.{p.where[len('query.') :]}", p.detail)
                    for p in exc.problems
                ]
            ) from None
    return tuple(out)


class _Entries(dict):
    """A JSON object that remembers the keys it holds more than once: `json.loads` keeps the last of them
    without a word, which would drop a member from the list."""

    def __init__(self, pairs: list[tuple[str, object]]):
        super().__init__(pairs)
        self.repeated = [k for k, n in Counter(k for k, _ in pairs).items() if n > 1]


def is_node_name(name: object) -> bool:
    """A Kubernetes node name (lowercase RFC 1123 subdomain, at most 253 characters): safe as a slot name,
    a DNS SAN and a directory name alike (no ':', '/', '..')."""
    return isinstance(name, str) and len(name) <= MAX_NODE_NAME and NODE_NAME.match(name) is not None


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
