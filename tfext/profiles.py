"""Certificate role profiles: the heart of tfext.

Each role (etcd server, apiserver, identity client, ...) is described once: subject, the names it
carries, extended key usages, CA or not. The same description issues a certificate (`tfext.issue`) and
checks one a user provides (`tfext.verify`). Key usages are not listed here: they follow from the role
and the key type (RFC 8813: no keyEncipherment for ECDSA or Ed25519 keys).

This module is pure data and imports no cryptography, so a program that has nothing to issue stays fast.
Where we differ from Tectonic, the comment says so (docs/differences.md has the full list).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Names:
    """subjectAltName entries: DNS names and IP addresses (as text), in issue order."""

    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()

    def __add__(self, other: Names) -> Names:
        return Names(_unique(self.dns + other.dns), _unique(self.ips + other.ips, ip=True))

    def __sub__(self, other: Names) -> Names:
        drop_dns = {d.lower() for d in other.dns}
        drop_ips = {ipaddress.ip_address(i) for i in other.ips}
        return Names(
            tuple(d for d in self.dns if d.lower() not in drop_dns),
            tuple(i for i in self.ips if ipaddress.ip_address(i) not in drop_ips),
        )

    def __bool__(self) -> bool:
        return bool(self.dns or self.ips)


def _unique(items: tuple[str, ...], ip: bool = False) -> tuple[str, ...]:
    seen: set = set()
    out = []
    for item in items:
        key = ipaddress.ip_address(item) if ip else item.lower()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return tuple(out)


@dataclass(frozen=True)
class Node:
    """One etcd member or Kubernetes node with an identity of its own: its name and its addresses."""

    name: str
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inputs:
    """What shapes certificates, parsed from a module's query (see `tfext.programs.inputs`)."""

    dns_names: tuple[str, ...] = ()  # etcd: etcd_cert_dns_names; kube: extra apiserver names
    ip_addresses: tuple[str, ...] = ()  # etcd: node IPs; kube: extra apiserver IPs
    service_cidr: str = ""
    api_host: str = ""  # host of kube_apiserver_url
    cluster_domain: str = "cluster.local"
    identity_names: tuple[str, ...] = ()  # DNS names of the identity service
    ingress_host: str = ""  # host of base_address
    members: tuple[Node, ...] = ()  # etcd: members with their own server and peer certificates
    nodes: tuple[Node, ...] = ()  # kube: nodes with their own kubelet client certificate (names only)
    serving_nodes: tuple[Node, ...] = ()  # kube: nodes with their own kubelet serving certificate
    node: Node | None = None  # the member or node a per-node certificate is for (see engine.PerNode)

    @property
    def node_name(self) -> str:
        return self.node.name if self.node is not None else ""

    def service_ip(self, n: int) -> tuple[str, ...]:
        """Host number `n` of the service CIDR (Tectonic's cidrhost), or nothing when no CIDR is set."""
        if not self.service_cidr:
            return ()
        return (str(ipaddress.ip_network(self.service_cidr, strict=False)[n]),)


def host_names(host: str) -> Names:
    """A host as a SAN: an IP SAN for an address, a DNS SAN for a name (Go matches IPs only to IP SANs)."""
    if not host:
        return Names()
    try:
        return Names(ips=(str(ipaddress.ip_address(host)),))
    except ValueError:
        return Names(dns=(host,))


def no_names(_: Inputs) -> Names:
    return Names()


@dataclass(frozen=True)
class Profile:
    """One certificate role."""

    role: str  # stable identifier, e.g. "etcd-server"
    summary: str
    common_name: Callable[[Inputs], str]
    organization: str | None = None
    is_ca: bool = False
    server_auth: bool = False
    client_auth: bool = False
    # Every name the certificate is issued with.
    names: Callable[[Inputs], Names] = no_names
    # Names we add when issuing for convenience but do not demand of a certificate a user provides.
    optional_names: Names = field(default_factory=Names)
    # Extended key usages a provided certificate must allow; None means all of `usages`. Lower where
    # Tectonic issued more than the consumer needs (a kubelet/admin client is never a server).
    needed_usages: tuple[str, ...] | None = None
    # What a provided certificate must name, where that depends on the inputs beyond `optional_names`
    # (a member's own addresses, not the DNS name we add for its member name); None: `names` less those.
    required: Callable[[Inputs], Names] | None = None
    # Who the certificate says it is, beyond its names, checked in a provided certificate (verify.py):
    #   "node":    a kubelet, CN = system:node:<node name> and O = exactly system:nodes (Node authorizer)
    #   "member":  an etcd member, CN = its member name, SANs hold its addresses
    #   "cluster": a client that is no node: neither CN system:node:* nor O system:nodes
    identity: str | None = None

    def required_names(self, inputs: Inputs) -> Names:
        """Names a provided certificate must carry for its consumers to accept it."""
        if self.required is not None:
            return self.required(inputs)
        return self.names(inputs) - self.optional_names

    @property
    def usages(self) -> tuple[str, ...]:
        """Extended key usages we issue, by name."""
        return tuple(
            u for u, on in (("server_auth", self.server_auth), ("client_auth", self.client_auth)) if on
        )

    @property
    def required_usages(self) -> tuple[str, ...]:
        """Extended key usages a provided certificate must allow, by name."""
        return self.usages if self.needed_usages is None else self.needed_usages


def fixed(cn: str) -> Callable[[Inputs], str]:
    return lambda _: cn


# --- etcd -------------------------------------------------------------------------------------------

ETCD_SERVICE_NAMES = Names(
    dns=("*.kube-etcd.kube-system.svc.cluster.local", "kube-etcd-client.kube-system.svc.cluster.local")
)
LOOPBACK = Names(dns=("localhost",), ips=("127.0.0.1",))


def _etcd_nodes(i: Inputs) -> Names:
    return Names(dns=i.dns_names, ips=i.ip_addresses) + Names(ips=i.service_ip(15) + i.service_ip(20))


ETCD_CA = Profile(
    role="etcd-ca",
    summary="etcd CA: signs the etcd server, peer and client certificates",
    common_name=fixed("etcd-ca"),
    organization="etcd",
    is_ca=True,
)

ETCD_SERVER = Profile(
    role="etcd-server",
    summary="etcd server (--cert-file); also a client of its own gRPC gateway",
    common_name=fixed("etcd"),
    organization="etcd",
    server_auth=True,
    client_auth=True,  # differs from Tectonic: etcd 3.2+ dials itself with this cert (etcd issue 9398)
    names=lambda i: _etcd_nodes(i) + LOOPBACK + ETCD_SERVICE_NAMES,
    optional_names=LOOPBACK + ETCD_SERVICE_NAMES,
)

ETCD_PEER = Profile(
    role="etcd-peer",
    summary="etcd peer (--peer-cert-file), server and client between members",
    common_name=fixed("etcd"),
    organization="etcd",
    server_auth=True,
    client_auth=True,
    # differs from Tectonic: loopback too, so members on one host (tests, single-node) can peer
    names=lambda i: _etcd_nodes(i) + ETCD_SERVICE_NAMES + LOOPBACK,
    optional_names=LOOPBACK + ETCD_SERVICE_NAMES,
)

ETCD_CLIENT = Profile(
    role="etcd-client",
    summary="kube-apiserver's etcd client (--etcd-certfile)",
    common_name=fixed("etcd"),
    organization="etcd",
    client_auth=True,
)

# One identity per member, as kubeadm issues them (certlist.go: etcd-server, etcd-peer): CN = the member's
# name, and SANs = its name and addresses plus localhost, 127.0.0.1 and ::1; no organization. One
# member's key then speaks for that member only, and etcd's check of a peer's address against its
# certificate's SANs (etcd 3.2+) has something to check.
MEMBER_LOOPBACK = Names(dns=("localhost",), ips=("127.0.0.1", "::1"))


def own_name(node: Node) -> Names:
    """A member's or node's name as a SAN: an IP SAN when the name is an IPv4 address (a node named
    10.0.0.1 is dialled at that address, and Go matches an address only against IP SANs), else a DNS SAN.
    A name merely shaped like an address (010.0.0.1) never gets here: the inputs refuse it (E086)."""
    if not node.name:
        return Names()
    try:
        if str(ipaddress.IPv4Address(node.name)) == node.name:
            return Names(ips=(node.name,))
    except ValueError:
        pass
    return Names(dns=(node.name,))


def _member_names(i: Inputs) -> Names:
    node = i.node or Node("")
    return own_name(node) + Names(dns=node.dns, ips=node.ips) + MEMBER_LOOPBACK


def _own_addresses(i: Inputs) -> Names:
    """What a provided member's or node's certificate must name: the addresses and DNS names given for it.
    Its name as a DNS SAN is ours to add, not a rule: peers and the apiserver reach it by address. A name
    that is an address is one of its addresses, and must be there as an IP SAN, as we issue it."""
    node = i.node or Node("")
    return Names(ips=own_name(node).ips) + Names(dns=node.dns, ips=node.ips)


ETCD_MEMBER_SERVER = Profile(
    role="etcd-member-server",
    summary="one etcd member's server certificate (--cert-file), its name and addresses only",
    common_name=lambda i: i.node_name,
    server_auth=True,
    client_auth=True,  # as kubeadm: etcd 3.2+ dials its own gateway with this certificate
    names=_member_names,
    required=_own_addresses,
    identity="member",
)

ETCD_MEMBER_PEER = Profile(
    role="etcd-member-peer",
    summary="one etcd member's peer certificate (--peer-cert-file), its name and addresses only",
    common_name=lambda i: i.node_name,
    server_auth=True,
    client_auth=True,
    names=_member_names,
    required=_own_addresses,
    identity="member",
)

# --- kube -------------------------------------------------------------------------------------------

KUBE_CA = Profile(
    role="kube-ca",
    summary="kube CA: signs the apiserver, kubelet, identity and ingress certificates",
    common_name=fixed("kube-ca"),
    organization="bootkube",
    is_ca=True,
)


def _apiserver_names(i: Inputs) -> Names:
    service = (
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        f"kubernetes.default.svc.{i.cluster_domain}",
    )
    return (
        host_names(i.api_host)
        + Names(dns=service, ips=i.service_ip(1))
        + Names(dns=i.dns_names, ips=i.ip_addresses)
    )


APISERVER = Profile(
    role="kube-apiserver",
    summary="kube-apiserver serving cert (--tls-cert-file), also its kubelet client cert",
    common_name=fixed("kube-apiserver"),
    organization="kube-master",
    server_auth=True,
    client_auth=True,
    names=_apiserver_names,
)

KUBELET = Profile(
    role="kubelet",
    summary="kubelet and admin kubeconfig client (system:masters)",
    common_name=fixed("kubelet"),
    organization="system:masters",
    server_auth=True,  # as Tectonic issued it
    client_auth=True,
    needed_usages=("client_auth",),
)

# One identity per node, as the Node authorizer and NodeRestriction need (kubernetes.io, "Using Node
# Authorization"): the node's name in the CN, the nodes group as the only organization.
NODE_USER_PREFIX = "system:node:"
NODES_GROUP = "system:nodes"
MASTERS_GROUP = "system:masters"
# kubeadm's group for its admin and apiserver-kubelet-client identities (1.29+): bound to cluster-admin
# by a ClusterRoleBinding, so it can be revoked, where system:masters bypasses RBAC for good.
CLUSTER_ADMINS_GROUP = "kubeadm:cluster-admins"


def _node_serving_names(i: Inputs) -> Names:
    node = i.node or Node("")
    return own_name(node) + Names(dns=node.dns, ips=node.ips)


KUBELET_CLIENT = Profile(
    role="kubelet-client",
    summary="one node's kubelet client certificate (kubelet kubeconfig): system:node:<name>",
    common_name=lambda i: NODE_USER_PREFIX + i.node_name,
    organization=NODES_GROUP,
    client_auth=True,
    identity="node",
)

KUBELET_SERVING = Profile(
    role="kubelet-serving",
    summary="one node's kubelet serving certificate (--tls-cert-file), checked by the apiserver's "
    "--kubelet-certificate-authority",
    common_name=lambda i: NODE_USER_PREFIX + i.node_name,
    organization=NODES_GROUP,
    server_auth=True,
    names=_node_serving_names,
    required=_own_addresses,
    identity="node",
)

APISERVER_KUBELET_CLIENT = Profile(
    role="apiserver-kubelet-client",
    summary="kube-apiserver's own client certificate to the kubelets (--kubelet-client-certificate)",
    common_name=fixed("kube-apiserver-kubelet-client"),
    organization=CLUSTER_ADMINS_GROUP,
    client_auth=True,
    identity="cluster",
)

ADMIN = Profile(
    role="admin",
    summary="the cluster administrator's client certificate (admin kubeconfig), no node's identity",
    common_name=fixed("kubernetes-admin"),
    organization=CLUSTER_ADMINS_GROUP,
    client_auth=True,
    identity="cluster",
)

# --- identity (Tectonic Identity, dex over gRPC) ------------------------------------------------------

IDENTITY_SERVICE = "tectonic-identity-api.tectonic-system.svc"
DEFAULT_IDENTITY_NAMES = (IDENTITY_SERVICE, f"{IDENTITY_SERVICE}.cluster.local")

# Warn when a certificate expires within this many hours: the modules' `renewal_window_hours` default,
# and what the programs and the tools for people assume when not told (30 days).
DEFAULT_RENEWAL_WINDOW_HOURS = 720

IDENTITY_SERVER = Profile(
    role="identity-server",
    summary="Tectonic Identity gRPC server (grpc.tlsCert)",
    common_name=fixed(f"{IDENTITY_SERVICE}.cluster.local"),
    server_auth=True,
    names=lambda i: Names(dns=i.identity_names),  # differs from Tectonic: SANs, since Go ignores the CN
)

IDENTITY_CLIENT = Profile(
    role="identity-client",
    summary="Tectonic Console's gRPC client cert (BRIDGE_DEX_CLIENT_CERT_FILE)",
    common_name=fixed(f"{IDENTITY_SERVICE}.cluster.local"),
    client_auth=True,
)

# --- ingress ----------------------------------------------------------------------------------------

INGRESS = Profile(
    role="ingress",
    summary="Tectonic Ingress default certificate (--default-ssl-certificate)",
    common_name=lambda i: i.ingress_host if len(i.ingress_host) <= 64 else "",
    server_auth=True,
    client_auth=True,
    names=lambda i: host_names(i.ingress_host),
    needed_usages=("server_auth",),
)

ALL_PROFILES = (
    ETCD_CA,
    ETCD_SERVER,
    ETCD_PEER,
    ETCD_CLIENT,
    ETCD_MEMBER_SERVER,
    ETCD_MEMBER_PEER,
    KUBE_CA,
    APISERVER,
    KUBELET,
    KUBELET_CLIENT,
    KUBELET_SERVING,
    APISERVER_KUBELET_CLIENT,
    ADMIN,
    IDENTITY_SERVER,
    IDENTITY_CLIENT,
    INGRESS,
)
