"""Material for the validation tests: a good PKI per user-provided program, ways to break it (with
`cryptography` and with the `openssl` CLI), and running the real `tfext` CLI on the result.

Nothing here ever puts key material into an assertion message: failures show codes, exit statuses and a
redacted stderr.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import ipaddress
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from tfext import issue, profiles
from tfext.errors import Code, redact
from tfext.issue import KeyPair
from tfext.programs import MODULES, PROGRAMS
from tfext.programs.inputs import certificate_inputs

TFEXT = str(Path(sys.executable).parent / "tfext")  # the console script Terraform runs
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAY = dt.timedelta(days=1)
SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
TAG = re.compile(r"TFEXT-E\d{3}")

USER_PROVIDED = (
    "etcd-user-provided",
    "kube-user-provided",
    "identity-user-provided",
    "ingress-user-provided",
)
# What the certificates must carry, per program: the inputs a module passes beside the paths.
NAMES: dict[str, dict[str, str]] = {
    "etcd-user-provided": {
        "service_cidr": "10.3.0.0/16",
        "dns_names": '["etcd-0.example.com"]',
        "ip_addresses": '["192.168.10.11"]',
    },
    "kube-user-provided": {
        "kube_apiserver_url": "https://api.example.com:443",
        "service_cidr": "10.3.0.0/16",
    },
    "identity-user-provided": {},
    "ingress-user-provided": {"base_address": "console.example.com:443"},
}


# --- keys and PEM -----------------------------------------------------------------------------------------


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key, fmt=serialization.PrivateFormat.PKCS8, password: bytes | None = None) -> str:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode("ascii")


def cert_pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


@functools.cache  # parsing (and validating) a key for every check would dominate the suite's time
def secret_fragments(pem: str) -> tuple[str, ...]:
    """What of a private key must never appear in any output: its private numbers (EC scalar, RSA d, p
    and q, Ed25519 seed) in base64 at each of the three alignments and in hex - not its public parts,
    which certificates rightly show. A key that does not load (encrypted, say) is matched by its body."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        lines = [ln for ln in pem.splitlines() if ln and not ln.startswith("-----") and ":" not in ln]
        body = "".join(lines)
        return tuple(body[i : i + 20] for i in range(0, max(len(body) - 20, 1), 20))
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        values = [numbers.d, numbers.p, numbers.q]
        secrets = [v.to_bytes((v.bit_length() + 7) // 8, "big") for v in values]
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        value = key.private_numbers().private_value
        secrets = [value.to_bytes((key.curve.key_size + 7) // 8, "big")]
    elif isinstance(key, dsa.DSAPrivateKey):
        value = key.private_numbers().x
        secrets = [value.to_bytes((value.bit_length() + 7) // 8, "big")]
    else:  # Ed25519, Ed448, X25519, X448
        raw = serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        secrets = [key.private_bytes(*raw)]
    out = []
    for secret in secrets:
        for start in (0, 1, 2, 12, 13, 14):
            out.append(base64.b64encode(secret[start : start + 15]).decode())  # 20 characters
        out.append(secret[:10].hex())
    return tuple(out)


def leaks(text: str, secrets: list[str]) -> int:
    """How many secret fragments `text` holds, line breaks, spaces and colons ignored (the count only:
    never show the fragments)."""
    compact = re.sub(r"[\s:]", "", text)
    lowered = compact.lower()
    return sum(1 for s in secrets for frag in secret_fragments(s) if frag in compact or frag in lowered)


# --- certificates with every knob -----------------------------------------------------------------

_NO_KU = dict.fromkeys(
    (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ),
    False,
)
_DEFAULT = object()


def make_cert(
    *,
    subject: x509.Name,
    key,
    issuer: KeyPair | None,
    not_before: dt.datetime = NOW - DAY,
    not_after: dt.datetime = NOW + 90 * DAY,
    ca: bool | None = False,
    path_length: int | None = None,
    key_usage: tuple[str, ...] | None = ("digital_signature",),
    eku: tuple | None = (SERVER, CLIENT),
    sans: tuple[str, ...] = (),
    aki: object = _DEFAULT,
    issuer_name: x509.Name | None = None,
    extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> KeyPair:
    """A certificate built with `cryptography`; `ca=None` leaves basicConstraints out, `aki=None` the AKI."""
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name or (issuer.cert.subject if issuer else subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if ca is not None:
        constraints = x509.BasicConstraints(ca=ca, path_length=path_length if ca else None)
        builder = builder.add_extension(constraints, critical=True)
    if key_usage is not None:
        usage = x509.KeyUsage(**{**_NO_KU, **dict.fromkeys(key_usage, True)})
        builder = builder.add_extension(usage, critical=True)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if sans:
        names: list[x509.GeneralName] = []
        for s in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if aki is _DEFAULT and issuer is not None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())
    if isinstance(aki, x509.AuthorityKeyIdentifier):
        builder = builder.add_extension(aki, critical=False)
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    algorithm = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return KeyPair(builder.sign(signer, algorithm), key)


def resign_with_sha1(cert: x509.Certificate, issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    """`cryptography` refuses to sign with SHA-1: swap the algorithm identifiers of a SHA-256/RSA
    certificate (both OIDs are 9 octets) and sign its new TBS by hand."""
    sha256_rsa, sha1_rsa = bytes.fromhex("2a864886f70d01010b"), bytes.fromhex("2a864886f70d010105")
    der = cert.public_bytes(serialization.Encoding.DER)
    tbs = cert.tbs_certificate_bytes
    new_tbs = tbs.replace(sha256_rsa, sha1_rsa)
    signature = issuer_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA1())
    new_der = der.replace(tbs, new_tbs).replace(sha256_rsa, sha1_rsa).replace(cert.signature, signature)
    return x509.load_der_x509_certificate(new_der)


def with_duplicate_extension(pair: KeyPair, signer) -> bytes:
    """PEM of `pair.cert` re-signed with its subjectKeyIdentifier twice (cryptography's builder refuses
    duplicates, so the second one is added under an unknown OID of the same length, then renamed)."""
    cert = pair.cert
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    stand_in = x509.ObjectIdentifier("2.5.29.99")  # encodes like 2.5.29.14: 06 03 55 1d xx
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(cert.public_key())
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
    )
    for ext in cert.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    builder = builder.add_extension(
        x509.UnrecognizedExtension(stand_in, ski.value.public_bytes()), critical=False
    )
    der = builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return der_to_pem(der.replace(bytes.fromhex("0603551d63"), bytes.fromhex("0603551d0e")))


def der_to_pem(der: bytes, label: str = "CERTIFICATE") -> bytes:
    body = base64.b64encode(der).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n".encode()


# --- a good PKI per program, and a kit to break it ---------------------------------------------------------


@dataclass(frozen=True)
class GoodSet:
    """A CA and every leaf of one user-provided program, all correct."""

    program: str
    inputs: profiles.Inputs
    pairs: dict[str, KeyPair]

    @property
    def module(self):
        return MODULES[PROGRAMS[self.program]]

    def profile(self, slot: str) -> profiles.Profile:
        return next(s.profile for s in self.module.slots if s.name == slot)


def good_set(program: str) -> GoodSet:
    module = MODULES[PROGRAMS[program]]
    inputs = certificate_inputs(NAMES[program], module.service_hosts)
    ca = issue.issue(
        module.ca.profile, inputs, key_algorithm="ECDSA-P256", validity_hours=24 * 365, issuer=None
    )
    pairs = {"ca": ca}
    for slot in module.leaves:
        pairs[slot.name] = issue.issue(
            slot.profile, inputs, key_algorithm="ECDSA-P256", validity_hours=24 * 180, issuer=ca
        )
    return GoodSet(program, inputs, pairs)


@dataclass
class Kit:
    """One program's files in a directory, and its query; break one thing, then run the program."""

    good: GoodSet
    root: Path
    query: dict[str, str] = field(default_factory=dict, repr=False)
    secrets: list[str] = field(default_factory=list, repr=False)  # every private key PEM written or sent

    @classmethod
    def create(cls, good: GoodSet, root: Path) -> Kit:
        kit = cls(good, root)
        root.mkdir(parents=True, exist_ok=True)
        kit.query.update(NAMES[good.program])
        for slot, pair in good.pairs.items():
            kit.put_pair(slot, pair)
            kit.query[f"{slot}_cert_path"] = str(kit.path(slot, "cert"))
            if slot != "ca" or good.program == "kube-user-provided":  # only kube takes a CA key
                kit.query[f"{slot}_key_path"] = str(kit.path(slot, "key"))
        return kit

    @property
    def program(self) -> str:
        return self.good.program

    @property
    def ca(self) -> KeyPair:
        return self.good.pairs["ca"]

    def path(self, slot: str, part: str) -> Path:
        return self.root / f"{slot}.{'crt' if part == 'cert' else 'key'}"

    def put(self, slot: str, part: str, data: bytes | str) -> None:
        self.path(slot, part).write_bytes(data.encode() if isinstance(data, str) else data)

    def put_cert(self, slot: str, *certs: x509.Certificate) -> None:
        self.put(slot, "cert", cert_pem(*certs))

    def put_key(
        self, slot: str, key, fmt=serialization.PrivateFormat.PKCS8, password: bytes | None = None
    ) -> str:
        pem = self.secret(key_pem(key, fmt, password))
        self.put(slot, "key", pem)
        return pem

    def put_pair(self, slot: str, pair: KeyPair) -> None:
        self.put_cert(slot, pair.cert)
        self.put_key(slot, pair.key)

    def secret(self, pem: str) -> str:
        self.secrets.append(pem)
        return pem

    def point(self, slot: str, part: str, value: str) -> None:
        self.query[f"{slot}_{part}_path"] = value

    def leaf(self, slot: str, *, issuer: KeyPair | None = None, key=None, **overrides) -> KeyPair:
        """A certificate for `slot` as its profile wants it, signed by the kit's CA, with `overrides`."""
        profile = self.good.profile(slot)
        key = key if key is not None else ec_key()
        names = profile.names(self.good.inputs)
        rsa_key = isinstance(key, rsa.RSAPrivateKey)
        args = dict(
            subject=issue.subject_for(profile, self.good.inputs),
            key=key,
            issuer=issuer or self.ca,
            key_usage=("digital_signature", "key_encipherment") if rsa_key else ("digital_signature",),
            eku=tuple({"server_auth": SERVER, "client_auth": CLIENT}[u] for u in profile.usages),
            sans=names.dns + names.ips,
        )
        return make_cert(**{**args, **overrides})

    def ca_like(self, *, key=None, **overrides) -> KeyPair:
        """A CA with the kit CA's subject (and its key, by default), with `overrides`."""
        args = dict(
            subject=self.ca.cert.subject,
            key=key if key is not None else self.ca.key,
            issuer=None,
            ca=True,
            path_length=0,
            key_usage=("digital_signature", "key_cert_sign", "crl_sign"),
            eku=None,
            not_after=NOW + 365 * DAY,
        )
        return make_cert(**{**args, **overrides})


# --- running tfext --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)
    leaked: int  # secret fragments in stdout+stderr of a failure, or in stderr of a success

    @property
    def tags(self) -> list[str]:
        return TAG.findall(self.stderr)

    def shown(self) -> str:
        """For assertion messages: never the raw output."""
        return f"exit {self.returncode}, stdout {len(self.stdout)} chars, stderr:\n{redact(self.stderr)}"


def run_tfext(program: str, stdin: bytes | str, secrets: list[str] = (), timeout: float = 30) -> Outcome:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    env = {k: v for k, v in os.environ.items() if k != "TFEXT_DEBUG"}
    try:
        proc = subprocess.run([TFEXT, program], input=data, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:  # a hang is this case's failure, not the whole table's
        return Outcome(-1, "", f"(tfext {program} did not finish within {timeout} s: it hangs)", 0)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    leaked = leaks(err if proc.returncode == 0 else out + err, list(secrets))
    return Outcome(proc.returncode, out, err, leaked)


def run_many(jobs: dict[str, tuple[str, str, list[str]]], workers: int = 4) -> dict[str, Outcome]:
    """Run `id -> (program, query JSON, secrets)` through the CLI, a few at a time."""
    with ThreadPoolExecutor(workers) as pool:
        futures = {name: pool.submit(run_tfext, *job) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def assert_no_leak(text: str, secrets: list[str], where: str = "output") -> None:
    """Raise (not `assert`: pytest would print the arguments) when `text` holds any of `secrets`."""
    found = leaks(text, secrets)
    if found:
        raise AssertionError(f"{found} fragments of private keys in the {where}")


def assert_rejected(outcome: Outcome, program: str, codes: list[Code]) -> None:
    """Exit 1, nothing on stdout, one message on stderr carrying exactly `codes` (most important first),
    no traceback, no key material. Assertions look at the redacted stderr only."""
    err = redact(outcome.stderr)
    assert outcome.returncode == 1, outcome.shown()
    assert len(outcome.stdout) == 0, outcome.shown()
    assert err.startswith(f"tfext {program}: "), outcome.shown()
    assert sorted(outcome.tags) == sorted(c.tag for c in codes), outcome.shown()
    assert outcome.tags == sorted(outcome.tags), f"not most important first: {outcome.shown()}"
    assert "Traceback" not in err, outcome.shown()
    assert outcome.leaked == 0, f"{outcome.leaked} fragments of private keys in the output"


def assert_accepted(outcome: Outcome) -> dict[str, str]:
    assert outcome.returncode == 0, outcome.shown()
    assert outcome.leaked == 0, f"{outcome.leaked} fragments of private keys on stderr"
    result = json.loads(outcome.stdout)
    assert all(isinstance(v, str) for v in result.values())
    return result


# --- openssl --------------------------------------------------------------------------------------

REQ_CONFIG = "[req]\ndistinguished_name = dn\n[dn]\n"


@dataclass
class OpenSSL:
    """Certificates and keys made by the `openssl` CLI, the way users make them."""

    binary: str
    root: Path
    good_ca: tuple[Path, Path] | None = None  # (certificate, key) of the CA a test's leaves chain to

    def run(self, *args: str) -> None:
        proc = subprocess.run([self.binary, *args], capture_output=True, text=True, cwd=self.root, timeout=60)
        if proc.returncode != 0:
            raise AssertionError(f"openssl {args[0]} failed: {proc.stderr[-500:]}")

    def key(self, name: str, spec: str = "P-256") -> Path:
        """A private key: `P-256` (any curve name), or `rsa:BITS`."""
        out = self.root / f"{name}.key"
        if spec.startswith("rsa:"):
            self.run(
                "genpkey", "-algorithm", "RSA", "-pkeyopt", f"rsa_keygen_bits:{spec[4:]}", "-out", out.name
            )
        else:
            self.run("genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{spec}", "-out", out.name)
        return out

    def ca(
        self, name: str, subject: str, *, key: Path | None = None, ext: str | None = None, days: int = 365
    ):
        """A self-signed CA; `ext` replaces its v3 extensions (openssl config syntax)."""
        key = key or self.key(name)
        out = self.root / f"{name}.crt"
        ext = ext or (
            "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n"
            "subjectKeyIdentifier=hash\n"
        )
        (self.root / f"{name}.cnf").write_text(f"{REQ_CONFIG}[v3]\n{ext}")
        self.run(
            "req", "-x509", "-new", "-key", key.name, "-subj", subject, "-days", str(days),
            "-config", f"{name}.cnf", "-extensions", "v3", "-out", out.name,
        )  # fmt: skip
        return out, key

    def leaf(
        self,
        name: str,
        ca: tuple[Path, Path],
        subject: str,
        ext: str,
        *,
        key: Path | None = None,
        days: int = 90,
        args: tuple[str, ...] = ("-sha256",),
    ) -> tuple[Path, Path]:
        """A certificate signed by `ca` with the v3 extensions `ext`; `args` go to `openssl x509 -req`."""
        key = key or self.key(name)
        out = self.root / f"{name}.crt"
        (self.root / "req.cnf").write_text(REQ_CONFIG)
        (self.root / f"{name}.ext").write_text(f"[v3]\n{ext}")
        self.run(
            "req", "-new", "-key", key.name, "-subj", subject, "-config", "req.cnf", "-out", f"{name}.csr"
        )
        self.run(
            "x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]),
            "-days", str(days), "-extfile", f"{name}.ext", "-extensions", "v3", "-out", out.name, *args,
        )  # fmt: skip
        return out, key


def leaf_ext(
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    eku: str = "serverAuth,clientAuth",
    ku: str = "critical,digitalSignature",
    extra: str = "",
) -> str:
    """openssl v3 extensions of a leaf."""
    sans = ",".join([f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ips])
    lines = ["basicConstraints=critical,CA:FALSE", f"keyUsage={ku}", f"extendedKeyUsage={eku}"]
    lines += [f"subjectAltName={sans}"] if sans else []
    return "\n".join(lines) + "\n" + extra
