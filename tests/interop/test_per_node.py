"""One identity per node (issue 14) with real consumers: each etcd member and each kubelet holds a
certificate of its own, and the consumers tell them apart.

The certificates come from one `terraform apply` of a root module written here (the etcd `signed` and
kube `self-signed` modules, once per key algorithm with `for_each`): etcd members etcd-1..3 with
addresses 127.0.0.1..3, kube nodes node-1..3 with a kubelet serving cert each (127.0.0.1..3 and
node-N.tfext.test). The names each certificate must carry are written down here from what we pass.

- etcd 3.4: three members, each on its own loopback address with ITS OWN server and peer pair, form a
  healthy cluster. etcd checks a peer's source address against the SANs of the peer certificate it
  presents, so a member's peer cert is refused from another member's address; etcdctl and kubectl accept
  a member's server cert by its address and name and refuse it by another member's.
- kubelets: kubectl accepts each node's serving cert by that node's name and refuses it by another's;
  nginx requiring the kube CA sees a different subject, CN=system:node:<name>,O=system:nodes, for every
  node's client cert.

Every member cert also carries 127.0.0.1 (kubeadm's loopback SANs), and on Linux every dial to a
127.0.0.0/8 address leaves from 127.0.0.1: that is why real members dialling each other are accepted,
and why the foreign addresses used below are never 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import Terraform, modules_source, require

from ._pki import ALGORITHMS, TERRAFORM_TIMEOUT
from ._procs import Service, Services, describe, free_ports, wait_for_port, wait_until
from .test_etcd import (
    TlsFiles,
    complaints,
    etcd_env,
    etcdctl,
    expect_logged,
    member_command,
    started_healthy,
    unb64,
)
from .test_kube import kubectl, write_kubeconfig

pytestmark = pytest.mark.interop

DOMAIN = "tfext.test"
MEMBER_IPS = {"etcd-1": "127.0.0.1", "etcd-2": "127.0.0.2", "etcd-3": "127.0.0.3"}
MEMBERS = tuple(MEMBER_IPS)
# Where each member also serves clients, with a cert that lacks the address: another member's address,
# never 127.0.0.1 (in every member cert).
FOREIGN_IPS = {"etcd-1": "127.0.0.2", "etcd-2": "127.0.0.3", "etcd-3": "127.0.0.2"}
NODE_IPS = {"node-1": "127.0.0.1", "node-2": "127.0.0.2", "node-3": "127.0.0.3"}
NODES = tuple(NODE_IPS)
IO_TIMEOUT = 10  # seconds for any one connection of ours

ROOT_MODULE = """\
terraform {{
  required_version = ">= 1.5"
}}

locals {{
  algorithms = toset({algorithms})
}}

module "etcd" {{
  source   = "{modules}/tls/etcd/signed"
  for_each = local.algorithms

  self_signed   = true
  key_algorithm = each.key
  members       = {members}
}}

module "kube" {{
  source   = "{modules}/tls/kube/self-signed"
  for_each = local.algorithms

  kube_apiserver_url = "https://api.{domain}:443"
  service_cidr       = "10.3.0.0/16"
  key_algorithm      = each.key
  nodes              = {nodes}
  kubelet_serving    = {kubelet_serving}
}}

output "pki" {{
  sensitive = true
  value = {{
    for a in local.algorithms : a => {{
      etcd_ca               = module.etcd[a].etcd_ca_crt_pem
      etcd_client_crt       = module.etcd[a].etcd_client_crt_pem
      etcd_client_key       = module.etcd[a].etcd_client_key_pem
      member_server_crt     = module.etcd[a].etcd_member_server_crt_pem
      member_server_key     = module.etcd[a].etcd_member_server_key_pem
      member_peer_crt       = module.etcd[a].etcd_member_peer_crt_pem
      member_peer_key       = module.etcd[a].etcd_member_peer_key_pem
      kube_ca               = module.kube[a].ca_cert_pem
      node_client_crt       = module.kube[a].node_kubelet_client_cert_pem
      node_client_key       = module.kube[a].node_kubelet_client_key_pem
      node_serving_crt      = module.kube[a].node_kubelet_serving_cert_pem
      node_serving_key      = module.kube[a].node_kubelet_serving_key_pem
      apiserver_kubelet_crt = module.kube[a].apiserver_kubelet_client_cert_pem
      apiserver_kubelet_key = module.kube[a].apiserver_kubelet_client_key_pem
    }}
  }}
}}
"""
PER_MEMBER = {"member_server_crt", "member_server_key", "member_peer_crt", "member_peer_key"}
PER_NODE = {"node_client_crt", "node_client_key", "node_serving_crt", "node_serving_key"}


def node_dns(node: str) -> str:
    return f"{node}.{DOMAIN}"


def subject_dn(node: str) -> str:
    """nginx's $ssl_client_s_dn (RFC 2253, last RDN first) of a node's kubelet client cert."""
    return f"CN=system:node:{node},O=system:nodes"


@dataclass(frozen=True)
class NodePki:
    """One algorithm's certificates as files: `file(kind)` or `file(kind, member_or_node)`."""

    algorithm: str
    directory: Path

    def file(self, kind: str, name: str | None = None) -> Path:
        path = self.directory / (f"{kind}-{name}.pem" if name else f"{kind}.pem")
        assert path.is_file(), f"{self.algorithm}: no output for {kind} {name or ''}"
        return path

    def etcd_tls(self, member: str) -> TlsFiles:
        """What `member` runs with; its client pair (the shared one) is what etcdctl presents."""
        return TlsFiles(
            ca=self.file("etcd_ca"),
            server_cert=self.file("member_server_crt", member),
            server_key=self.file("member_server_key", member),
            peer_cert=self.file("member_peer_crt", member),
            peer_key=self.file("member_peer_key", member),
            client_cert=self.file("etcd_client_crt"),
            client_key=self.file("etcd_client_key"),
        )


def write_pem(path: Path, text: str, *, secret: bool) -> None:
    if secret:
        path.touch(mode=0o600)
    path.write_text(text)


@pytest.fixture(scope="module")
def node_pkis(tmp_path_factory, tf_config) -> dict[str, NodePki]:
    """The one `terraform apply` of this file: both algorithms' certificates, written out as files."""
    root = tmp_path_factory.mktemp("per-node")
    work = root / "root-module"
    work.mkdir()
    (work / "main.tf").write_text(
        ROOT_MODULE.format(
            algorithms=json.dumps(list(ALGORITHMS)),
            modules=modules_source(work),
            domain=DOMAIN,
            members=json.dumps({m: {"ip_addresses": [ip]} for m, ip in MEMBER_IPS.items()}),
            nodes=json.dumps(list(NODES)),
            kubelet_serving=json.dumps(
                {n: {"ip_addresses": [ip], "dns_names": [node_dns(n)]} for n, ip in NODE_IPS.items()}
            ),
        )
    )
    tf = Terraform(work, tf_config, timeout=TERRAFORM_TIMEOUT)
    tf.init()
    tf.apply()
    pkis = {}
    for algorithm, values in tf.outputs()["pki"].items():
        directory = root / algorithm
        directory.mkdir()
        for kind, value in values.items():
            if kind in PER_MEMBER | PER_NODE:
                names = MEMBERS if kind in PER_MEMBER else NODES
                assert sorted(value) == sorted(names), f"{algorithm} {kind}: keyed by {sorted(value)}"
                for name, pem in value.items():
                    write_pem(directory / f"{kind}-{name}.pem", pem, secret=kind.endswith("_key"))
            else:
                write_pem(directory / f"{kind}.pem", value, secret=kind.endswith("_key"))
        pkis[algorithm] = NodePki(algorithm, directory)
    assert sorted(pkis) == sorted(ALGORITHMS)
    return pkis


@pytest.fixture(params=ALGORITHMS)
def node_pki(request, node_pkis) -> NodePki:
    return node_pkis[request.param]


# --- plain HTTPS from a chosen source address -----------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one GET of ours got: the HTTP status and body, or None and the error of a connection closed
    without an HTTP answer; and the local port it left from (how the server's log names it)."""

    local_port: int
    status: int | None
    body: str


def https_get(
    host: str,
    port: int,
    path: str,
    *,
    server_name: str,
    ca: Path,
    cert: Path,
    key: Path,
    source: str | None = None,
) -> Answer:
    """GET `path` over a new TLS connection (Python's ssl, OpenSSL) from `source` (an address of ours),
    presenting a client pair and verifying the server as `server_name`."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(cert), str(key))
    raw = socket.create_connection(
        (host, port), timeout=IO_TIMEOUT, source_address=(source, 0) if source else None
    )
    local_port = raw.getsockname()[1]
    try:
        with raw, context.wrap_socket(raw, server_hostname=server_name) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n".encode())
            response = http.client.HTTPResponse(tls)
            response.begin()
            body = response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        return Answer(local_port, None, f"{type(exc).__name__}: {exc}")
    return Answer(local_port, response.status, body)


# --- etcd: one member per loopback address ------------------------------------------------------------


@dataclass
class Member:
    name: str
    ip: str
    client_url: str
    foreign_url: str  # a second client listener, on an address the member's server cert lacks
    peer_port: int
    tls: TlsFiles
    service: Service


def urls(members: list[Member]) -> list[str]:
    return [m.client_url for m in members]


def start_members(services: Services, workdir: Path, pki: NodePki) -> list[Member]:
    """Start etcd-1..3, each on its own address with its own pairs, and wait until all are healthy;
    retried with new ports if another program took one of ours in between."""
    return started_healthy(
        lambda attempt: _start_members(services, workdir / f"try{attempt}", pki),
        lambda m: etcdctl(urls(m), "endpoint", "health", tls=m[0].tls, dial="2s", timeout=15).returncode == 0,
        what="3 healthy etcd members",
    )


def _start_members(services: Services, workdir: Path, pki: NodePki) -> list[Member]:
    workdir.mkdir(parents=True)
    ports = {m: free_ports(2, ip) for m, ip in MEMBER_IPS.items()}
    foreign = {m: f"https://{ip}:{free_ports(1, ip)[0]}" for m, ip in FOREIGN_IPS.items()}
    peer_urls = {m: f"https://{MEMBER_IPS[m]}:{ports[m][1]}" for m in MEMBERS}
    initial = ",".join(f"{m}={peer_urls[m]}" for m in MEMBERS)
    token = f"per-node-{uuid.uuid4().hex}"
    members = []
    for name, ip in MEMBER_IPS.items():
        tls = pki.etcd_tls(name)
        client_url = f"https://{ip}:{ports[name][0]}"
        cmd = member_command(
            name,
            workdir / name,
            listen_client=f"{client_url},{foreign[name]}",
            advertise_client=client_url,
            peer_url=peer_urls[name],
            initial_cluster=initial,
            token=token,
            server=(tls.server_cert, tls.server_key),
            peer=(tls.peer_cert, tls.peer_key),
            ca=tls.ca,
        )
        service = services.start(name, cmd, cwd=workdir, env=etcd_env())
        members.append(Member(name, ip, client_url, foreign[name], ports[name][1], tls, service))
    return members


def rejected_peer(member: Member, source: str, port: int) -> dict | None:
    """etcd's "rejected connection" log entry for our connection from `source`:`port`, if logged."""
    for line in member.service.log_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("msg") == "rejected connection" and entry.get("remote-addr") == f"{source}:{port}":
            return entry
    return None


def tcp_peers(ip: str, port: int) -> set[str]:
    """The remote addresses of the established TCP connections to `ip`:`port` (Linux /proc/net/tcp)."""

    def address(field: str) -> tuple[str, int]:
        host, port_hex = field.split(":")
        return socket.inet_ntoa(bytes.fromhex(host)[::-1]), int(port_hex, 16)

    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, state = line.split()[1:4]
        if state == "01" and address(local) == (ip, port):  # 01: ESTABLISHED
            found.add(address(remote)[0])
    return found


def test_etcd_members_each_with_their_own_certificates(node_pki, services, tmp_path):
    """Three members, each on its own address with its own server and peer pair, form a healthy cluster
    and replicate; a member's server cert is accepted by its own address and name and refused by another
    member's (etcdctl, kubectl); and a member's PEER port accepts a peer cert exactly from the addresses in
    its SANs: from another member's address, etcd closes the connection and logs why."""
    members = start_members(services, tmp_path, node_pki)
    tls = members[0].tls  # etcdctl needs only the CA and the shared client pair from it

    # 1. healthy over all three, with the names and URLs we gave, and a write replicated to every member
    health = etcdctl(urls(members), "endpoint", "health", tls=tls)
    assert health.returncode == 0 and (health.stdout + health.stderr).count("is healthy") == 3, describe(
        health
    )
    listed = etcdctl(urls(members[:1]), "member", "list", "-w", "json", tls=tls)
    assert listed.returncode == 0, describe(listed)
    listed_members = json.loads(listed.stdout)["members"]
    ids = {m["name"]: m["ID"] for m in listed_members}
    assert sorted(ids) == sorted(MEMBERS), f"member list: {listed_members}"
    for m in listed_members:
        member = next(x for x in members if x.name == m["name"])
        assert m["peerURLs"] == [f"https://{member.ip}:{member.peer_port}"]
        assert m["clientURLs"] == [member.client_url]
    put = etcdctl(urls(members[:1]), "put", "per-node/key", f"written-through-{members[0].name}", tls=tls)
    assert put.returncode == 0, describe(put)
    for member in members:
        got = etcdctl([member.client_url], "get", "per-node/key", "-w", "json", tls=tls)
        assert got.returncode == 0, f"get through {member.name}: {describe(got)}"
        values = [unb64(kv["value"]) for kv in json.loads(got.stdout).get("kvs", [])]
        assert values == [f"written-through-{members[0].name}"], f"read through {member.name}"

    # 2. the members' own peer connections and our clients made no TLS complaint; the members dial each
    #    other from 127.0.0.1 (Linux picks it as the source for all of 127.0.0.0/8), which every cert has
    for member in members:
        assert tcp_peers(member.ip, member.peer_port) == {"127.0.0.1"}, f"dials to {member.name}'s peer port"
        found = complaints(member.service.log_text())
        assert not found, f"{member.name} logged TLS complaints:\n" + "\n".join(found[:10])

    # 3. etcdctl: each member's server cert by its own address (the member answering is that member),
    #    refused on the member's second listener, an address its cert lacks
    for member in members:
        status = etcdctl([member.client_url], "endpoint", "status", "-w", "json", tls=tls)
        assert status.returncode == 0, f"{member.name} by {member.ip}: {describe(status)}"
        assert json.loads(status.stdout)[0]["Status"]["header"]["member_id"] == ids[member.name]
        foreign_ip = FOREIGN_IPS[member.name]
        mark = len(member.service.log_text())
        refused = etcdctl(
            [member.foreign_url], "endpoint", "status", tls=tls, dial="1s", command_timeout="1s"
        )
        out = refused.stdout + refused.stderr
        assert refused.returncode != 0, f"{member.name} by {foreign_ip} was accepted: {describe(refused)}"
        assert "x509: certificate is valid for" in out and f"not {foreign_ip}" in out, describe(refused)
        assert member.ip in out.split("x509: certificate is valid for", 1)[1].split(", not")[0]
        expect_logged(
            member.service, mark, ("remote error: tls: bad certificate",), f"etcdctl at {foreign_ip}"
        )

    # 4. kubectl (the etcd CA, the shared client pair) by each member's name; another member's name fails
    for member in members:
        config = write_kubeconfig(
            tmp_path / f"kubeconfig-{member.name}",
            server=member.client_url,
            ca=tls.ca.read_bytes(),
            user=(tls.client_cert.read_bytes(), tls.client_key.read_bytes()),
        )
        proc = kubectl(config, f"--tls-server-name={member.name}", "get", "--raw", "/version", home=tmp_path)
        assert proc.returncode == 0, f"{member.name} by name: {describe(proc)}"
        assert json.loads(proc.stdout)["etcdserver"].startswith("3."), describe(proc)
        for other in MEMBERS:
            if other == member.name:
                continue
            proc = kubectl(config, f"--tls-server-name={other}", "get", "--raw", "/version", home=tmp_path)
            assert proc.returncode != 0, f"{member.name}'s cert accepted as {other}: {describe(proc)}"
            assert f"x509: certificate is valid for {member.name}, localhost, not {other}" in proc.stderr, (
                describe(proc)
            )

    # 5. peer identity: from every address of ours, with every member's peer pair, to every member's
    #    peer port: answered exactly when the source address is in the presented cert's SANs
    answered, refused = 0, []
    for target in members:
        for source in MEMBER_IPS.values():
            for owner in MEMBERS:
                pair = node_pki.etcd_tls(owner)
                answer = https_get(
                    target.ip,
                    target.peer_port,
                    "/members",
                    server_name=target.ip,
                    ca=pair.ca,
                    cert=pair.peer_cert,
                    key=pair.peer_key,
                    source=source,
                )
                what = f"{target.name}'s peer port, {owner}'s peer cert from {source}"
                if source in ("127.0.0.1", MEMBER_IPS[owner]):
                    assert answer.status == 200, f"{what}: {answer.status} {answer.body}"
                    assert sorted(m["name"] for m in json.loads(answer.body)) == sorted(MEMBERS), answer.body
                    answered += 1
                else:
                    assert answer.status is None, f"{what} was answered: {answer.status} {answer.body}"
                    refused.append((target, source, owner, answer))
    assert (answered, len(refused)) == (3 * 5, 3 * 4)
    # ... and each refusal is etcd's SAN check: it logged our connection, the address and owner's cert
    for target, source, owner, answer in refused:
        entry = wait_until(
            lambda t=target, s=source, a=answer: rejected_peer(t, s, a.local_port),
            timeout=10,
            what=f"{target.name} to log that it rejected {source}:{answer.local_port}",
        )
        assert f'"{source}" does not match' in entry.get("error", ""), entry
        assert owner in entry.get("dns-names", []) and MEMBER_IPS[owner] in entry.get("ip-addresses", []), (
            entry
        )
        assert source not in entry["ip-addresses"], entry

    for member in members:
        assert member.service.alive(), f"{member.name} died"


# --- kubelets: nginx serving every node's serving cert, requiring client certs of the kube CA -----------

NGINX_CONF = """\
master_process off;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    log_format who '$server_addr:$server_port $status "$ssl_client_s_dn"';
    access_log {root}/access.log who;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    ssl_client_certificate {kube_ca};
    ssl_verify_client on;
{servers}}}
"""
# How nginx (info level) logs a handshake the client ended with an alert, up to the listener's address.
ALERT_TAIL = ":SSL alert number 42) while SSL handshaking, client: 127.0.0.1, server: "
NGINX_SERVER = """\
    server {{
        listen {ip}:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            default_type text/plain;
            return 200 "$ssl_client_s_dn\\n";
        }}
    }}
"""


@dataclass
class Kubelets:
    """nginx standing in for the kubelets: node => port, on the node's address."""

    ports: dict[str, int]
    root: Path
    service: Service

    def url(self, node: str) -> str:
        return f"https://{NODE_IPS[node]}:{self.ports[node]}"

    def access_log(self) -> list[str]:
        path = self.root / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def error_log(self) -> str:
        return (self.root / "error.log").read_text(errors="replace")


@pytest.fixture
def kubelets(node_pki: NodePki, services: Services, tmp_path: Path) -> Kubelets:
    """nginx listening on each node's address with that node's kubelet serving pair, requiring a client
    cert of the kube CA (as kubelet's --client-ca-file does) and answering with its subject."""
    root = tmp_path / "nginx"
    root.mkdir()
    conf, error_log = root / "nginx.conf", root / "error.log"
    services.add_log("nginx error.log", error_log)
    for attempt in range(3):  # another program may take a free port before nginx binds it
        ports = {node: free_ports(1, ip)[0] for node, ip in NODE_IPS.items()}
        servers = "".join(
            NGINX_SERVER.format(
                ip=NODE_IPS[node],
                port=ports[node],
                cert=node_pki.file("node_serving_crt", node),
                key=node_pki.file("node_serving_key", node),
            )
            for node in NODES
        )
        conf.write_text(NGINX_CONF.format(root=root, kube_ca=node_pki.file("kube_ca"), servers=servers))
        cmd = [require("nginx"), "-p", str(root), "-c", str(conf), "-e", str(error_log), "-g", "daemon off;"]
        service = services.start("nginx", cmd, cwd=root)
        try:
            for node in NODES:
                wait_for_port(service, NODE_IPS[node], ports[node])
            return Kubelets(ports, root, service)
        except AssertionError:
            service.stop()
            in_use = error_log.exists() and "Address already in use" in error_log.read_text(errors="replace")
            if attempt == 2 or not in_use:
                raise
    raise AssertionError("unreachable")


def test_kubectl_accepts_each_kubelet_serving_cert_by_its_node_name_only(node_pki, kubelets, tmp_path):
    """kubectl (Go's verifier, as kube-apiserver's --kubelet-certificate-authority) reaches every node's
    kubelet by the node's name, its DNS name and its address, presenting the apiserver's kubelet client
    pair; every other node's name is refused with an x509 name mismatch before any request is sent."""
    user = (
        node_pki.file("apiserver_kubelet_crt").read_bytes(),
        node_pki.file("apiserver_kubelet_key").read_bytes(),
    )
    for node in NODES:
        config = write_kubeconfig(
            tmp_path / f"kubeconfig-{node}",
            server=kubelets.url(node),
            ca=node_pki.file("kube_ca").read_bytes(),
            user=user,
        )
        for flags in ([f"--tls-server-name={node}"], [f"--tls-server-name={node_dns(node)}"], []):
            proc = kubectl(config, *flags, "get", "--raw", "/", home=tmp_path)
            assert proc.returncode == 0, f"{node} {flags or 'by address'}: {describe(proc)}"
            assert proc.stdout.strip().startswith("CN=kube-apiserver-kubelet-client"), describe(proc)
        for other in NODES:
            if other == node:
                continue
            proc = kubectl(config, f"--tls-server-name={other}", "get", "--raw", "/", home=tmp_path)
            assert proc.returncode != 0, f"{node}'s serving cert accepted as {other}: {describe(proc)}"
            expected = f"x509: certificate is valid for {node}, {node_dns(node)}, not {other}"
            assert expected in proc.stderr, describe(proc)
    # nginx served each accepted call (kubectl, the gcloud dispatcher here, may make one more request) and
    # saw each refused one end in kubectl's bad-certificate alert, before any request
    for node in NODES:
        listener = f"{NODE_IPS[node]}:{kubelets.ports[node]}"
        lines = [line for line in kubelets.access_log() if line.startswith(f"{listener} ")]
        assert len(lines) >= 3 and all(f"{listener} 200 " in line for line in lines), lines
        wait_until(
            lambda listener=listener: (
                kubelets.error_log().count(f"alert bad certificate{ALERT_TAIL}{listener}") == len(NODES) - 1
            ),
            timeout=5,
            what=f"nginx at {listener} to log {len(NODES) - 1} refused handshakes",
        )


def test_each_node_kubelet_client_cert_is_its_own_identity(node_pki, kubelets, tmp_path):
    """A server requiring client certs of the kube CA (nginx, OpenSSL) accepts every node's kubelet client
    pair, presented by Python's ssl and by kubectl (Go, as kubelet dials the apiserver), and sees a
    different subject for each node: CN=system:node:<name>,O=system:nodes, whichever node's listener it
    reaches. A node's serving pair (same CA, serverAuth only) and the etcd client pair (another CA) are
    refused as client certs, and nginx logs why."""
    ca = node_pki.file("kube_ca")
    seen = {}
    for node in NODES:
        # every node's client pair at every kubelet: the subject depends on the pair, not the listener
        subjects = set()
        for server in NODES:
            answer = https_get(
                NODE_IPS[server],
                kubelets.ports[server],
                "/",
                server_name=server,
                ca=ca,
                cert=node_pki.file("node_client_crt", node),
                key=node_pki.file("node_client_key", node),
            )
            assert answer.status == 200, f"{node}'s client pair at {server}: {answer.status} {answer.body}"
            subjects.add(answer.body.strip())
        config = write_kubeconfig(
            tmp_path / f"kubeconfig-{node}-client",
            server=kubelets.url(node),
            ca=ca.read_bytes(),
            user=(
                node_pki.file("node_client_crt", node).read_bytes(),
                node_pki.file("node_client_key", node).read_bytes(),
            ),
        )
        proc = kubectl(config, f"--tls-server-name={node}", "get", "--raw", "/", home=tmp_path)
        assert proc.returncode == 0, describe(proc)
        subjects.add(proc.stdout.strip())
        assert subjects == {subject_dn(node)}, f"{node}: nginx saw {subjects}"
        seen[node] = subjects.pop()
    assert len(set(seen.values())) == len(NODES), seen

    # negative controls, each answered 400 with nginx's reason logged: a node's serving pair (same CA,
    # serverAuth only) and the etcd client pair (another CA) presented as client certs
    server = NODES[0]
    for cert, key, reason in (
        ("node_serving_crt", "node_serving_key", "unsuitable certificate purpose"),
        ("etcd_client_crt", "etcd_client_key", "unable to verify the first certificate"),
    ):
        node = NODES[1] if cert.startswith("node_") else None
        answer = https_get(
            NODE_IPS[server],
            kubelets.ports[server],
            "/",
            server_name=server,
            ca=ca,
            cert=node_pki.file(cert, node),
            key=node_pki.file(key, node),
        )
        assert answer.status == 400, f"{cert} was taken as a client cert: {answer}"
        wait_until(
            lambda reason=reason: f":{reason}) while reading client request headers" in kubelets.error_log(),
            timeout=5,
            what=f"nginx to log {reason}",
        )
