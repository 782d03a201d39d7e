"""The same rules, with material made the way users make it: by the `openssl` CLI.

A correct kube set (CA, apiserver, kubelet) is made once; each case swaps one file for a broken one and
runs `tfext kube-user-provided` on it. Valid oddities users really produce (text around the PEM from
`openssl x509 -text`, the EC PARAMETERS block of `openssl ecparam -genkey`, PKCS#1 RSA keys) must pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness import require

from tfext.errors import Code

from ._kit import NAMES, OpenSSL, assert_accepted, assert_rejected, leaf_ext, run_many

PROGRAM = "kube-user-provided"
C = Code
CA_SUBJECT = "/O=bootkube/CN=kube-ca"
APISERVER_SUBJECT = "/O=kube-master/CN=kube-apiserver"
APISERVER_DNS = (
    "api.example.com",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
APISERVER_EXT = leaf_ext(dns=APISERVER_DNS, ips=("10.3.0.1",))


@dataclass(frozen=True)
class Case:
    id: str
    codes: tuple[Code, ...]
    make: Callable[[OpenSSL, dict[str, str]], None]  # changes the query's paths


CASES: list[Case] = []


def case(*codes: Code):
    def register(fn):
        CASES.append(Case(fn.__name__, codes, fn))
        return fn

    return register


def _apiserver(o: OpenSSL, q: dict[str, str], name: str, ext: str = APISERVER_EXT, **kw) -> None:
    crt, key = o.leaf(name, o.good_ca, APISERVER_SUBJECT, ext, **kw)
    q["apiserver_cert_path"], q["apiserver_key_path"] = str(crt), str(key)


# --- valid, as openssl writes it ------------------------------------------------------------------


@case()
def openssl_made_set_is_valid(o, q):
    pass


@case()
def certificate_with_openssl_text_before_the_pem_is_valid(o, q):
    out = o.root / "with-text.crt"
    o.run("x509", "-in", q["apiserver_cert_path"], "-text", "-out", out.name)
    q["apiserver_cert_path"] = str(out)


@case()
def ec_key_from_ecparam_genkey_with_its_parameters_block_is_valid(o, q):
    o.run("ecparam", "-name", "prime256v1", "-genkey", "-out", "ecparam.key")
    _apiserver(o, q, "ecparam-api", key=o.root / "ecparam.key")


@case()
def pkcs1_rsa_key_is_valid(o, q):
    o.run("genrsa", "-traditional", "-out", "pkcs1.key", "2048")
    ext = APISERVER_EXT.replace("digitalSignature", "digitalSignature,keyEncipherment")
    _apiserver(o, q, "pkcs1-api", ext, key=o.root / "pkcs1.key")


# --- broken ---------------------------------------------------------------------------------------


@case(C.EXPIRED)
def expired_apiserver(o, q):
    _apiserver(o, q, "expired", days=-1)


@case(C.KEY_MISMATCH)
def apiserver_with_the_kubelet_key(o, q):
    q["apiserver_key_path"] = q["kubelet_key_path"]


@case(C.BAD_SIGNATURE, C.AKI_MISMATCH)
def apiserver_signed_by_another_ca_of_the_same_name(o, q):
    impostor = o.ca("impostor", CA_SUBJECT)
    crt, key = o.leaf("impostor-api", impostor, APISERVER_SUBJECT, APISERVER_EXT)
    q["apiserver_cert_path"], q["apiserver_key_path"] = str(crt), str(key)


@case(C.ISSUER_MISMATCH)
def apiserver_signed_by_another_ca(o, q):
    other = o.ca("other", "/CN=other-ca")
    crt, key = o.leaf("other-api", other, APISERVER_SUBJECT, APISERVER_EXT)
    q["apiserver_cert_path"], q["apiserver_key_path"] = str(crt), str(key)


@case(C.NOT_A_CA)
def ca_that_is_not_a_ca(o, q):
    crt, _ = o.ca("not-ca", CA_SUBJECT, key=o.good_ca[1], ext="basicConstraints=critical,CA:FALSE\n")
    q["ca_cert_path"] = str(crt)


@case(C.CA_CANNOT_SIGN)
def ca_without_key_cert_sign(o, q):
    ext = "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n"
    crt, _ = o.ca("no-sign", CA_SUBJECT, key=o.good_ca[1], ext=ext)
    q["ca_cert_path"] = str(crt)


@case(C.MISSING_SAN)
def apiserver_without_the_api_host(o, q):
    _apiserver(o, q, "no-host", leaf_ext(dns=APISERVER_DNS[1:], ips=("10.3.0.1",)))


@case(C.MISSING_SAN)
def apiserver_with_no_san_at_all(o, q):
    _apiserver(o, q, "no-san", leaf_ext())


@case(C.MISSING_EKU)
def apiserver_with_client_auth_only(o, q):
    _apiserver(o, q, "client-only", leaf_ext(dns=APISERVER_DNS, ips=("10.3.0.1",), eku="clientAuth"))


@case(C.BAD_KEY_USAGE)
def ecdsa_apiserver_with_key_encipherment(o, q):
    ku = "critical,digitalSignature,keyEncipherment"
    _apiserver(o, q, "ec-kenc", leaf_ext(dns=APISERVER_DNS, ips=("10.3.0.1",), ku=ku))


@case(C.BAD_KEY_USAGE, C.CA_AS_LEAF)  # an openssl CA's keyUsage lacks digitalSignature, too
def kubelet_file_holds_the_ca(o, q):
    q["kubelet_cert_path"], q["kubelet_key_path"] = str(o.good_ca[0]), str(o.good_ca[1])


@case(C.WEAK_RSA)
def apiserver_with_rsa_1024(o, q):
    ext = APISERVER_EXT.replace("digitalSignature", "digitalSignature,keyEncipherment")
    _apiserver(o, q, "rsa1024", ext, key=o.key("rsa1024", "rsa:1024"))


@case(C.WEAK_CURVE)
def apiserver_on_p224(o, q):
    _apiserver(o, q, "p224", key=o.key("p224", "P-224"))


@case(C.WEAK_SIGNATURE)
def apiserver_signed_with_sha1(o, q):
    _apiserver(o, q, "sha1", args=("-sha1",))


@case(C.INVALID_SERIAL)
def apiserver_with_a_negative_serial(o, q):
    _apiserver(o, q, "negative", args=("-sha256", "-set_serial", "-5"))


@case(C.INVALID_SERIAL)
def apiserver_with_a_25_octet_serial(o, q):
    _apiserver(o, q, "long-serial", args=("-sha256", "-set_serial", "0x" + "7f" * 25))


@case(C.CRITICAL_EXTENSION)
def apiserver_with_an_unknown_critical_extension(o, q):
    _apiserver(o, q, "critical", APISERVER_EXT + "1.3.6.1.4.1.55555.1=critical,ASN1:UTF8String:x\n")


@case(C.PATH_TOO_LONG)
def apiserver_under_an_intermediate_of_a_path_length_zero_ca(o, q):
    mid_ext = "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n"
    mid = o.leaf("mid", o.good_ca, "/CN=intermediate", mid_ext)
    crt, key = o.leaf("via-mid", mid, APISERVER_SUBJECT, APISERVER_EXT)
    chain = o.root / "via-mid-chain.crt"
    chain.write_text(crt.read_text() + mid[0].read_text())
    q["apiserver_cert_path"], q["apiserver_key_path"] = str(chain), str(key)


@case(C.ENCRYPTED_KEY)
def apiserver_key_encrypted_as_pkcs8(o, q):
    o.run(
        "pkcs8",
        "-topk8",
        "-in",
        q["apiserver_key_path"],
        "-v2",
        "aes256",
        "-passout",
        "pass:x",
        "-out",
        "e8.key",
    )
    q["apiserver_key_path"] = str(o.root / "e8.key")


@case(C.ENCRYPTED_KEY)
def apiserver_key_encrypted_traditional_pem(o, q):
    o.run("ec", "-in", q["apiserver_key_path"], "-aes128", "-passout", "pass:x", "-out", "et.key")
    q["apiserver_key_path"] = str(o.root / "et.key")


@case(C.UNSUPPORTED_KEY)
def apiserver_key_is_dsa(o, q):
    o.run(
        "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024", "-out", "dsa.param"
    )
    o.run("genpkey", "-paramfile", "dsa.param", "-out", "dsa.key")
    q["apiserver_key_path"] = str(o.root / "dsa.key")


@case(C.NOT_PEM)
def apiserver_certificate_in_der(o, q):
    o.run("x509", "-in", q["apiserver_cert_path"], "-outform", "der", "-out", "api.der")
    q["apiserver_cert_path"] = str(o.root / "api.der")


@case(C.NOT_PEM)
def certificate_file_of_random_base64(o, q):
    o.run("rand", "-base64", "-out", "garbage.crt", "600")
    q["kubelet_cert_path"] = str(o.root / "garbage.crt")


@case(C.NOT_PEM)
def certificate_request_instead_of_a_certificate(o, q):
    q["apiserver_cert_path"] = str(o.root / "good-api.csr")


@case(C.FILE_EMPTY)
def empty_certificate_file(o, q):
    (o.root / "empty.crt").write_text("")
    q["kubelet_cert_path"] = str(o.root / "empty.crt")


@case(C.FILE_UNREADABLE)
def certificate_path_is_a_directory(o, q):
    q["kubelet_cert_path"] = str(o.root)


@case(C.FILE_MISSING)
def certificate_path_is_missing(o, q):
    q["kubelet_cert_path"] = str(o.root / "no-such.crt")


# --- the table, run -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    o = OpenSSL(require("openssl"), tmp_path_factory.mktemp("openssl"))
    o.good_ca = o.ca("good-ca", CA_SUBJECT)
    api = o.leaf("good-api", o.good_ca, APISERVER_SUBJECT, APISERVER_EXT)
    kubelet = o.leaf("good-kubelet", o.good_ca, "/O=system:masters/CN=kubelet", leaf_ext())
    base = {
        **NAMES[PROGRAM],
        "ca_cert_path": str(o.good_ca[0]),
        "ca_key_path": str(o.good_ca[1]),
        "apiserver_cert_path": str(api[0]),
        "apiserver_key_path": str(api[1]),
        "kubelet_cert_path": str(kubelet[0]),
        "kubelet_key_path": str(kubelet[1]),
    }
    queries = {}
    for c in CASES:
        queries[c.id] = dict(base)
        c.make(o, queries[c.id])
    secrets = [p.read_text() for p in Path(o.root).glob("*.key")]
    return run_many({cid: (PROGRAM, json.dumps(q), secrets) for cid, q in queries.items()})


@pytest.mark.parametrize("case", [c for c in CASES if c.codes], ids=lambda c: c.id)
def test_openssl_made_mistake_is_rejected_with_its_code(case, outcomes):
    assert_rejected(outcomes[case.id], PROGRAM, list(case.codes))


@pytest.mark.parametrize("case", [c for c in CASES if not c.codes], ids=lambda c: c.id)
def test_openssl_made_valid_material_is_accepted(case, outcomes):
    result = assert_accepted(outcomes[case.id])
    assert json.loads(result["warnings"]) == []
