"""The etcd CA rotated under a real three-member etcd cluster (mutual TLS for clients and peers), with a
writer that never pauses, by the three `terraform apply`s of docs/ca-rotation.md and its runbook:

- generation 0 (the example as applied first): the cluster starts, the writer starts;
- trust: the two-CA bundle goes to every member's --trusted-ca-file and --peer-trusted-ca-file, then a
  rolling restart (etcd reads CA files only at start, etcd#11555); the writer gets the bundle;
- reissue: every member's server and peer cert/key files are replaced in place, WITHOUT a restart: etcd
  loads its leaf files again on every new handshake, and the test shows it (each member serves the new
  serial on its client and peer ports at once, the writer loses no write, the peers keep quorum, and
  after finish, when only the new CA is trusted, no member logs a refused peer: the members dial each
  other with the replaced peer files too). So the restart the runbook calls "the safe choice" after
  reissue was not needed (etcd 3.4.23); the writer gets the new client cert;
- finish: the single new CA goes to the trust files, then a rolling restart.

Proven at each step: no write fails beyond a bounded retry (RETRY_BUDGET, 1 s) and every acknowledged
key is read back through every member at the end; in the mid-phase states a client with the previous
phase's client cert and one with the new phase's both connect (etcdctl, gRPC); a client cert signed by
neither CA is refused in every phase and the old CA's client cert after finish, both by TLS (an alert,
quickly, and etcd logs the x509 reason), not by a timeout. Every terraform command's output is scanned
for key text (test_state_layer's KeyScan), and the bundles are checked against an oracle kept here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from harness import Result, Terraform, copy_example, require

from ._pki import ALGORITHMS, COMMON_VARS, TERRAFORM_TIMEOUT, write_assets
from ._procs import describe
from ._rotation import (
    BUNDLE_FILE,
    RETRY_BUDGET,
    Client,
    Cluster,
    KeyScan,
    Member,
    Writer,
    etcdctl,
    make_foreign_client,
    probe,
    read_prefix,
    served_serial,
    tls_complaints,
)

pytestmark = pytest.mark.interop

LEAVES = ("server", "peer", "client")
# etcd's log when it refuses a client certificate (Go crypto/tls + x509), and the alerts a client sees
REFUSED_IN_LOG = ("x509: certificate signed by unknown authority",)
REFUSED_ALERTS = ("ALERT_BAD_CERTIFICATE", "ALERT_UNKNOWN_CA", "ALERT_CERTIFICATE_UNKNOWN")
REFUSAL_SECONDS = 3.0  # a TLS refusal is an alert within a round trip; a timeout would take longer


def rotation_var(generation: int, phase: str) -> tuple[str, str]:
    return ("-var", f'etcd_ca_rotation={{generation={generation}, phase="{phase}"}}')


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


@dataclass
class Phase:
    name: str
    values: dict = field(repr=False)
    assets: Path

    def bundle(self) -> list[x509.Certificate]:
        return x509.load_pem_x509_certificates(self.values["etcd_certs_etcd_ca_crt_pem"].encode())

    def leaf(self, name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.values[f"etcd_certs_etcd_{name}_crt_pem"].encode())

    def serials(self) -> dict[str, int]:
        return {name: self.leaf(name).serial_number for name in LEAVES}

    def client(self, ca_from: Phase | None = None) -> Client:
        """This phase's client pair, verifying servers with `ca_from`'s bundle (default: this phase's)."""
        return Client(
            f"client cert of {self.name}",
            (ca_from or self).assets / BUNDLE_FILE,
            self.assets / "etcd-client.crt",
            self.assets / "etcd-client.key",
        )


@dataclass
class Run:
    """The Terraform side: one working copy of the example, every command's output kept for the scan."""

    tf: Terraform
    root: Path
    base_vars: tuple[str, ...]
    scan: KeyScan = field(default_factory=KeyScan)
    steps: list[tuple[str, Result]] = field(default_factory=list, repr=False)
    seconds: float = 0.0

    def apply(self, name: str, generation: int, phase: str) -> Phase:
        start = time.monotonic()
        self.steps.append((f"apply {name}", self.tf.apply(*self.base_vars, *rotation_var(generation, phase))))
        # `output -json` is where the keys come from: the one command left out of the scan
        raw = self.tf.run("output", "-json").stdout
        values = {k: v["value"] for k, v in json.loads(raw).items()}
        self.scan.learn_values(values)
        assets = self.root / f"tls-{name}"
        write_assets(
            raw, assets
        )  # the files, as the runbook says: terraform output -json | tfext write-assets
        assert (assets / BUNDLE_FILE).read_text() == values["etcd_certs_etcd_ca_crt_pem"], (
            f"{name}: {BUNDLE_FILE} is not the bundle output"
        )
        self.seconds += time.monotonic() - start
        return Phase(name, values, assets)


def check_phase_outputs(phase: Phase, expected_trust: list[str], signer: str, cas: dict[str, str]) -> None:
    """The oracle: which CAs the bundle holds in which order, which CA signs, and what the rotation
    outputs say. `cas` maps "old"/"new" to fingerprints."""
    got = [fingerprint(c) for c in phase.bundle()]
    assert got == [cas[w] for w in expected_trust], f"{phase.name}: bundle is not {expected_trust}"
    signing = x509.load_pem_x509_certificate(phase.values["etcd_certs_etcd_signing_ca_crt_pem"].encode())
    assert fingerprint(signing) == cas[signer], f"{phase.name}: signing CA is not the {signer} one"
    rotation = phase.values["etcd_certs_ca_rotation"]
    assert rotation["signing_ca"] == cas[signer] and rotation["trusted_cas"] == got, phase.name
    facts = phase.values["certificates"]["etcd_certs"]
    for name in LEAVES:
        phase.leaf(name).verify_directly_issued_by(signing)
        assert facts[name]["chains_to"] == "ca", f"{phase.name}: {name} chains_to {facts[name]['chains_to']}"
        assert int(facts[name]["serial"], 16) == phase.leaf(name).serial_number


def etcdctl_health(cluster: Cluster, client: Client) -> None:
    """etcdctl (gRPC, Go's TLS) with `client`'s files reaches all three members and reads through one."""
    health = etcdctl(cluster.urls, client, "endpoint", "health")
    healthy = (health.stdout + health.stderr).count("is healthy")  # etcdctl 3.4 prints health on stderr
    assert health.returncode == 0 and healthy == 3, f"{client.label}: {describe(health)}"
    got = etcdctl(cluster.urls[:1], client, "get", "--prefix", "--keys-only", "--limit=1", "rot/")
    assert got.returncode == 0 and got.stdout.startswith("rot/"), f"{client.label}: {describe(got)}"


def assert_refused(cluster: Cluster, client: Client, when: str) -> None:
    """Every member refuses `client` in TLS, quickly, and logs the x509 reason: so it was the certificate,
    not a closed port, a timeout or an HTTP error. With TLS 1.2 the refusal is inside the handshake and
    the client always reads etcd's alert; with TLS 1.3 (what etcdctl and the writer use) the server checks
    the client certificate after the client's side of the handshake is done, so the client reads the
    alert or, if etcd closed first, a TLS EOF; either way no HTTP answer."""
    for member in cluster.members:
        mark = len(member.service.log_text())
        handshake = probe(member, client, tls12=True)
        assert handshake.kind == "tls" and any(a in handshake.detail for a in REFUSED_ALERTS), (
            f"{when}: {member.name} did not refuse the {client.label} client in the TLS 1.2 handshake: "
            f"{handshake}"
        )
        first_read = probe(member, client)
        assert first_read.kind == "tls", (
            f"{when}: {member.name}, TLS 1.3, {client.label} client: {first_read}"
        )
        slowest = max(handshake.seconds, first_read.seconds)
        assert slowest < REFUSAL_SECONDS, f"{when}: a refusal took {slowest:.1f}s"
        wait_for_log(member, mark, when, client.label, count=2)


def assert_no_complaints(cluster: Cluster, when: str) -> None:
    """No member's current process complained about TLS (peers, writer, etcdctl, its own gateway)."""
    for member in cluster.members:
        found = tls_complaints(member)
        assert not found, f"{when}: {member.name} logged TLS complaints:\n" + "\n".join(found[:5])


def wait_for_log(member: Member, mark: int, when: str, what: str, count: int) -> None:
    """Wait until `member` logged `count` x509 rejections of a client certificate after offset `mark`."""
    deadline = time.monotonic() + 10
    while True:
        lines = member.service.log_text()[mark:].splitlines()
        found = [
            ln
            for ln in lines
            if "rejected connection" in ln
            and "failed to verify client certificate" in ln
            and any(r in ln for r in REFUSED_IN_LOG)
        ]
        if len(found) >= count:
            return
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"{when}: {member.name} logged {len(found)} x509 rejections of the {what} client, not {count}"
            )
        time.sleep(0.1)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_etcd_ca_rotation_under_a_writer_that_never_pauses(algorithm, tf_config, services, tmp_path):
    for tool in ("terraform", "etcd", "etcdctl"):
        require(tool)
    started = time.monotonic()
    work = copy_example("tectonic", tmp_path / "tectonic")
    run = Run(
        Terraform(work, tf_config, timeout=TERRAFORM_TIMEOUT),
        tmp_path,
        (*COMMON_VARS, "-var", f"key_algorithm={algorithm}"),
    )
    run.steps.append(("init", run.tf.init()))
    initial = run.apply("initial", 0, "finish")

    cluster = Cluster(services, tmp_path / "cluster")
    cluster.start(initial.assets, initial.client())
    foreign = make_foreign_client(tmp_path / "foreign", algorithm, initial.assets / BUNDLE_FILE)
    writer = Writer(cluster.members, f"rot/{algorithm}/", initial.client())
    writer.start()
    restarts: list[float] = []
    try:
        etcdctl_health(cluster, initial.client())
        assert_refused(cluster, foreign, "generation 0")

        # 1. trust: the bundle [old, new]; leaves unchanged
        writer.phase = "trust"
        trust = run.apply("trust", 1, "trust")
        cas = {"old": fingerprint(initial.bundle()[0]), "new": fingerprint(trust.bundle()[-1])}
        assert len(initial.bundle()) == 1 and cas["old"] != cas["new"]
        check_phase_outputs(trust, ["old", "new"], "old", cas)
        assert trust.serials() == initial.serials(), "trust re-issued a leaf"
        assert "ca_incoming" in trust.values["certificates"]["etcd_certs"]
        writer.use(trust.client())  # consumers get the bundle (their client cert is unchanged)
        for member in cluster.members:
            cluster.install(member, trust.assets, leaves=False)
        writer.phase = "trust: rolling restart"
        restarts += cluster.rolling_restart(trust.client())
        writer.phase = "trust"
        assert_no_complaints(cluster, "after trust's rolling restart")
        # the state after trust: the old-phase client (generation 0's files) and the trust phase's
        etcdctl_health(cluster, initial.client())
        etcdctl_health(cluster, trust.client())
        assert_refused(cluster, foreign.trusting(trust.assets / BUNDLE_FILE), "trust")

        # 2. reissue: the bundle [new, old]; every leaf from the new CA
        writer.phase = "reissue"
        reissue = run.apply("reissue", 1, "reissue")
        check_phase_outputs(reissue, ["new", "old"], "new", cas)
        assert all(reissue.serials()[n] != trust.serials()[n] for n in LEAVES), "reissue kept a leaf"
        assert "ca_outgoing" in reissue.values["certificates"]["etcd_certs"]
        # The members still run trust's files: they already take a client cert of the NEW CA (the point
        # of trust), the one client cert trust cannot hand out.
        etcdctl_health(cluster, reissue.client())
        writer.use(reissue.client())
        marks = [len(m.service.log_text()) for m in cluster.members]
        writer.phase = "reissue: leaf files replaced"
        for member in cluster.members:
            cluster.install(member, reissue.assets, trust=False)
            # no restart: the next handshakes already show the new server and peer certs
            assert served_serial(member.client_port, reissue.client()) == reissue.serials()["server"]
            peer = Client(
                "peer", reissue.assets / BUNDLE_FILE, member.file("peer.crt"), member.file("peer.key")
            )
            assert served_serial(member.peer_port, peer) == reissue.serials()["peer"]
        # the state after reissue: trust's client (old CA) and reissue's (new CA) both connect
        etcdctl_health(cluster, trust.client(ca_from=reissue))
        etcdctl_health(cluster, reissue.client())
        # A handshake between the cert's and the key's rename sees a pair that does not match (two files
        # cannot be replaced at once); that is counted, not failed: the writer's retry covers it.
        reissue_complaints = sum(
            len(tls_complaints(m, k)) for m, k in zip(cluster.members, marks, strict=True)
        )
        writer.phase = "reissue"
        assert_refused(cluster, foreign.trusting(reissue.assets / BUNDLE_FILE), "reissue")

        # 3. finish: only the new CA; leaves unchanged
        writer.phase = "finish"
        finish = run.apply("finish", 1, "finish")
        check_phase_outputs(finish, ["new"], "new", cas)
        assert finish.serials() == reissue.serials(), "finish re-issued a leaf"
        facts = finish.values["certificates"]["etcd_certs"]
        assert "ca_outgoing" not in facts and "ca_incoming" not in facts
        writer.use(finish.client())
        for member in cluster.members:
            cluster.install(member, finish.assets, leaves=False)
        writer.phase = "finish: rolling restart"
        restarts += cluster.rolling_restart(finish.client())
        writer.phase = "finish"
        etcdctl_health(cluster, finish.client())
        # Only the new CA is trusted now, by every member's peer listener too: the members' peers dial
        # with the peer cert files replaced at reissue (etcd loads them per dial), or they would be
        # refused here and logged.
        assert_no_complaints(cluster, "after finish's rolling restart")
        # generation 0's client cert (old CA), verifying the servers with the new CA: etcd must refuse it
        old_client = initial.client(ca_from=finish)
        assert_refused(cluster, old_client, "finish")
        assert_refused(cluster, foreign.trusting(finish.assets / BUNDLE_FILE), "finish")
        writer.phase = "done"
        time.sleep(0.5)
    finally:
        stats = writer.stop()

    # every acknowledged write is there, through every member
    for member in cluster.members:
        kvs = read_prefix(member, writer.prefix, finish.client())
        missing = [k for k in writer.written if kvs.get(k) != writer.written[k]]
        assert not missing, (
            f"{len(missing)} acknowledged keys missing through {member.name}, e.g. {missing[:3]}"
        )
    assert stats.failed == 0, f"writes failed beyond the {RETRY_BUDGET}s retry: {stats.summary()}"
    during = {"trust", "trust: rolling restart", "reissue", "reissue: leaf files replaced", "finish"}
    assert stats.by_phase.keys() >= during | {"finish: rolling restart"}, stats.summary()

    for step, result in run.steps:  # init and every apply: stdout and stderr
        run.scan.assert_clean(step, result.output)  # key headers and every key's base64 lines
        assert "PRIVATE KEY" not in result.output, f"{step}: 'PRIVATE KEY' in Terraform's output"
    scanned = len(run.steps)
    elapsed = time.monotonic() - started
    print(
        f"\n[{algorithm}] {stats.summary()} restarts={[round(s, 2) for s in restarts]} "
        f"tls_complaints_while_replacing_leaves={reissue_complaints} "
        f"terraform={run.seconds:.1f}s total={elapsed:.1f}s scanned_commands={scanned}"
    )
