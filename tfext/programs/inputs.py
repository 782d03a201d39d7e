"""From query strings to typed inputs, with errors that name the input. Pure Python (no crypto)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import urllib.parse
from dataclasses import dataclass

from tfext import keys
from tfext.errors import Code, TfextError
from tfext.profiles import DEFAULT_IDENTITY_NAMES, Inputs

# Tectonic passed "/dev/null" for a path that was not given; "" and a missing key mean the same.
NOT_GIVEN_PATHS = ("", "/dev/null")
DNS_NAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$", re.I)
DEFAULT_VALIDITY_HOURS = 26280
DEFAULT_RENEWAL_WINDOW_HOURS = 720


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
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TfextError.of(Code.INVALID_LIST, f"query.{key}", 'expected a JSON list of strings, e.g. ["a", "b"]')
    return tuple(v for v in value if v != "")


def dns_names(query: dict[str, str], key: str) -> tuple[str, ...]:
    names = json_list(query, key)
    bad = [n for n in names if not DNS_NAME.match(n) or len(n) > 253]
    if bad:
        raise TfextError.of(Code.INVALID_ADDRESS, f"query.{key}", f"not DNS names: {', '.join(map(repr, bad))}")
    return names


def ip_addresses(query: dict[str, str], key: str) -> tuple[str, ...]:
    out = []
    for item in json_list(query, key):
        try:
            out.append(str(ipaddress.ip_address(item)))
        except ValueError:
            raise TfextError.of(Code.INVALID_ADDRESS, f"query.{key}", f"{item!r} is not an IP address") from None
    return tuple(out)


def cidr(query: dict[str, str], key: str, min_hosts: int = 0) -> str:
    value = query.get(key, "")
    if not value:
        return ""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise TfextError.of(Code.INVALID_ADDRESS, f"query.{key}", f"{value!r} is not a CIDR such as 10.3.0.0/16") from None
    if net.num_addresses <= min_hosts:
        raise TfextError.of(
            Code.INVALID_ADDRESS, f"query.{key}", f"{value} is too small: host {min_hosts} must be inside it"
        )
    return value


def split_host(value: str, key: str) -> str:
    """The host of `host`, `host:port`, `[v6]:port` or a URL; validated as a DNS name or an IP."""
    if not value:
        return ""
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
    raise TfextError.of(Code.INVALID_ADDRESS, f"query.{key}", f"{value!r} has no valid host name or IP address")


def hours(query: dict[str, str], key: str, default: int) -> int:
    raw = query.get(key, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise TfextError.of(Code.INVALID_VALUE, f"query.{key}", f"{raw!r} is not a positive whole number of hours")
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
        raise TfextError.of(Code.INVALID_VALUE, "query.key_algorithm", f"{algorithm!r} is not one of {', '.join(keys.KEY_ALGORITHMS)}")
    return Options(
        key_algorithm=algorithm,
        key_format=query.get("key_format") or keys.DEFAULT_KEY_FORMAT,
        validity_hours=hours(query, "validity_period", DEFAULT_VALIDITY_HOURS),
        renewal_window=dt.timedelta(hours=hours(query, "renewal_window_hours", DEFAULT_RENEWAL_WINDOW_HOURS)),
    )


def certificate_inputs(query: dict[str, str], service_hosts: int = 1) -> Inputs:
    """Everything that shapes names in certificates; absent keys take their defaults.

    `service_hosts` is the highest host number of the service CIDR the module puts in a certificate.
    """
    return Inputs(
        dns_names=dns_names(query, "dns_names"),
        ip_addresses=ip_addresses(query, "ip_addresses"),
        service_cidr=cidr(query, "service_cidr", min_hosts=service_hosts),
        api_host=split_host(query.get("kube_apiserver_url", ""), "kube_apiserver_url"),
        cluster_domain=query.get("cluster_domain") or "cluster.local",
        identity_names=dns_names(query, "identity_dns_names") or DEFAULT_IDENTITY_NAMES,
        ingress_host=split_host(query.get("base_address", ""), "base_address"),
    )
