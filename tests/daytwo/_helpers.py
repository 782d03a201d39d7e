"""Helpers of the day-two tests: running `tfext` as users do, small certificates made on the spot, and
reading the `certificates` output."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
from pathlib import Path

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
) -> Pair:
    """A CA (self-signed unless `issuer`) or a leaf signed by `issuer`, valid `days` from `start`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
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


def key_body_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM key: what must never appear in any output."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


# --- Terraform state, shaped as our modules leave it ---------------------------------------------------


def capture_resource(module: str, slots: dict[str, Pair]) -> dict:
    """`terraform_data.captured[slot]` instances of terraform/modules/tls/internal/issue, as in a v4 state."""

    def value(pair: Pair) -> dict:
        return {"cert_pem": pair.cert_pem, "key_pem": pair.key_pem, "info": "{}", "key_alg": "ECDSA"}

    return {
        "module": module,
        "mode": "managed",
        "type": "terraform_data",
        "name": "captured",
        "provider": 'provider["terraform.io/builtin/terraform"]',
        "instances": [
            {
                "index_key": slot,
                "schema_version": 0,
                "attributes": {
                    "id": f"id-{slot}",
                    "input": {"value": value(pair), "type": ["object", {}]},
                    "output": {"value": value(pair), "type": ["object", {}]},
                    "triggers_replace": None,
                },
                "sensitive_attributes": [[{"type": "get_attr", "value": "input"}]],
            }
            for slot, pair in slots.items()
        ],
    }


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
