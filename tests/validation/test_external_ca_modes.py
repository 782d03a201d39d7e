"""The modes that take a CA from the user check it as strictly as the user-provided flavors do.

kube-self-signed adopting `ca_cert_pem`/`ca_key_pem`, identity and ingress signing with a given CA, and
etcd-signed signing with `ca_cert_path`/`ca_key_path` or checking an external etcd's CA and client pair.
Each query is what the module sends in the plan that issues (its `*_issued_at` equal to `plan_time`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tfext.errors import Code

from ._kit import (
    DAY,
    NOW,
    Kit,
    assert_accepted,
    assert_rejected,
    cert_pem,
    ec_key,
    good_set,
    key_pem,
    make_cert,
    run_many,
)

T = "2030-01-01T00:00:00Z"
C = Code


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """A kube and an etcd kit whose CAs the cases hand to the issuing programs."""
    root = tmp_path_factory.mktemp("external-ca")
    kube = Kit.create(good_set("kube-user-provided"), root / "kube")
    etcd = Kit.create(good_set("etcd-user-provided"), root / "etcd")
    return kube, etcd


def _cases(kube: Kit, etcd: Kit) -> dict[str, tuple[str, dict[str, str], tuple[Code, ...]]]:
    """id -> (program, query, codes); no codes: accepted."""
    kca_pem, kca_key = cert_pem(kube.ca.cert), kube.secret(key_pem(kube.ca.key))
    other_key = kube.secret(key_pem(ec_key()))
    issue_kube = {
        "plan_time": T,
        "apiserver_issued_at": T,
        "kubelet_issued_at": T,
        "service_cidr": "10.3.0.0/16",
    }
    issue_identity = {"plan_time": T, "server_issued_at": T, "client_issued_at": T}
    issue_ingress = {"plan_time": T, "ingress_issued_at": T, "base_address": "console.example.com"}
    expired_ca = kube.ca_like(not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    not_a_ca = kube.ca_like(ca=False)
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak_ca = kube.ca_like(key=weak_key)
    weak_key_pem = kube.secret(key_pem(weak_key))

    def write(name: str, text: str) -> str:
        path = etcd.root / name
        path.write_text(text)
        return str(path)

    ecert, ekey = str(etcd.path("ca", "cert")), str(etcd.path("ca", "key"))
    sign_etcd = {"plan_time": T, "ca_issued_at": T, "ca_cert_path": ecert, "ca_key_path": ekey}
    client_cert, client_key = str(etcd.path("client", "cert")), str(etcd.path("client", "key"))
    external = {"ca_cert_path": ecert, "client_cert_path": client_cert, "client_key_path": client_key}
    stranger = make_cert(
        subject=x509.Name.from_rfc4514_string("CN=stranger"), key=ec_key(), issuer=None, ca=True
    )
    foreign = etcd.leaf("client", issuer=stranger)
    old = etcd.leaf("client", not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    etcd.secret(key_pem(foreign.key))
    etcd.secret(key_pem(old.key))

    kube_ca = {"ca_cert_pem": kca_pem, "ca_key_pem": kca_key}
    return {
        # kube-self-signed: adopt the given CA, then sign with it
        "kube_adopts_a_good_ca": ("kube-self-signed", {"plan_time": T, "ca_issued_at": T, **kube_ca}, ()),
        "kube_signs_with_a_good_ca": ("kube-self-signed", {**issue_kube, **kube_ca}, ()),
        "kube_ca_cert_pem_holds_a_private_key": (
            "kube-self-signed",
            {"plan_time": T, "ca_issued_at": T, "ca_cert_pem": kca_key, "ca_key_pem": kca_key},
            (C.NOT_PEM,),
        ),
        "kube_ca_key_pem_is_another_key": (
            "kube-self-signed",
            {"plan_time": T, "ca_issued_at": T, "ca_cert_pem": kca_pem, "ca_key_pem": other_key},
            (C.KEY_MISMATCH,),
        ),
        "kube_ca_key_pem_holds_the_certificate": (
            "kube-self-signed",
            {**issue_kube, "ca_cert_pem": kca_pem, "ca_key_pem": kca_pem},
            (C.NOT_PEM,),
        ),
        "kube_ca_key_pem_is_encrypted": (
            "kube-self-signed",
            {
                **issue_kube,
                "ca_cert_pem": kca_pem,
                "ca_key_pem": kube.secret(key_pem(kube.ca.key, password=b"x")),
            },
            (C.ENCRYPTED_KEY,),
        ),
        "kube_ca_is_not_a_ca": (
            "kube-self-signed",
            {**issue_kube, "ca_cert_pem": cert_pem(not_a_ca.cert), "ca_key_pem": kca_key},
            (C.NOT_A_CA,),
        ),
        # identity and ingress: sign with the given CA
        "identity_signs_with_a_good_ca": ("identity-self-signed", {**issue_identity, **kube_ca}, ()),
        "identity_ca_has_expired": (
            "identity-self-signed",
            {**issue_identity, "ca_cert_pem": cert_pem(expired_ca.cert), "ca_key_pem": kca_key},
            (C.EXPIRED,),
        ),
        "identity_ca_cert_pem_holds_two_certificates": (
            "identity-self-signed",
            {**issue_identity, "ca_cert_pem": kca_pem + kca_pem, "ca_key_pem": kca_key},
            (C.TOO_MANY_CERTS,),
        ),
        "ingress_ca_is_rsa_1024": (
            "ingress-self-signed",
            {**issue_ingress, "ca_cert_pem": cert_pem(weak_ca.cert), "ca_key_pem": weak_key_pem},
            (C.WEAK_RSA,),
        ),
        "ingress_ca_cert_pem_is_garbage": (
            "ingress-self-signed",
            {**issue_ingress, "ca_cert_pem": "not a certificate", "ca_key_pem": kca_key},
            (C.NOT_PEM,),
        ),
        # etcd-signed: sign with a given etcd CA
        "etcd_signs_with_a_good_ca": ("etcd-signed", sign_etcd, ()),
        "etcd_ca_file_holds_two_certificates": (
            "etcd-signed",
            {**sign_etcd, "ca_cert_path": write("two.crt", cert_pem(etcd.ca.cert, etcd.ca.cert))},
            (C.TOO_MANY_CERTS,),
        ),
        "etcd_ca_key_file_is_another_key": (
            "etcd-signed",
            {**sign_etcd, "ca_key_path": write("other.key", etcd.secret(key_pem(ec_key())))},
            (C.KEY_MISMATCH,),
        ),
        "etcd_ca_key_file_is_missing": (
            "etcd-signed",
            {**sign_etcd, "ca_key_path": str(etcd.root / "missing.key")},
            (C.FILE_MISSING,),
        ),
        # etcd-signed: an external etcd's CA and client pair, checked and passed through
        "external_etcd_with_a_good_client_pair": ("etcd-signed", external, ()),
        "external_etcd_client_from_another_ca": (
            "etcd-signed",
            {
                **external,
                "client_cert_path": write("foreign.crt", cert_pem(foreign.cert)),
                "client_key_path": write("foreign.key", key_pem(foreign.key)),
            },
            (C.ISSUER_MISMATCH,),
        ),
        "external_etcd_ca_file_holds_a_key": (
            "etcd-signed",
            {**external, "ca_cert_path": ekey},
            (C.NOT_PEM,),
        ),
        "external_etcd_client_has_expired": (
            "etcd-signed",
            {
                **external,
                "client_cert_path": write("old.crt", cert_pem(old.cert)),
                "client_key_path": write("old.key", key_pem(old.key)),
            },
            (C.EXPIRED,),
        ),
        "external_etcd_client_key_path_holds_the_key": (
            "etcd-signed",
            {**external, "client_key_path": Path(client_key).read_text()},
            (C.NOT_A_PATH,),
        ),
    }


@pytest.fixture(scope="module")
def outcomes(material):
    kube, etcd = material
    cases = _cases(kube, etcd)
    secrets = kube.secrets + etcd.secrets
    results = run_many({cid: (program, json.dumps(q), secrets) for cid, (program, q, _) in cases.items()})
    return {cid: (cases[cid][0], cases[cid][2], results[cid]) for cid in cases}


CASE_IDS = [
    "kube_adopts_a_good_ca",
    "kube_signs_with_a_good_ca",
    "kube_ca_cert_pem_holds_a_private_key",
    "kube_ca_key_pem_is_another_key",
    "kube_ca_key_pem_holds_the_certificate",
    "kube_ca_key_pem_is_encrypted",
    "kube_ca_is_not_a_ca",
    "identity_signs_with_a_good_ca",
    "identity_ca_has_expired",
    "identity_ca_cert_pem_holds_two_certificates",
    "ingress_ca_is_rsa_1024",
    "ingress_ca_cert_pem_is_garbage",
    "etcd_signs_with_a_good_ca",
    "etcd_ca_file_holds_two_certificates",
    "etcd_ca_key_file_is_another_key",
    "etcd_ca_key_file_is_missing",
    "external_etcd_with_a_good_client_pair",
    "external_etcd_client_from_another_ca",
    "external_etcd_ca_file_holds_a_key",
    "external_etcd_client_has_expired",
    "external_etcd_client_key_path_holds_the_key",
]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_a_given_ca_is_checked_before_anything_is_issued_with_it(case_id, outcomes):
    program, codes, outcome = outcomes[case_id]
    if codes:
        assert_rejected(outcome, program, list(codes))
    else:
        result = assert_accepted(outcome)
        assert any(
            v.startswith("-----BEGIN CERTIFICATE-----") for k, v in result.items() if k.endswith("cert_pem")
        )


def test_the_case_list_names_every_case(material):
    assert sorted(CASE_IDS) == sorted(_cases(*material))
