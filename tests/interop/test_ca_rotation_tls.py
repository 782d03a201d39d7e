"""A kube CA rotation with real TLS consumers at every phase: nobody is locked out mid-rotation.

One rotation per key algorithm (RSA-2048, ECDSA-P256), each phase a real `terraform apply` of the
tectonic example (_rotation_tls.py): generation 0 ("initial"), then trust, reissue, finish. At each phase
the consumers are given that phase's files, as the runbook deploys them, and are dialled with
- the OLD client certificates (generation 0's, signed by the outgoing CA: what trust still hands out),
- the NEW ones (reissue's, signed by the incoming CA),
- a FOREIGN one, made here: the kubelet's name, signed by a CA of the kube CA's very name but another key.
A server accepts exactly the clients whose CA its phase's bundle trusts (EXPECTED_TRUST: old in initial,
both in trust and reissue, new in finish), and a client trusting any phase's bundle verifies a server of
any phase whose leaves that bundle's CAs signed.

Consumers: nginx (ingress pair, `ssl_client_certificate` = the bundle, `ssl_verify_client on`, reloaded
with `nginx -s reload` between phases), gRPC C-core (identity pairs, as dex), kubectl (Go) against a
Python-ssl apiserver stand-in with --client-ca-file = the bundle. Every refusal is shown to be a TLS
refusal: nginx answers 400 "The SSL certificate error" and logs the verify error (that is how nginx
refuses a client certificate: after the handshake), gRPC fails UNAVAILABLE well inside its deadline, the
stand-in records the failed handshake and kubectl reports the TLS alert.

The user-provided flavor (tectonic-user-provided) is applied over each phase's files with the same phase
and must hand out the same bundle and leaves; a wrong phase for those files fails the plan (TFEXT-E057).
No terraform command prints key text.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import ssl
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from harness import Terraform, copy_example, require

from tfext.tools.assets import LAYOUT

from ._pki import ALGORITHMS, COMMON_VARS, CONSOLE_HOST, IDENTITY_NAMES, TERRAFORM_TIMEOUT, write_assets
from ._procs import LOOPBACK, Services, describe, free_ports, run, wait_for_port, wait_until
from ._rotation_tls import (
    EXPECTED_TRUST,
    KUBE_BUNDLES,
    LEAVES,
    PHASES,
    SIGNER,
    KeyScan,
    Phase,
    Rotation,
    certs,
    fingerprint,
    phase_var,
    rotate,
    rotation_var,
)
from ._tlsserver import serve_tls
from .test_kube import ALERT_FROM_CLIENT, kubectl, server_saw, write_kubeconfig

pytestmark = [pytest.mark.interop, pytest.mark.terraform]

KUBELET = ("kube_certs_kubelet_cert_pem", "kube_certs_kubelet_key_pem")
IDENTITY_CLIENT = ("identity_certs_client_cert_pem", "identity_certs_client_key_pem")
OLD, NEW = "trust", "reissue"  # the phases whose leaves are the old and the new client certificates
CALL_TIMEOUT = 10.0  # seconds, for every client; a refusal must come much sooner
REFUSAL_WITHIN = 5.0
SERVER_REFUSED = ("remote error: tls: ", "connection reset by peer")


@pytest.fixture(scope="module", params=ALGORITHMS)
def rotation(request, tmp_path_factory, tf_config) -> Rotation:
    return rotate(tmp_path_factory.mktemp(f"rotation-{request.param}"), tf_config, request.param)


@dataclass(frozen=True)
class Client:
    label: str
    signer: str  # "old", "new" or "foreign"
    cert: Path
    key: Path

    def pem_pair(self) -> tuple[bytes, bytes]:
        return self.cert.read_bytes(), self.key.read_bytes()


def clients(rotation: Rotation, *pairs: tuple[str, str]) -> list[Client]:
    out = []
    for cert, key in pairs:
        role = cert.removesuffix("_cert_pem")
        for label, phase in (("old", OLD), ("new", NEW)):
            pki = rotation.phases[phase].pki
            out.append(Client(f"{label} {role}", label, pki.file(cert), pki.file(key)))
    out.append(Client("foreign kubelet", "foreign", rotation.foreign.cert, rotation.foreign.key))
    return out


def own_client(phase: Phase, pair: tuple[str, str]) -> Client:
    """The client pair a phase hands out (accepted by that phase's servers)."""
    return Client(
        f"{phase.name} {pair[0]}", SIGNER[phase.name], phase.pki.file(pair[0]), phase.pki.file(pair[1])
    )


def accepted(phase: str, signer: str) -> bool:
    return signer in EXPECTED_TRUST[phase]


class Tally:
    """Connections tried and refused, per consumer and phase (shown in the test's report)."""

    def __init__(self, request, consumer: str):
        self.request, self.consumer, self.counts = request, consumer, {}

    def add(self, phase: str, refused: bool) -> None:
        tried, ref = self.counts.get(phase, (0, 0))
        self.counts[phase] = (tried + 1, ref + int(refused))

    def report(self) -> None:
        text = ", ".join(f"{p}: {t} tried/{r} refused" for p, (t, r) in self.counts.items())
        self.request.node.user_properties.append((self.consumer, text))
        print(f"{self.consumer}: {text}")


# --- the generated flavor: what the three applies hand out ---------------------------------------------


def test_the_generated_flavor_rotates_in_three_applies(rotation):
    p = rotation.phases
    old, new = rotation.ca("old"), rotation.ca("new")
    assert fingerprint(old) != fingerprint(new)
    assert old.subject == new.subject, "the rotation's CAs should share the kube CA's name"
    assert rotation.foreign.ca.subject == old.subject  # so only a signature check refuses it
    by_name = {"old": fingerprint(old), "new": fingerprint(new)}
    for name in PHASES:
        values = p[name].values
        expected = [by_name[w] for w in EXPECTED_TRUST[name]]
        for output in KUBE_BUNDLES:
            assert [fingerprint(c) for c in certs(values[output])] == expected, f"{name}: {output}"
        signer = by_name[SIGNER[name]]
        assert [fingerprint(c) for c in certs(values["kube_certs_signing_ca_cert_pem"])] == [signer], name
        state = values["kube_certs_ca_rotation"]
        assert state["phase"] == ("finish" if name == "initial" else name), state
        assert state["generation"] == (0 if name == "initial" else 1), state
        assert (state["signing_ca"], state["trusted_cas"]) == (signer, expected), f"{name}: {state}"
        kube = values["certificates"]["kube_certs"]
        assert kube["ca"]["sha256_fingerprint"] == signer, name
        for leaf in ("apiserver", "kubelet"):
            assert kube[leaf]["chains_to"] == "ca", f"{name}: {leaf} chains_to {kube[leaf]['chains_to']!r}"
        signing_ca = old if SIGNER[name] == "old" else new
        for output in LEAVES:
            certs(values[output])[0].verify_directly_issued_by(signing_ca)
    leaves = {name: {o: p[name].values[o] for o in LEAVES} for name in PHASES}
    assert leaves["trust"] == leaves["initial"], "trust re-issued leaves"
    assert all(leaves["reissue"][o] != leaves["trust"][o] for o in LEAVES), "reissue kept a leaf"
    assert leaves["finish"] == leaves["reissue"], "finish re-issued leaves"

    skip = rotation.skip_plan
    assert skip.returncode == 1 and "TFEXT-E055" in skip.output, f"skipping trust: {skip.output[-2000:]}"
    rotation.scan.assert_clean(rotation.steps)


# --- nginx --------------------------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    server {{
        listen {host}:{port} ssl;
        server_name {server_name};
        ssl_certificate {live}/ingress.crt;
        ssl_certificate_key {live}/ingress.key;
        ssl_client_certificate {live}/client-ca.crt;
        ssl_verify_client on;
        location / {{
            default_type text/plain;
            return 200 "phase {phase} $ssl_client_s_dn\\n";
        }}
    }}
}}
"""
VERIFY_ERROR = "client SSL certificate verify error"


class Nginx:
    """One nginx (master and one worker) for the whole rotation: each phase's files are copied over the
    live ones, the config names the phase, and `nginx -s reload` applies it (the runbook's order)."""

    def __init__(self, services: Services, root: Path):
        self.services, self.root = services, root
        self.live = root / "live"
        self.live.mkdir(parents=True)
        self.conf, self.error_log = root / "nginx.conf", root / "error.log"
        services.add_log("nginx error.log", self.error_log)
        self.port: int | None = None
        self.service = None
        self.reloads = 0

    def _cmd(self, *extra: str) -> list[str]:
        return [
            require("nginx"),
            "-p",
            str(self.root),
            "-c",
            str(self.conf),
            "-e",
            str(self.error_log),
            *extra,
        ]

    def _write(self, phase: str, port: int) -> None:
        self.conf.write_text(
            NGINX_CONF.format(
                root=self.root,
                live=self.live,
                host=LOOPBACK,
                port=port,
                server_name=CONSOLE_HOST,
                phase=phase,
            )
        )

    def deploy(self, phase: Phase, probe: Client) -> None:
        key = self.live / "ingress.key"
        key.touch(mode=0o600)
        shutil.copyfile(phase.pki.file("ingress_certs_key_pem"), key)
        shutil.copyfile(phase.pki.file("ingress_certs_cert_pem"), self.live / "ingress.crt")
        shutil.copyfile(phase.pki.file("ingress_certs_ca_cert_pem"), self.live / "client-ca.crt")
        if self.service is None:
            self._start(phase.name)
        else:
            self._write(phase.name, self.port)
            proc = run(self._cmd("-s", "reload"), timeout=30)
            assert proc.returncode == 0, describe(proc)
            self.reloads += 1
            # the reload is done when the old worker (one per reload) has exited: then only new ones accept
            wait_until(
                lambda: len(re.findall(r"worker process \d+ exited", self.log_text())) >= self.reloads,
                timeout=20,
                what=f"nginx's old worker to exit after reload #{self.reloads}",
                services=[self.service],
            )
        # and it answers with the new phase's name
        wait_until(
            lambda: fetch(self.port, probe, ca=phase.pki.file("ingress_certs_ca_cert_pem"))[1].startswith(
                f"phase {phase.name} "
            ),
            timeout=20,
            what=f"nginx to serve phase {phase.name}",
            services=[self.service],
        )

    def _start(self, phase: str) -> None:
        for attempt in range(3):  # another program may take the free port before nginx binds it
            port = free_ports(1)[0]
            self._write(phase, port)
            service = self.services.start("nginx", self._cmd("-g", "daemon off;"), cwd=self.root)
            try:
                wait_for_port(service, LOOPBACK, port)
                self.port, self.service = port, service
                return
            except AssertionError:
                service.stop()
                text = self.error_log.read_text(errors="replace") if self.error_log.exists() else ""
                if attempt == 2 or "Address already in use" not in text:
                    raise

    def log_text(self) -> str:
        return self.error_log.read_text(errors="replace")

    def verify_errors(self) -> int:
        return self.log_text().count(VERIFY_ERROR)


def fetch(port: int, client: Client, *, ca: Path) -> tuple[int, str]:
    """GET / by the console's name with a client certificate, trusting only `ca` (Python's ssl)."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(client.cert), str(client.key))
    with (
        socket.create_connection((LOOPBACK, port), timeout=CALL_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=CONSOLE_HOST) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.0\r\nHost: {CONSOLE_HOST}\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode(errors="replace")


def test_nginx_mutual_tls_through_the_rotation(rotation, services, tmp_path, request):
    nginx = Nginx(services, tmp_path / "nginx")
    tally = Tally(request, f"nginx {rotation.algorithm}")
    for name in PHASES:
        phase = rotation.phases[name]
        bundle = phase.pki.file("ingress_certs_ca_cert_pem")
        nginx.deploy(phase, own_client(phase, KUBELET))
        for client in clients(rotation, KUBELET, IDENTITY_CLIENT):
            before = nginx.verify_errors()
            start = time.monotonic()
            status, body = fetch(nginx.port, client, ca=bundle)
            if accepted(name, client.signer):
                assert status == 200 and body.startswith(f"phase {name} CN="), (
                    f"{name}: {client.label}: {status}"
                )
                tally.add(name, False)
            else:
                assert status == 400 and "The SSL certificate error" in body, (
                    f"{name}: {client.label}: {status}"
                )
                assert time.monotonic() - start < REFUSAL_WITHIN
                wait_until(lambda b=before: nginx.verify_errors() > b, timeout=5, what="nginx's verify error")
                tally.add(name, True)
        # the server as seen by clients trusting any phase's bundle
        probe = own_client(phase, KUBELET)
        for other in PHASES:
            ca = rotation.phases[other].pki.file("ingress_certs_ca_cert_pem")
            if accepted(other, SIGNER[name]):
                assert fetch(nginx.port, probe, ca=ca)[0] == 200, f"server {name}, client trusting {other}"
                tally.add(name, False)
            else:
                with pytest.raises(ssl.SSLCertVerificationError):
                    fetch(nginx.port, probe, ca=ca)
                tally.add(name, True)
    assert nginx.service.alive()
    tally.report()


# --- gRPC (identity) ----------------------------------------------------------------------------------

METHOD = "/tectonic.identity.Interop/WhoAmI"


def _who_am_i(request: bytes, context) -> bytes:
    return b"hello " + context.auth_context().get("x509_common_name", [b""])[0]


def grpc_server(phase: Phase):
    handler = grpc.method_handlers_generic_handler(
        "tectonic.identity.Interop", {"WhoAmI": grpc.unary_unary_rpc_method_handler(_who_am_i)}
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    credentials = grpc.ssl_server_credentials(
        [(phase.pki.pem("identity_certs_server_key_pem"), phase.pki.pem("identity_certs_server_cert_pem"))],
        root_certificates=phase.pki.pem("identity_certs_ca_cert_pem"),
        require_client_auth=True,
    )
    port = server.add_secure_port(f"{LOOPBACK}:0", credentials)
    assert port, "grpc could not bind a loopback port"
    server.start()
    return server, port


def grpc_call(port: int, client: Client, *, roots: bytes) -> bytes:
    cert, key = client.pem_pair()
    credentials = grpc.ssl_channel_credentials(
        root_certificates=roots, private_key=key, certificate_chain=cert
    )
    options = [("grpc.ssl_target_name_override", IDENTITY_NAMES[0]), ("grpc.use_local_subchannel_pool", 1)]
    with grpc.secure_channel(f"{LOOPBACK}:{port}", credentials, options=options) as channel:
        return channel.unary_unary(METHOD)(b"", timeout=CALL_TIMEOUT)


def grpc_refused(port: int, client: Client, *, roots: bytes, what: str) -> None:
    start = time.monotonic()
    with pytest.raises(grpc.RpcError) as refused:
        grpc_call(port, client, roots=roots)
    elapsed = time.monotonic() - start
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, f"{what}: {refused.value.details()}"
    assert elapsed < REFUSAL_WITHIN, f"{what}: refused only after {elapsed:.1f}s"


def test_grpc_mutual_tls_through_the_rotation(rotation, request):
    tally = Tally(request, f"grpc {rotation.algorithm}")
    for name in PHASES:
        phase = rotation.phases[name]
        roots = phase.pki.pem("identity_certs_ca_cert_pem")
        server, port = grpc_server(phase)  # dex restarts with the new files
        try:
            for client in clients(rotation, IDENTITY_CLIENT):
                what = f"{name}: {client.label}"
                if accepted(name, client.signer):
                    assert grpc_call(port, client, roots=roots) == b"hello " + IDENTITY_NAMES[0].encode(), (
                        what
                    )
                else:
                    grpc_refused(port, client, roots=roots, what=what)
                tally.add(name, not accepted(name, client.signer))
            probe = own_client(phase, IDENTITY_CLIENT)
            for other in PHASES:
                roots_other = rotation.phases[other].pki.pem("identity_certs_ca_cert_pem")
                what = f"server {name}, client trusting {other}"
                if accepted(other, SIGNER[name]):
                    assert grpc_call(port, probe, roots=roots_other).startswith(b"hello "), what
                else:
                    grpc_refused(port, probe, roots=roots_other, what=what)
                tally.add(name, not accepted(other, SIGNER[name]))
        finally:
            server.stop(grace=None).wait(10)
    tally.report()


# --- kubectl against the apiserver stand-in -----------------------------------------------------------


def test_kubectl_through_the_rotation(rotation, tmp_path, request):
    require("kubectl")
    tally = Tally(request, f"kubectl {rotation.algorithm}")
    for name in PHASES:
        phase = rotation.phases[name]
        bundle = phase.pki.file("kube_certs_ca_cert_pem")
        cert, key = (
            phase.pki.file("kube_certs_apiserver_cert_pem"),
            phase.pki.file("kube_certs_apiserver_key_pem"),
        )
        with serve_tls(cert, key, bundle) as api:  # kube-apiserver restarted with the new files

            def get(config: Path):
                start = time.monotonic()
                proc = kubectl(
                    config, "--tls-server-name=kubernetes", "get", "--raw", "/whoami", home=tmp_path
                )
                return proc, time.monotonic() - start

            for client in clients(rotation, KUBELET):
                what = f"{name}: {client.label}"
                config = write_kubeconfig(
                    tmp_path / f"{name}-{client.signer}",
                    server=api.url,
                    ca=bundle.read_bytes(),
                    user=client.pem_pair(),
                )
                before = len(api.handshake_errors)
                proc, elapsed = get(config)
                if accepted(name, client.signer):
                    assert proc.returncode == 0, f"{what}: {describe(proc)}"
                    assert json.loads(proc.stdout) == {"cn": "kubelet", "o": ["system:masters"]}, what
                else:
                    assert proc.returncode != 0, f"{what} was served: {describe(proc)}"
                    # Go sees the server's alert, or (it may write first) the reset that follows it
                    assert any(e in proc.stderr for e in SERVER_REFUSED), f"{what}: {describe(proc)}"
                    assert elapsed < REFUSAL_WITHIN + 5, f"{what}: refused after {elapsed:.1f}s"
                    server_saw(api, "CERTIFICATE_VERIFY_FAILED", before)
                tally.add(name, not accepted(name, client.signer))
            # kubeconfigs of every phase against this phase's apiserver
            probe = own_client(phase, KUBELET)
            for other in PHASES:
                if other == name:
                    continue
                what = f"apiserver {name}, kubeconfig of {other}"
                config = write_kubeconfig(
                    tmp_path / f"{name}-ca-{other}",
                    server=api.url,
                    ca=rotation.phases[other].pki.pem("kube_certs_ca_cert_pem"),
                    user=probe.pem_pair(),
                )
                before = len(api.handshake_errors)
                proc, elapsed = get(config)
                if accepted(other, SIGNER[name]):
                    assert proc.returncode == 0, f"{what}: {describe(proc)}"
                else:
                    assert proc.returncode != 0, f"{what}: {describe(proc)}"
                    assert "x509: certificate signed by unknown authority" in proc.stderr, (
                        f"{what}: {describe(proc)}"
                    )
                    server_saw(api, ALERT_FROM_CLIENT, before)
                tally.add(name, not accepted(other, SIGNER[name]))
            peers = {(p.common_name, p.organizations) for p in api.peers}
            assert peers == {("kubelet", ("system:masters",))}, f"{name}: the apiserver served {peers}"
    tally.report()


# --- the user-provided flavor over each phase's files -------------------------------------------------

# A wrong phase for each phase's files, and what TFEXT-E057 must say about it.
WRONG_PHASES = {
    "initial": (("trust", "holds one CA, but phase trust needs a bundle of two"),),
    "trust": (
        ("reissue", "the CA key is the outgoing CA's (key id"),
        ("finish", "holds two CAs, but phase finish trusts only the incoming one"),
    ),
    "reissue": (("trust", "the CA key is the incoming CA's (key id"),),
    "finish": (("reissue", "holds one CA, but phase reissue needs a bundle of two"),),
}
# trust's leaves next to reissue's CA files: the leaves were not copied after the reissue apply
STALE_LEAVES = ("apiserver", "kubelet", "identity-server", "identity-client", "ingress")


def refused_at_plan(tf: Terraform, args: tuple[str, ...], phase: str, reason: str, what: str) -> object:
    plan = tf.plan(*args, *rotation_var(phase))
    text = " ".join(plan.output.split())  # Terraform wraps the message
    assert plan.returncode == 1, f"{what}: exit {plan.returncode}: {plan.output[-2000:]}"
    assert "TFEXT-E057" in text and reason in text, f"{what}: {plan.output[-2000:]}"
    return plan


COMPARED = (*sorted(LAYOUT), "kube_certs_signing_ca_cert_pem")


def test_user_provided_flavor_follows_each_phase(rotation, tf_config, tmp_path):
    work = copy_example("tectonic-user-provided", tmp_path / "tectonic-user-provided")
    tf = Terraform(work, tf_config, timeout=TERRAFORM_TIMEOUT)
    steps = [("init", tf.init())]
    live = tmp_path / "tls"  # one asset directory, rewritten in place at each phase
    scan = KeyScan()
    scan.lines |= rotation.scan.lines
    mismatches: set[tuple[str, str]] = set()
    for name in PHASES:
        generated = rotation.phases[name]
        write_assets(generated.raw, live)
        args = (*COMMON_VARS, "-var", f"tls_dir={live}")
        for wrong, reason in WRONG_PHASES[name]:
            what = f"{name} files as {wrong}"
            steps.append((what, refused_at_plan(tf, args, wrong, reason, what)))
        if name == "reissue":
            stale = tmp_path / "stale-leaves"
            write_assets(generated.raw, stale)
            for leaf in STALE_LEAVES:
                for ext in (".crt", ".key"):
                    shutil.copyfile(
                        rotation.phases["trust"].pki.directory / f"{leaf}{ext}", stale / f"{leaf}{ext}"
                    )
            what = "reissue CA files with trust's leaves"
            reason = (
                "is signed by the outgoing CA, but in phase reissue every leaf is signed by the incoming CA"
            )
            stale_args = (*COMMON_VARS, "-var", f"tls_dir={stale}")
            steps.append((what, refused_at_plan(tf, stale_args, "reissue", reason, what)))
        steps.append((f"apply {name}", tf.apply(*args, *phase_var(name))))
        values = tf.outputs()
        scan.learn(values)
        for output in COMPARED:
            if values[output] != generated.values[output]:  # names only: some are keys
                mismatches.add((name, output))
        for output in KUBE_BUNDLES:
            assert {fingerprint(c) for c in certs(values[output])} == {
                fingerprint(c) for c in generated.bundle(output)
            }, f"{name}: {output} trusts other CAs than the generated flavor's"
        ours, theirs = values["kube_certs_ca_rotation"], generated.values["kube_certs_ca_rotation"]
        for item in ("phase", "signing_ca", "trusted_cas"):
            assert ours[item] == theirs[item], f"{name}: ca_rotation.{item}: {ours[item]} != {theirs[item]}"
        for module, leaf in (
            ("kube_certs", "apiserver"),
            ("kube_certs", "kubelet"),
            ("identity_certs", "server"),
            ("identity_certs", "client"),
            ("ingress_certs", "ingress"),
        ):
            a, b = values["certificates"][module][leaf], generated.values["certificates"][module][leaf]
            assert a["sha256_fingerprint"] == b["sha256_fingerprint"], f"{name}: {module}.{leaf}"
    scan.assert_clean(steps)
    assert not mismatches, f"user-provided outputs differ from the generated ones: {sorted(mismatches)}"
