"""etcd 3.4, the real consumer of the etcd certificates: a three-member cluster on loopback.

With `--client-cert-auth` and `--peer-client-cert-auth`, the server pair serves clients, the peer pair
serves and dials the other members, the client pair is what kube-apiserver presents, and - the part that
breaks quietly - etcd's HTTP/JSON gateway dials its own member with the SERVER pair as a client cert.
Every certificate comes from Terraform outputs (see _pki.py); the cluster runs for every PKI variant.

The second test pins why our etcd server cert differs from Tectonic's (serverAuth only): issued through
tfext with clientAuth removed, etcdctl still works but the gateway fails and etcd logs the rejection.
"""

from __future__ import annotations

import base64
import dataclasses
import http.client
import json
import ssl
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from harness import require

from tfext import issue, keys, profiles

from ._pki import ALGORITHMS, Pki
from ._procs import LOOPBACK, Service, Services, clean_env, describe, free_ports, run, wait_until

pytestmark = pytest.mark.interop

HEALTHY_TIMEOUT = 45  # seconds for a new cluster to report every member healthy
PREFIX = "interop/"
# etcdctl retries a refused handshake until its command timeout, then says "context deadline exceeded"
REFUSED = {"dial": "1s", "command_timeout": "2s"}

# What etcd (Go's crypto/tls) logs when it refuses a TLS client, and what a refused peer or gateway shows.
TLS_COMPLAINTS = (
    "rejected connection",
    "bad certificate",
    "unknown authority",
    "unknown certificate authority",
    "incompatible key usage",
    "failed to verify",
    "handshake failed",
    "didn't provide a certificate",
    "certificate required",
)


@dataclass(frozen=True)
class TlsFiles:
    """What an etcd cluster is started with and its clients dial with (file paths)."""

    ca: Path
    server_cert: Path
    server_key: Path
    peer_cert: Path
    peer_key: Path
    client_cert: Path
    client_key: Path

    @classmethod
    def of(cls, pki: Pki) -> TlsFiles:
        return cls(
            ca=pki.file("etcd_certs_etcd_ca_crt_pem"),
            server_cert=pki.file("etcd_certs_etcd_server_crt_pem"),
            server_key=pki.file("etcd_certs_etcd_server_key_pem"),
            peer_cert=pki.file("etcd_certs_etcd_peer_crt_pem"),
            peer_key=pki.file("etcd_certs_etcd_peer_key_pem"),
            client_cert=pki.file("etcd_certs_etcd_client_crt_pem"),
            client_key=pki.file("etcd_certs_etcd_client_key_pem"),
        )


@dataclass
class Member:
    name: str
    client_url: str
    service: Service


def etcd_env() -> dict[str, str]:
    """No ETCD_*/ETCDCTL_* from the caller's environment may change what we start."""
    return {k: v for k, v in clean_env(ETCDCTL_API="3").items() if not k.startswith("ETCD_")}


def start_cluster(
    services: Services,
    workdir: Path,
    tls: TlsFiles,
    *,
    size: int,
    extra_client_urls: dict[int, str] | None = None,
    label: str = "etcd",
) -> list[Member]:
    """Start `size` members on loopback and wait until every one reports healthy; retried with new ports
    if another program took one of ours in between."""
    return started_healthy(
        lambda attempt: _start_members(
            services, workdir / f"{label}-try{attempt}", tls, size, extra_client_urls, label
        ),
        lambda m: etcdctl(m, "endpoint", "health", tls=tls, dial="2s", timeout=15).returncode == 0,
        what=f"{size} healthy etcd members",
    )


def started_healthy(start, healthy, *, what: str) -> list:
    """The members `start(attempt)` gives, once `healthy(members)`; started again on new ports (up to
    3 tries) when another program took one of theirs between choosing it and binding it."""
    for attempt in range(3):
        members = start(attempt)
        try:
            wait_until(
                lambda m=members: healthy(m),
                timeout=HEALTHY_TIMEOUT,
                what=what,
                services=[m.service for m in members],
            )
            return members
        except AssertionError:
            if attempt < 2 and any("address already in use" in m.service.log_text() for m in members):
                for m in members:
                    m.service.stop()
                continue
            raise
    raise AssertionError("unreachable")


def member_command(
    name: str,
    data_dir: Path,
    *,
    listen_client: str,
    advertise_client: str,
    peer_url: str,
    initial_cluster: str,
    token: str,
    server: tuple[Path, Path],
    peer: tuple[Path, Path],
    ca: Path,
    peer_ca: Path | None = None,
) -> list[str]:
    """One member of a mutual-TLS cluster: clients and peers must present a certificate of `ca`
    (`peer_ca` for peers, when it differs)."""
    return [
        require("etcd"),
        f"--name={name}",
        f"--data-dir={data_dir}",
        "--logger=zap",
        "--log-outputs=stderr",
        f"--listen-client-urls={listen_client}",
        f"--advertise-client-urls={advertise_client}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster={initial_cluster}",
        "--initial-cluster-state=new",  # ignored once the data dir exists (restarts)
        f"--initial-cluster-token={token}",
        f"--cert-file={server[0]}",
        f"--key-file={server[1]}",
        f"--trusted-ca-file={ca}",
        "--client-cert-auth",
        f"--peer-cert-file={peer[0]}",
        f"--peer-key-file={peer[1]}",
        f"--peer-trusted-ca-file={peer_ca or ca}",
        "--peer-client-cert-auth",
    ]


def _start_members(services, workdir, tls, size, extra_client_urls, label) -> list[Member]:
    workdir.mkdir(parents=True)
    ports = free_ports(2 * size)
    client_urls = [f"https://{LOOPBACK}:{p}" for p in ports[:size]]
    peer_urls = [f"https://{LOOPBACK}:{p}" for p in ports[size:]]
    names = [f"{label}-{i}" for i in range(size)]
    initial = ",".join(f"{n}={u}" for n, u in zip(names, peer_urls, strict=True))
    token = f"interop-{uuid.uuid4().hex}"
    members = []
    for i, name in enumerate(names):
        listen = client_urls[i] + (
            f",{extra_client_urls[i]}" if extra_client_urls and i in extra_client_urls else ""
        )
        cmd = member_command(
            name,
            workdir / name,
            listen_client=listen,
            advertise_client=client_urls[i],
            peer_url=peer_urls[i],
            initial_cluster=initial,
            token=token,
            server=(tls.server_cert, tls.server_key),
            peer=(tls.peer_cert, tls.peer_key),
            ca=tls.ca,
        )
        service = services.start(name, cmd, cwd=workdir, env=etcd_env())
        members.append(Member(name, client_urls[i], service))
    return members


def etcdctl(
    members_or_urls,
    *args: str,
    tls: TlsFiles,
    cert: Path | None | bool = True,
    key: Path | None = None,
    dial: str = "3s",
    command_timeout: str = "10s",
    timeout: float = 30,
):
    """etcdctl (v3) against some endpoints; `cert=True` uses the client pair, None no client cert."""
    urls = [m.client_url if isinstance(m, Member) else m for m in members_or_urls]
    cmd = [
        require("etcdctl"),
        f"--endpoints={','.join(urls)}",
        f"--dial-timeout={dial}",
        f"--command-timeout={command_timeout}",
        f"--cacert={tls.ca}",
    ]
    if cert is True:
        cert, key = tls.client_cert, tls.client_key
    if cert:
        cmd += [f"--cert={cert}", f"--key={key}"]
    return run([*cmd, *args], timeout=timeout, env=etcd_env())


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def gateway(
    url: str,
    path: str,
    body: dict,
    *,
    ca: Path,
    cert: Path | None,
    key: Path | None,
    check_hostname: bool = True,
) -> tuple[int, dict]:
    """POST JSON to etcd's HTTP/JSON gateway over TLS (OpenSSL, Python's ssl); returns (status, body)."""
    context = ssl.create_default_context(cafile=str(ca))
    context.check_hostname = check_hostname  # the CA is verified either way
    if cert:
        context.load_cert_chain(str(cert), str(key))
    host, port = url.removeprefix("https://").rsplit(":", 1)
    return post_json(host, int(port), path, body, context, timeout=15)


def post_json(
    host: str, port: int, path: str, body: dict, context: ssl.SSLContext, timeout: float
) -> tuple[int, dict]:
    """One POST of JSON over a new TLS connection; returns (status, body), an unparsable body quoted."""
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw or b"{}")
    except json.JSONDecodeError:
        return response.status, {"unparsed": raw[:500].decode(errors="replace")}


def range_all(url: str, tls: TlsFiles, **kw) -> tuple[int, dict]:
    body = {"key": b64(PREFIX), "range_end": b64(PREFIX[:-1] + chr(ord(PREFIX[-1]) + 1))}
    return gateway(url, "/v3/kv/range", body, ca=tls.ca, cert=tls.client_cert, key=tls.client_key, **kw)


def complaints(text: str) -> list[str]:
    """Log lines in which etcd complains about TLS. Left out: "rejected connection" with error "EOF", a
    client that hung up before finishing its handshake (etcdctl given several endpoints dials all of them
    and exits as soon as one answers); a refused certificate always names a TLS or x509 error instead."""
    found = []
    for line in text.splitlines():
        if not any(c in line.lower() for c in TLS_COMPLAINTS):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = None
        if (
            isinstance(entry, dict)
            and entry.get("msg") == "rejected connection"
            and entry.get("error") == "EOF"
        ):
            continue
        found.append(line)
    return found


def assert_refused_by_etcd(call) -> None:
    """A TLS client etcd must refuse: the handshake or the first read fails (TLS 1.3 reports a refused
    client certificate on the first read)."""
    try:
        status, body = call()
    except (OSError, http.client.HTTPException):
        return
    raise AssertionError(f"etcd answered {status} to a client it must refuse: {body}")


# --- the cluster --------------------------------------------------------------------------------------


def test_etcd_cluster_with_the_terraform_certificates(pki, services, tmp_path):
    tls = TlsFiles.of(pki)
    alt_host = "127.0.0.2"  # a loopback address that is not in the certificates' SANs
    alt_url = f"https://{alt_host}:{free_ports(1, alt_host)[0]}"
    members = start_cluster(services, tmp_path, tls, size=3, extra_client_urls={0: alt_url})

    # 1. a healthy cluster of three started members, each reached through the client pair
    health = etcdctl(members, "endpoint", "health", tls=tls)
    healthy = (health.stdout + health.stderr).count("is healthy")  # etcdctl 3.4 prints health on stderr
    assert health.returncode == 0 and healthy == 3, describe(health)
    listed = etcdctl(members[:1], "member", "list", "-w", "json", tls=tls)
    assert listed.returncode == 0, describe(listed)
    listed_members = json.loads(listed.stdout)["members"]
    assert sorted(m.get("name", "") for m in listed_members) == sorted(m.name for m in members), (
        "not all started"
    )
    assert sorted(u for m in listed_members for u in m["clientURLs"]) == sorted(m.client_url for m in members)

    # 2. etcdctl writes through each member and reads every write back through each member
    expected = {}
    for i, member in enumerate(members):
        put = etcdctl([member], "put", f"{PREFIX}{i}", f"written-through-{member.name}", tls=tls)
        assert put.returncode == 0, f"put through {member.name}: {describe(put)}"
        expected[f"{PREFIX}{i}"] = f"written-through-{member.name}"
    for member in members:
        got = etcdctl([member], "get", "--prefix", PREFIX, "-w", "json", tls=tls)
        assert got.returncode == 0, f"get through {member.name}: {describe(got)}"
        kvs = {unb64(kv["key"]): unb64(kv["value"]) for kv in json.loads(got.stdout).get("kvs", [])}
        assert kvs == expected, f"read through {member.name}"

    # 3. the HTTP/JSON gateway of each member (it dials its member with the SERVER pair as client cert)
    for member in members:
        status, body = range_all(member.client_url, tls)
        assert status == 200, f"gateway of {member.name}: HTTP {status} {body}"
        kvs = {unb64(kv["key"]): unb64(kv["value"]) for kv in body.get("kvs", [])}
        assert kvs == expected, f"gateway of {member.name}"
    put_body = {"key": b64(f"{PREFIX}gateway"), "value": b64("written-through-the-gateway")}
    status, body = gateway(
        members[0].client_url, "/v3/kv/put", put_body, ca=tls.ca, cert=tls.client_cert, key=tls.client_key
    )
    assert status == 200, f"gateway put: HTTP {status} {body}"
    got = etcdctl([members[-1]], "get", f"{PREFIX}gateway", "--print-value-only", tls=tls)
    assert got.stdout.strip() == "written-through-the-gateway", describe(got)

    # 4. nothing so far made any member complain about a certificate (peers, clients, gateways)
    for member in members:
        found = complaints(member.service.log_text())
        assert not found, f"{member.name} logged TLS complaints about our own certificates:\n" + "\n".join(
            found[:10]
        )

    # 5. negative controls, each refused, and etcd logs why (so the log check of step 4 is live)
    log = members[0].service
    first = members[0].client_url
    other_ca_cert = pki.file("kube_certs_kubelet_cert_pem")  # a valid client cert, from the kube CA
    other_ca_key = pki.file("kube_certs_kubelet_key_pem")

    mark = len(log.log_text())
    no_cert = etcdctl([members[0]], "get", "k", tls=tls, cert=None, **REFUSED)
    assert no_cert.returncode != 0, f"etcdctl without a client cert was served: {describe(no_cert)}"
    expect_logged(
        log, mark, ("didn't provide a certificate", "certificate required"), "a client without a cert"
    )
    assert_refused_by_etcd(lambda: gateway_without_cert(first, tls))

    mark = len(log.log_text())
    other_ca = etcdctl([members[0]], "get", "k", tls=tls, cert=other_ca_cert, key=other_ca_key, **REFUSED)
    assert other_ca.returncode != 0, f"etcdctl with a kube-CA client cert was served: {describe(other_ca)}"
    expect_logged(log, mark, ("unknown authority",), "a client cert from another CA")
    assert_refused_by_etcd(
        lambda: gateway(
            first, "/v3/kv/range", {"key": b64("k")}, ca=tls.ca, cert=other_ca_cert, key=other_ca_key
        )
    )

    # the address not in the SANs: first the positive control (same listener, hostname check off)
    status, body = range_all(alt_url, tls, check_hostname=False)
    assert status == 200, f"the {alt_host} listener with the hostname check off: HTTP {status} {body}"
    mark = len(log.log_text())
    wrong_name = etcdctl([alt_url], "get", "k", tls=tls, **REFUSED)
    assert wrong_name.returncode != 0, f"etcdctl accepted {alt_host}, not in the SANs: {describe(wrong_name)}"
    expect_logged(
        log, mark, ("remote error: tls: bad certificate",), f"etcdctl refusing its cert for {alt_host}"
    )
    with pytest.raises(ssl.SSLCertVerificationError):
        range_all(alt_url, tls)

    for member in members:
        assert member.service.alive(), f"{member.name} died during the negative controls"


def expect_logged(service: Service, mark: int, texts: tuple[str, ...], what: str) -> None:
    """Wait until `service` logs one of `texts` after offset `mark`."""
    wait_until(
        lambda: any(t in service.log_text()[mark:] for t in texts),
        timeout=10,
        what=f"{service.name} to log that it refused {what} ({' / '.join(texts)})",
    )


def gateway_without_cert(url: str, tls: TlsFiles) -> tuple[int, dict]:
    return gateway(url, "/v3/kv/range", {"key": b64("k")}, ca=tls.ca, cert=None, key=None)


# --- why the server cert needs clientAuth --------------------------------------------------------------


def write_pair(directory: Path, name: str, pair: issue.KeyPair) -> tuple[Path, Path]:
    cert = directory / f"{name}.crt"
    cert.write_bytes(pair.cert.public_bytes(serialization.Encoding.PEM))
    key = directory / f"{name}.key"
    key.touch(mode=0o600)
    key.write_text(keys.to_pem(pair.key))
    return cert, key


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_gateway_needs_client_auth_on_the_server_cert(algorithm, services, tmp_path):
    """Tectonic's etcd server profile (serverAuth only) against ours (serverAuth + clientAuth), the rest
    equal: etcdctl works with both, the gateway only with ours, and etcd logs the rejected self-dial."""
    inputs = profiles.Inputs(ip_addresses=("127.0.0.1",))
    params = dict(key_algorithm=algorithm, validity_hours=24)
    ca = issue.issue(profiles.ETCD_CA, inputs, issuer=None, **params)
    pki_dir = tmp_path / "pki"
    pki_dir.mkdir()
    ca_file = pki_dir / "ca.crt"
    ca_file.write_bytes(ca.cert.public_bytes(serialization.Encoding.PEM))
    peer_cert, peer_key = write_pair(
        pki_dir, "peer", issue.issue(profiles.ETCD_PEER, inputs, issuer=ca, **params)
    )
    client_cert, client_key = write_pair(
        pki_dir, "client", issue.issue(profiles.ETCD_CLIENT, inputs, issuer=ca, **params)
    )
    tectonic_profile = dataclasses.replace(profiles.ETCD_SERVER, client_auth=False)
    clusters = {}
    for label, profile in (("ours", profiles.ETCD_SERVER), ("tectonic", tectonic_profile)):
        server_cert, server_key = write_pair(
            pki_dir, f"server-{label}", issue.issue(profile, inputs, issuer=ca, **params)
        )
        tls = TlsFiles(ca_file, server_cert, server_key, peer_cert, peer_key, client_cert, client_key)
        clusters[label] = (tls, start_cluster(services, tmp_path, tls, size=1, label=f"etcd-{label}")[0])

    for label, (tls, member) in clusters.items():
        put = etcdctl([member], "put", f"{PREFIX}x", label, tls=tls)
        got = etcdctl([member], "get", f"{PREFIX}x", "--print-value-only", tls=tls)
        assert put.returncode == 0 and got.stdout.strip() == label, (
            f"etcdctl, {label} server cert: {describe(got)}"
        )

    tls, member = clusters["ours"]
    status, body = range_all(member.client_url, tls)
    assert status == 200 and body.get("count") == "1", f"gateway with our server cert: HTTP {status} {body}"
    assert not complaints(member.service.log_text()), "our server cert: etcd logged TLS complaints"

    tls, member = clusters["tectonic"]
    status, body = range_all(member.client_url, tls)
    assert status != 200, f"gateway worked with a server cert without clientAuth: {body}"
    # etcd 3.4 answers 503 {"code":14,"message":"connection closed"}: gRPC UNAVAILABLE from its own dial
    assert body.get("code") == 14, f"HTTP {status} {body}"
    wait_until(
        lambda: "incompatible key usage" in member.service.log_text(),
        timeout=10,
        what="etcd to log its own server cert refused as a client cert",
    )
    rejected = [line for line in complaints(member.service.log_text()) if "rejected connection" in line]
    assert rejected, "no 'rejected connection' in the log"
