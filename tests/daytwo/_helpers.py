"""Helpers of the day-two tests: running `tfext` as users do, small certificates made on the spot, and
reading the `certificates` output."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from harness import REPO, TFEXT_BIN

DAY_TWO = REPO / "docs" / "day-two.md"


def tfext(
    *args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
):
    """Run the installed `tfext` console script; returns the CompletedProcess (text mode unless bytes in)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [str(TFEXT_BIN / "tfext"), *args],
        input=stdin,
        capture_output=True,
        text=not isinstance(stdin, bytes),
        env=full_env,
        cwd=cwd,
        timeout=60,
    )


def certificates_by_name(outputs: dict) -> dict[str, dict]:
    """`certificates` output flattened to `module.name` => info."""
    return {f"{m}.{n}": info for m, certs in outputs["certificates"].items() for n, info in certs.items()}


def json_out(proc) -> dict:
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


class Secret(dict):
    """A dict holding private keys (Terraform outputs, made-up key PEMs) whose repr never shows them:
    pytest prints fixture values when a test fails."""

    def __repr__(self) -> str:
        return f"<{len(self)} values, not shown>"


# --- small certificates made on the spot (EC P-256: fast) ----------------------------------------------

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # every made-up certificate starts here


class Pair:
    """A certificate and its key, with PEM text for writing files."""

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey):
        self.cert, self.key = cert, key

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()

    @property
    def key_der(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex()


def make_cert(
    cn: str,
    issuer: Pair | None = None,
    *,
    ca: bool = False,
    days: float = 365,
    start: dt.datetime = T0,
    sans: tuple[str, ...] = (),
    server: bool = True,
    serial: int | None = None,
) -> Pair:
    """A CA (self-signed unless `issuer`) or a leaf signed by `issuer`, valid `days` from `start`; a random
    serial unless `serial`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number() if serial is None else serial)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if not ca:
        usages = (
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            if server
            else [ExtendedKeyUsageOID.CLIENT_AUTH]
        )
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False
        )
    signer = issuer.key if issuer else key
    return Pair(builder.sign(signer, hashes.SHA256()), key)


def files_written(target: Path) -> dict[str, tuple[str, int]]:
    """Every file under `target` (a write-assets directory): relative path => (SHA-256, mode)."""
    files = (p for p in sorted(target.rglob("*")) if p.is_file())
    return {
        p.relative_to(target).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mode & 0o777,
        )
        for p in files
    }


def key_body_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM key: what must never appear in any output."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


# --- Terraform state, shaped as our modules leave it ---------------------------------------------------


def _terraform_data(module: str, name: str, slots: dict[str, Pair], input_of, triggers_of) -> dict:
    """`terraform_data.<name>[slot]` instances of terraform/modules/tls/internal/issue, as in a v4 state:
    `input_of(slot, pair)` is each one's input (and output), `triggers_of(pair)` its triggers_replace."""
    return {
        "module": module,
        "mode": "managed",
        "type": "terraform_data",
        "name": name,
        "provider": 'provider["terraform.io/builtin/terraform"]',
        "instances": [
            {
                "index_key": slot,
                "schema_version": 0,
                "attributes": {
                    "id": f"id-{slot}",
                    "input": {"value": input_of(slot, pair), "type": ["object", {}]},
                    "output": {"value": input_of(slot, pair), "type": ["object", {}]},
                    "triggers_replace": triggers_of(pair),
                },
                "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]],
            }
            for slot, pair in slots.items()
        ],
    }


def capture_resource(module: str, slots: dict[str, Pair]) -> dict:
    """`terraform_data.captured[slot]` of tfext 0.1, which kept the key beside the certificate."""
    return _terraform_data(
        module,
        "captured",
        slots,
        lambda _, pair: {
            "cert_pem": pair.cert_pem,
            "key_pem": pair.key_pem,
            "info": "{}",
            "key_alg": "ECDSA",
        },
        lambda _: None,
    )


def seal_resource(module: str, kind: str, slots: dict[str, Pair]) -> dict:
    """`terraform_data.sealed[slot]`: the role and certificate in `input`, the key (sensitive) in
    `triggers_replace.key`, as the issuing stage of module `kind` keeps them."""
    return _terraform_data(
        module,
        "sealed",
        slots,
        lambda slot, pair: {
            "role": f"{kind}/{slot}",
            "cert_pem": pair.cert_pem,
            "info": "{}",
            "key_alg": "ECDSA",
        },
        lambda pair: {"value": {"marker": "id-marker", "key": pair.key_pem}, "type": ["map", "string"]},
    )


def _held(kind: str, slot: str, pair, at: str = "2030-01-01T00:00:00Z") -> dict:
    """What `terraform_data.kept[slot]` (and `healed[slot]`) hold in `triggers_replace`: the certificate,
    its facts, its role and its key, all strings. `pair` is anything with `cert_pem` and `key_pem`."""
    return {
        "marker": f"id-marker-{slot}",
        "role": f"{kind}/{slot}",
        "at": at,
        "cert_pem": pair.cert_pem,
        "info": "{}",
        "key_alg": "ECDSA",
        "key_pem": pair.key_pem,
    }


def _kept_shaped(module: str, name: str, kind: str, slots: dict) -> dict:
    return {
        "module": module,
        "mode": "managed",
        "type": "terraform_data",
        "name": name,
        "provider": 'provider["terraform.io/builtin/terraform"]',
        "instances": [
            {
                "index_key": slot,
                "schema_version": 0,
                "attributes": {
                    "id": f"id-{name}-{slot}",
                    "input": None,
                    "output": None,
                    "triggers_replace": {"value": _held(kind, slot, pair), "type": ["map", "string"]},
                },
                "sensitive_attributes": [
                    [
                        {"type": "get_attr", "value": "triggers_replace"},
                        {"type": "index", "value": {"value": "key_pem", "type": "string"}},
                    ]
                ],
            }
            for slot, pair in slots.items()
        ],
    }


def kept_resource(module: str, kind: str, slots: dict) -> dict:
    """`terraform_data.kept[slot]` of terraform/modules/tls/internal/issue (tfext 0.4 on): the certificate
    with its key (a sensitive element), facts and role, all in `triggers_replace`. A slot whose pair has
    an empty `cert_pem` is one that was healed: its certificate is in `healed_resource`."""
    return _kept_shaped(module, "kept", kind, slots)


def healed_resource(module: str, kind: str, slots: dict) -> dict:
    """`terraform_data.healed[slot]`: where a healing run keeps a certificate, shaped like `kept`."""
    return _kept_shaped(module, "healed", kind, slots)


def marker_resource(module: str, slots, legacy: bool = False) -> dict:
    """`terraform_data.issued[slot]`, the markers: `{at = ...}` since tfext 0.4, a bare timestamp before
    (`legacy`), whose certificates stay in `captured`/`sealed`."""
    at = "2030-01-01T00:00:00Z"
    stamp = at if legacy else {"at": at}
    kind = "string" if legacy else ["object", {"at": "string"}]
    return {
        "module": module,
        "mode": "managed",
        "type": "terraform_data",
        "name": "issued",
        "provider": 'provider["terraform.io/builtin/terraform"]',
        "instances": [
            {
                "index_key": slot,
                "schema_version": 0,
                "attributes": {
                    "id": f"id-marker-{slot}",
                    "input": {"value": stamp, "type": kind},
                    "output": {"value": stamp, "type": kind},
                    "triggers_replace": {"value": "hash", "type": "string"},
                },
                "sensitive_attributes": [],
            }
            for slot in slots
        ],
    }


def kept_stage(module: str, kind: str, slots: dict, healed: tuple[str, ...] = ()) -> list[dict]:
    """One issuing stage of tfext 0.4 as a state holds it: its markers, its `kept` records, and for each
    slot of `healed` an empty `kept` beside the `healed` record holding the pair."""
    empty = SimpleNamespace(cert_pem="", key_pem="")
    kept = {slot: (empty if slot in healed else pair) for slot, pair in slots.items()}
    out = [marker_resource(module, slots), kept_resource(module, kind, kept)]
    if healed:
        out.append(healed_resource(module, kind, {slot: slots[slot] for slot in healed}))
    return out


def verify_resource(module: str, program: str, slots: dict[str, Pair], key_dir: Path | None = None) -> dict:
    """`data.external.verify` of a user-provided flavor: the user's certificates passed through in `result`,
    and, with `key_dir`, the absolute paths of key files written there (never key text)."""
    result = {"warnings": "[]"}
    for slot, pair in slots.items():
        result |= {f"{slot}_cert_pem": pair.cert_pem, f"{slot}_info": "{}"}
        if key_dir is not None:
            path = key_dir / f"{slot}.key"
            path.write_text(pair.key_pem)
            path.chmod(0o600)
            result[f"{slot}_key_path"] = str(path.resolve())
    return {
        "module": module,
        "mode": "data",
        "type": "external",
        "name": "verify",
        "provider": 'provider["registry.terraform.io/hashicorp/external"]',
        "instances": [
            {
                "schema_version": 0,
                "attributes": {"id": "-", "program": ["tfext", program], "query": {}, "result": result},
            }
        ],
    }


# --- a cluster with one identity per member and node (docs/per-node.md), made up ----------------------

MEMBERS = ("etcd-0", "etcd-1")
NODES = ("w1", "w2")
SERVING = ("w1",)
# The modules' outputs (terraform/modules/tls/{kube/self-signed,etcd/signed}/outputs.tf) of each role:
# module => output => role; a per-node map output => the role of its entries, `<role>:<name>`.
MODULE_OUTPUTS = {
    "kube": {
        "ca_cert_pem": "ca",
        "ca_key_pem": "ca",
        "apiserver_cert_pem": "apiserver",
        "apiserver_key_pem": "apiserver",
        "kubelet_cert_pem": "kubelet",
        "kubelet_key_pem": "kubelet",
        "apiserver_kubelet_client_cert_pem": "apiserver_kubelet_client",
        "apiserver_kubelet_client_key_pem": "apiserver_kubelet_client",
        "admin_cert_pem": "admin",
        "admin_key_pem": "admin",
    },
    "etcd": {
        "etcd_ca_crt_pem": "ca",
        "etcd_server_crt_pem": "server",
        "etcd_server_key_pem": "server",
        "etcd_peer_crt_pem": "peer",
        "etcd_peer_key_pem": "peer",
        "etcd_client_crt_pem": "client",
        "etcd_client_key_pem": "client",
    },
}
MAP_OUTPUTS = {
    "kube": {
        "node_kubelet_client_cert_pem": "kubelet",
        "node_kubelet_client_key_pem": "kubelet",
        "node_kubelet_serving_cert_pem": "serving",
        "node_kubelet_serving_key_pem": "serving",
    },
    "etcd": {
        "etcd_member_server_crt_pem": "server",
        "etcd_member_server_key_pem": "server",
        "etcd_member_peer_crt_pem": "peer",
        "etcd_member_peer_key_pem": "peer",
    },
}


def per_node_cluster(
    nodes: tuple[str, ...] = NODES, serving: tuple[str, ...] = SERVING, members: tuple[str, ...] = MEMBERS
) -> dict[str, Pair]:
    """role => pair of a made-up kube and etcd with one identity per member and node: Tectonic's roles,
    the kube module's clients of their own, `kube/kubelet:<node>`, `kube/serving:<node>`,
    `etcd/server:<member>` and `etcd/peer:<member>`."""
    kube_ca, etcd_ca = make_cert("kube-ca", ca=True, days=3650), make_cert("etcd-ca", ca=True, days=3650)
    pairs = {"kube/ca": kube_ca, "etcd/ca": etcd_ca}
    pairs["kube/apiserver"] = make_cert("kube-apiserver", kube_ca, sans=("kubernetes",))
    for role, cn in (
        ("kubelet", "kubelet"),
        ("apiserver_kubelet_client", "kube-apiserver-kubelet-client"),
        ("admin", "kubernetes-admin"),
        *((f"kubelet:{n}", f"system:node:{n}") for n in nodes),
    ):
        pairs[f"kube/{role}"] = make_cert(cn, kube_ca, server=False)
    for n in serving:
        pairs[f"kube/serving:{n}"] = make_cert(f"system:node:{n}", kube_ca, sans=(n,))
    for role in ("server", "peer", "client"):
        pairs[f"etcd/{role}"] = make_cert("etcd", etcd_ca, sans=members)
    for m in members:
        for role in ("server", "peer"):
            pairs[f"etcd/{role}:{m}"] = make_cert(m, etcd_ca, sans=(m, "localhost"))
    return pairs


def module_object(kind: str, pairs: dict[str, Pair]) -> dict:
    """The outputs of module `kind` holding `pairs`, as `output "kube" { value = module.kube_certs }`
    gives them: certificate and key outputs, and the per-node maps keyed by member or node name."""

    def text(output: str, pair: Pair) -> str:
        return pair.key_pem if "_key_pem" in output else pair.cert_pem

    out: dict = {o: text(o, pairs[f"{kind}/{role}"]) for o, role in MODULE_OUTPUTS[kind].items()}
    for output, role in MAP_OUTPUTS[kind].items():
        entries = {r.split(":", 1)[1]: p for r, p in pairs.items() if r.startswith(f"{kind}/{role}:")}
        out[output] = {name: text(output, pair) for name, pair in entries.items()}
    return out


def per_node_shapes(pairs: dict[str, Pair]) -> dict[str, str]:
    """shape => the JSON users pipe of one made-up cluster: `terraform output -json` with module objects,
    with flat outputs (`kube_certs_node_kubelet_client_cert_pem`), and `terraform state pull` of a root
    module without outputs: the seals of tfext 0.2-0.3 alone (`state`), or the markers, `kept` and
    `healed` records of tfext 0.4 (`kept`: one stage per member and node, one certificate healed)."""
    objects = {kind: module_object(kind, pairs) for kind in ("kube", "etcd")}

    def wrapped(value):
        return {
            "value": value,
            "type": "string" if isinstance(value, str) else ["map", "string"],
            "sensitive": True,
        }

    seals, kept = [], []
    for kind in ("kube", "etcd"):
        slots = {r.split("/", 1)[1]: p for r, p in pairs.items() if r.startswith(f"{kind}/")}
        ca = {"ca": slots.pop("ca")}
        seals.append(seal_resource(f'module.{kind}_certs.module.ca["0"]', kind, ca))
        seals.append(seal_resource(f"module.{kind}_certs.module.certs", kind, slots))
        kept += kept_stage(f'module.{kind}_certs.module.ca["0"]', kind, ca)
        fixed = {slot: p for slot, p in slots.items() if ":" not in slot}
        kept += kept_stage(f"module.{kind}_certs.module.certs", kind, fixed, healed=tuple(sorted(fixed))[:1])
        for node in sorted({slot.split(":", 1)[1] for slot in slots if ":" in slot}):
            own = {slot: p for slot, p in slots.items() if slot.endswith(f":{node}")}
            stage = "member" if kind == "etcd" else "node"
            kept += kept_stage(f'module.{kind}_certs.module.{stage}["{node}"]', kind, own)
    return Secret(
        objects=json.dumps({k: wrapped(v) for k, v in objects.items()}),
        flat=json.dumps(
            {f"{k}_certs_{o}": wrapped(v) for k, values in objects.items() for o, v in values.items()}
        ),
        state=json.dumps(state(*seals)),
        kept=json.dumps(state(*kept)),
    )


def state(*resources: dict, outputs: dict | None = None) -> dict:
    """A format-4 Terraform state holding `resources`."""
    return {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000000",
        "outputs": outputs or {},
        "resources": list(resources),
        "check_results": None,
    }


def doc_block(tag: str, language: str = "sh") -> str:
    """The code block under `<!-- tag -->` in docs/day-two.md: the tests run what the doc says."""
    found = re.search(rf"<!-- {tag} -->\n```{language}\n(.*?)```", DAY_TWO.read_text(), re.S)
    assert found, f"docs/day-two.md lost its <!-- {tag} --> block"
    return found.group(1)
