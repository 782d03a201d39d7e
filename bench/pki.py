"""The Tectonic PKI three ways: our programs (as Terraform runs them), a cfssl script, an openssl script.

What we generate, and so what every peer generates: 2 CAs (etcd, kube - Tectonic's ingress CA *is* the
kube CA) and 8 leaves (etcd server/peer/client, apiserver, kubelet, identity server/client, ingress), for
the defaults of terraform/examples/tectonic. Subjects, SANs, EKUs, CA flags and validity come from
tfext's own role profiles (`tfext.profiles`, through the same query parsing the programs use), so the
peer scripts cannot drift from what we issue; `compare` checks the results after the fact.

Our programs are run as the example's data sources run: one process per data source, the two CA stages
in parallel, then the four leaf stages in parallel, each with the query the HCL builds (see the
`query` arguments of terraform/modules/tls/*/self-signed/main.tf and etcd/signed/main.tf).
The peer scripts have the same shape: both CAs at once, then every leaf at once.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from timing import Completed, Sample, run, run_parallel

from tfext.profiles import Inputs
from tfext.programs import MODULES
from tfext.programs.inputs import certificate_inputs

# terraform/examples/tectonic/cluster.tf and variables.tf defaults, and the locals main.tf derives from them.
CLUSTER_NAME = "demo"
BASE_DOMAIN = "example.com"
SERVICE_CIDR = "10.3.0.0/16"
VALIDITY_HOURS = 26280
IDENTITY_DNS_NAMES = [  # terraform/modules/tls/identity/self-signed/variables.tf.json default
    "tectonic-identity-api.tectonic-system.svc",
    "tectonic-identity-api.tectonic-system.svc.cluster.local",
]
PLAN_TIME = "2026-01-01T00:00:00Z"
EARLIER = "2025-12-31T23:00:00Z"  # an `issued_at` of an earlier plan: the no-change plan's query

# program of each data source; CA stages first
CA_STAGES = {"etcd": "etcd-signed", "kube": "kube-self-signed"}
LEAF_STAGES = {
    "etcd": "etcd-signed",
    "kube": "kube-self-signed",
    "identity": "identity-self-signed",
    "ingress": "ingress-self-signed",
}
SIGNER = {"etcd": "etcd", "kube": "kube", "identity": "kube", "ingress": "kube"}


def compact(value: object) -> str:
    """HCL's jsonencode."""
    return json.dumps(value, separators=(",", ":"))


def leaf_names(cluster: str = CLUSTER_NAME) -> dict[str, dict[str, str]]:
    """The name-shaping part of each leaf stage's query (module inputs of the example)."""
    etcd_names = [f"{cluster}-etcd-{i}.{BASE_DOMAIN}" for i in range(3)]
    return {
        "etcd": {"dns_names": compact(etcd_names), "ip_addresses": "[]", "service_cidr": SERVICE_CIDR},
        "kube": {
            "kube_apiserver_url": f"https://{cluster}-api.{BASE_DOMAIN}:443",
            "service_cidr": SERVICE_CIDR,
            "cluster_domain": "cluster.local",
            "dns_names": "[]",
            "ip_addresses": "[]",
        },
        "identity": {"identity_dns_names": compact(IDENTITY_DNS_NAMES)},
        "ingress": {"base_address": f"{cluster}.{BASE_DOMAIN}"},
    }


def issuing(key_algorithm: str) -> dict[str, str]:
    return {
        "validity_period": str(VALIDITY_HOURS),
        "key_algorithm": key_algorithm,
        "key_format": "traditional",
    }


def ca_query(module: str, key_algorithm: str) -> dict[str, str]:
    given = (
        {"ca_cert_path": "", "ca_key_path": ""} if module == "etcd" else {"ca_cert_pem": "", "ca_key_pem": ""}
    )
    return issuing(key_algorithm) | given | {"plan_time": PLAN_TIME, "ca_issued_at": PLAN_TIME}


def leaf_query(
    module: str, key_algorithm: str, ca: dict[str, str], issued_at: str = PLAN_TIME
) -> dict[str, str]:
    """A leaf stage's query; `issued_at` != PLAN_TIME gives the query of a no-change plan (placeholders)."""
    gates = {f"{slot.name}_issued_at": issued_at for slot in MODULES[module].leaves}
    signer = {"ca_cert_pem": ca["ca_cert_pem"], "ca_key_pem": ca["ca_key_pem"]}
    return issuing(key_algorithm) | leaf_names()[module] | signer | {"plan_time": PLAN_TIME} | gates


def query_bytes(query: dict[str, str]) -> bytes:
    """What the provider writes on stdin: compact JSON, keys sorted."""
    return json.dumps(query, separators=(",", ":"), sort_keys=True).encode()


def query_drift(state: dict) -> list[str]:
    """Where the queries this bench sends differ from those the example's data sources sent (read from its
    state after an apply): keys, and values other than times and CA material."""
    ours = {f"{m}-ca": ca_query(m, "RSA-2048") for m in CA_STAGES}
    ours |= {m: leaf_query(m, "RSA-2048", {"ca_cert_pem": "", "ca_key_pem": ""}) for m in LEAF_STAGES}
    volatile = ("plan_time", "ca_cert_pem", "ca_key_pem")
    problems = []
    for resource in state.get("resources", []):
        if resource["type"] != "external":
            continue
        path = resource.get("module", "")  # e.g. module.etcd_certs.module.ca[0]
        module = path.split(".")[1].removesuffix("_certs") if path.count(".") >= 1 else ""
        stage = f"{module}-ca" if ".module.ca" in path else module
        if stage not in ours:
            problems.append(f"unexpected data source {path}")
            continue
        if not resource["instances"]:  # not read in the last run (nothing to issue)
            continue
        theirs = resource["instances"][0]["attributes"]["query"]
        for key in sorted(set(theirs) | set(ours[stage])):
            both_gates = key.endswith("_issued_at") and key in theirs and key in ours[stage]
            if key in volatile or both_gates:
                continue
            if theirs.get(key) != ours[stage].get(key):
                problems.append(
                    f"{stage}: {key} is {theirs.get(key)!r} in the example, {ours[stage].get(key)!r} here"
                )
    return problems


# --- our programs --------------------------------------------------------------------------------------


def run_program(ctx, program: str, query: dict[str, str]) -> Completed:
    done = run([str(ctx.tfext), program], env=ctx.env, stdin=query_bytes(query), timeout=60)
    ctx.record_program(done.sample)
    return done.check(f"tfext {program}")


def run_ours(ctx, key_algorithm: str) -> tuple[Sample, dict[str, dict[str, str]]]:
    """The whole PKI through our programs: both CA stages at once, then the four leaf stages at once.
    Returns the measured sample and each stage's result (module -> result keys; CA stages as `<m>-ca`)."""
    ca_jobs = [lambda m=m: run_program(ctx, CA_STAGES[m], ca_query(m, key_algorithm)) for m in CA_STAGES]
    ca_done, ca_wall = run_parallel(ca_jobs)
    cas = {m: json.loads(d.stdout) for m, d in zip(CA_STAGES, ca_done, strict=True)}
    leaf_jobs = [
        lambda m=m: run_program(ctx, LEAF_STAGES[m], leaf_query(m, key_algorithm, cas[SIGNER[m]]))
        for m in LEAF_STAGES
    ]
    leaf_done, leaf_wall = run_parallel(leaf_jobs)
    results = {f"{m}-ca": cas[m] for m in cas} | {
        m: json.loads(d.stdout) for m, d in zip(LEAF_STAGES, leaf_done, strict=True)
    }
    stages = [Sample.combine_parallel([d.sample for d in ca_done], ca_wall)]
    stages.append(Sample.combine_parallel([d.sample for d in leaf_done], leaf_wall))
    return Sample.combine_serial(stages), results


KEYGEN_FLOOR = """
import sys, cryptography.x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
count, algorithm = int(sys.argv[1]), sys.argv[2]
for _ in range(count):
    if algorithm.startswith("RSA"):
        rsa.generate_private_key(65537, int(algorithm.split("-")[1]))
    else:
        ec.generate_private_key(ec.SECP256R1())
"""


def run_keygen_floor(ctx, key_algorithm: str) -> Sample:
    """The floor of our process model: the same processes in the same stages, each only importing
    cryptography.x509 and generating as many keys as its data source does - no tfext at all."""
    stages = [[1] * len(CA_STAGES), [len(MODULES[m].leaves) for m in LEAF_STAGES]]
    samples = []
    for counts in stages:
        jobs = [
            lambda n=n: run([str(ctx.python), "-c", KEYGEN_FLOOR, str(n), key_algorithm], env=ctx.env).check(
                "python keygen floor"
            )
            for n in counts
        ]
        done, wall = run_parallel(jobs)
        samples.append(Sample.combine_parallel([d.sample for d in done], wall))
    return Sample.combine_serial(samples)


def our_files(results: dict[str, dict[str, str]]) -> dict[str, tuple[str, str]]:
    """Certificate name (as in `cert_specs`) -> (cert PEM, key PEM) from `run_ours` results."""
    out = {}
    for module in CA_STAGES:
        out[f"{module}-ca"] = (results[f"{module}-ca"]["ca_cert_pem"], results[f"{module}-ca"]["ca_key_pem"])
    for module in LEAF_STAGES:
        for slot in MODULES[module].leaves:
            res = results[module]
            out[cert_name(module, slot.name)] = (res[f"{slot.name}_cert_pem"], res[f"{slot.name}_key_pem"])
    return out


# --- what every method must produce ---------------------------------------------------------------------


@dataclass(frozen=True)
class CertSpec:
    name: str  # file stem: etcd-ca, etcd-server, ..., ingress
    issuer: str | None  # name of the signing CA; None for a CA
    organization: str | None
    common_name: str
    dns: tuple[str, ...]
    ips: tuple[str, ...]
    server_auth: bool
    client_auth: bool
    is_ca: bool


def cert_name(module: str, slot: str) -> str:
    return module if slot == module else f"{module}-{slot}"


def cert_specs() -> list[CertSpec]:
    """The 10 certificates, from tfext's profiles and the example's inputs."""
    specs = []
    for module in CA_STAGES:
        p = MODULES[module].ca.profile
        cn = p.common_name(Inputs())
        specs.append(CertSpec(f"{module}-ca", None, p.organization, cn, (), (), False, False, True))
    names = leaf_names()
    for module in LEAF_STAGES:
        inputs = certificate_inputs(names[module], MODULES[module].service_hosts)
        for slot in MODULES[module].leaves:
            p = slot.profile
            sans = p.names(inputs)
            specs.append(
                CertSpec(
                    cert_name(module, slot.name),
                    f"{SIGNER[module]}-ca",
                    p.organization,
                    p.common_name(inputs),
                    sans.dns,
                    sans.ips,
                    p.server_auth,
                    p.client_auth,
                    False,
                )
            )
    return specs


# --- the peer scripts -----------------------------------------------------------------------------------

SCRIPT_HEAD = """#!/usr/bin/env bash
# Written by bench/pki.py: the tfext Tectonic PKI made with {tool}. Usage: {name} OUT_DIR
set -euo pipefail
conf={conf}
cd "$1"
"""

# Run a list of commands as one stage: all at once (each in the background), or one after another.
STAGE = """pids=()
{jobs}
for p in "${{pids[@]}}"; do wait "$p"; done
"""


def _stage(commands: list[str], parallel: bool) -> str:
    if not parallel:
        return "".join(f"{c}\n" for c in commands)
    return STAGE.format(jobs="\n".join(f"( {c} ) & pids+=($!)" for c in commands))


def _script(
    path: Path, tool: str, conf: Path, ca_cmds: list[str], leaf_cmds: list[str], parallel: bool
) -> Path:
    text = SCRIPT_HEAD.format(tool=tool, name=path.name, conf=shlex.quote(str(conf)))
    text += "# the CAs\n" + _stage(ca_cmds, parallel) + "# the leaves\n" + _stage(leaf_cmds, parallel)
    path.write_text(text)
    path.chmod(0o755)
    return path


def write_cfssl_script(directory: Path, key_algorithm: str, parallel: bool, cfssljson: str | None) -> Path:
    """`cfssl gencert` per certificate, piped to cfssljson (or to a Python splitter where it is missing)."""
    conf = directory / "cfssl-conf"
    conf.mkdir(exist_ok=True)
    rsa = key_algorithm.startswith("RSA")
    key = {"algo": "rsa", "size": int(key_algorithm.split("-")[1])} if rsa else {"algo": "ecdsa", "size": 256}
    base_usages = ["signing", "key encipherment"] if rsa else ["signing"]  # RFC 8813, as our profiles
    profiles = {}
    for server, client in ((True, False), (False, True), (True, True)):
        usages = base_usages + ["server auth"] * server + ["client auth"] * client
        profiles[_cfssl_profile(server, client)] = {"usages": usages, "expiry": f"{VALIDITY_HOURS}h"}
    (conf / "ca-config.json").write_text(json.dumps({"signing": {"profiles": profiles}}, indent=1))
    split = cfssljson or "python3 -c " + shlex.quote(
        "import json,sys; d=json.load(sys.stdin); n=sys.argv[2]; "
        "open(n+'.pem','w').write(d['cert']); open(n+'-key.pem','w').write(d['key'])"
    )
    ca_cmds, leaf_cmds = [], []
    for spec in cert_specs():
        csr = {"CN": spec.common_name, "key": key, "hosts": list(spec.dns + spec.ips)}
        if spec.organization:
            csr["names"] = [{"O": spec.organization}]
        if spec.is_ca:
            csr["ca"] = {"expiry": f"{VALIDITY_HOURS}h", "pathlen": 0, "pathlenzero": True}
        (conf / f"{spec.name}.json").write_text(json.dumps(csr, indent=1))
        if spec.is_ca:
            ca_cmds.append(f'cfssl gencert -initca "$conf/{spec.name}.json" | {split} -bare {spec.name}')
        else:
            profile = _cfssl_profile(spec.server_auth, spec.client_auth)
            leaf_cmds.append(
                f"cfssl gencert -ca {spec.issuer}.pem -ca-key {spec.issuer}-key.pem "
                f'-config "$conf/ca-config.json" -profile {profile} "$conf/{spec.name}.json" '
                f"| {split} -bare {spec.name}"
            )
    name = f"cfssl-{key_algorithm}-{'parallel' if parallel else 'serial'}.sh"
    return _script(directory / name, "cfssl", conf, ca_cmds, leaf_cmds, parallel)


def _cfssl_profile(server: bool, client: bool) -> str:
    return "server-client" if server and client else ("server" if server else "client")


def write_openssl_script(directory: Path, key_algorithm: str, parallel: bool) -> Path:
    """One `openssl req -x509` per certificate (OpenSSL 3's `-CA` signs leaves without a CSR file)."""
    conf = directory / "openssl-conf"
    conf.mkdir(exist_ok=True)
    if key_algorithm.startswith("RSA"):
        newkey = f"-newkey rsa:{key_algorithm.split('-')[1]}"
        leaf_usage = "digitalSignature,keyEncipherment"
    else:
        newkey = "-newkey ec -pkeyopt ec_paramgen_curve:P-256"
        leaf_usage = "digitalSignature"
    days = VALIDITY_HOURS // 24
    ca_cmds, leaf_cmds = [], []
    for spec in cert_specs():
        lines = ["[req]", "distinguished_name = dn", "prompt = no", "x509_extensions = ext", "[dn]"]
        lines += [f"O = {spec.organization}"] if spec.organization else []
        lines += [f"CN = {spec.common_name}", "[ext]", "subjectKeyIdentifier = hash"]
        if spec.is_ca:
            lines += [
                "basicConstraints = critical,CA:TRUE,pathlen:0",
                "keyUsage = critical,digitalSignature,keyCertSign,cRLSign",
            ]
        else:
            ekus = ["serverAuth"] * spec.server_auth + ["clientAuth"] * spec.client_auth
            lines += ["basicConstraints = critical,CA:FALSE", f"keyUsage = critical,{leaf_usage}"]
            lines += [f"extendedKeyUsage = {','.join(ekus)}", "authorityKeyIdentifier = keyid"]
            sans = [f"DNS:{d}" for d in spec.dns] + [f"IP:{i}" for i in spec.ips]
            lines += [f"subjectAltName = {','.join(sans)}"] if sans else []
        (conf / f"{spec.name}.cnf").write_text("\n".join(lines) + "\n")
        cmd = (
            f"openssl req -x509 {newkey} -noenc -keyout {spec.name}.key -out {spec.name}.crt -days {days} "
            f'-config "$conf/{spec.name}.cnf"'
        )
        if spec.is_ca:
            ca_cmds.append(cmd)
        else:
            leaf_cmds.append(f"{cmd} -CA {spec.issuer}.crt -CAkey {spec.issuer}.key")
    name = f"openssl-{key_algorithm}-{'parallel' if parallel else 'serial'}.sh"
    return _script(directory / name, "openssl", conf, ca_cmds, leaf_cmds, parallel)


def run_script(ctx, script: Path, out_dir: Path) -> Completed:
    out_dir.mkdir(parents=True)
    done = run([str(script), str(out_dir)], env=ctx.env, timeout=120)
    return done.check(script.name)


def script_files(tool: str, out_dir: Path) -> dict[str, tuple[str, str]]:
    """Certificate name -> (cert PEM, key PEM) as a peer script left them."""
    cert_ext, key_suffix = (".pem", "-key.pem") if tool == "cfssl" else (".crt", ".key")
    out = {}
    for spec in cert_specs():
        out[spec.name] = (
            (out_dir / f"{spec.name}{cert_ext}").read_text(),
            (out_dir / f"{spec.name}{key_suffix}").read_text(),
        )
    return out


# --- are they the same certificates? ------------------------------------------------------------------


def facts(cert_pem: str, key_pem: str) -> dict[str, object]:
    """What must agree between the three methods (serials, keys and signatures differ by nature)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = x509.load_pem_x509_certificate(cert_pem.encode())
    key = serialization.load_pem_private_key(key_pem.encode(), None, unsafe_skip_rsa_key_validation=True)
    pub = cert.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        algorithm = f"RSA-{pub.key_size}"
    else:
        algorithm = (
            f"EC-{pub.curve.name}" if isinstance(pub, ec.EllipticCurvePublicKey) else type(pub).__name__
        )

    def ext(cls):
        try:
            return cert.extensions.get_extension_for_class(cls).value
        except x509.ExtensionNotFound:
            return None

    san, eku, bc = ext(x509.SubjectAlternativeName), ext(x509.ExtendedKeyUsage), ext(x509.BasicConstraints)
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    pub_der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": sorted([f"DNS:{n}" for n in san.get_values_for_type(x509.DNSName)] if san else [])
        + sorted([f"IP:{n}" for n in san.get_values_for_type(x509.IPAddress)] if san else []),
        "ekus": sorted(o.dotted_string for o in eku) if eku else [],
        "ca": bool(bc and bc.ca),
        "key": algorithm,
        "key_matches": key.public_key().public_bytes(*pub_der) == pub.public_bytes(*pub_der),
        "validity_hours": round(lifetime / dt.timedelta(hours=1)),
    }


def compare(reference: dict[str, tuple[str, str]], other: dict[str, tuple[str, str]]) -> list[str]:
    """Differences between two PKIs, certificate by certificate (validity to the hour: backdating differs)."""
    problems = []
    for name, (cert, key) in reference.items():
        want, got = facts(cert, key), facts(*other[name])
        for fact, value in want.items():
            same = abs(value - got[fact]) <= 1 if fact == "validity_hours" else value == got[fact]
            if not same:
                problems.append(f"{name}: {fact} {got[fact]!r}, tfext has {value!r}")
    return problems


def check_scripts_match(
    ctx, ours: dict[str, tuple[str, str]], scripts: dict[str, Path], key_algorithm: str
) -> dict:
    """Run each peer script once more and compare what it made with what our programs made."""
    verdict = {}
    for tool, script in scripts.items():
        out_dir = ctx.scratch(f"check-{tool}-{key_algorithm}")
        run_script(ctx, script, out_dir)
        problems = compare(ours, script_files(tool.split("-")[0], out_dir))
        verdict[tool] = problems
        if problems:
            ctx.note(f"{tool} ({key_algorithm}) differs from tfext: " + "; ".join(problems[:6]))
    return verdict
