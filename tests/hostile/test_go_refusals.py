"""Item 2: what Go refuses, we refuse - RSA public exponents above 2^31-1 and RSA keys above 8192 bits -
with codes; and no certificate is issued without verifying against its CA."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tfext import keys, profiles
from tfext.errors import Code, TfextError
from tfext.issue import KeyPair, issue
from tfext.profiles import Inputs
from tfext.verify import Report, check_strength

from . import _gen


def test_an_rsa_exponent_above_two_to_the_31_is_refused_in_a_certificate(rsa3072):
    signer = _gen.ec_key()
    for bits in (33, 3071):
        pub = _gen.huge_exponent_rsa_public_key(rsa3072, bits)
        cert = _gen.build(_gen.name("big-e"), pub, signer)
        report = Report()
        check_strength(cert, "apiserver", report)
        assert [p.code for p in report.errors] == [Code.BAD_RSA_EXPONENT], bits


@pytest.mark.parametrize("e", [(1 << 31) - 1, 65537, 3])
def test_exponents_go_accepts_are_accepted(rsa3072, e):
    n = rsa3072.public_key().public_numbers().n
    assert keys.go_refusal(rsa.RSAPublicNumbers(e, n).public_key()) is None


@pytest.mark.parametrize("e", [(1 << 31) + 1, (1 << 40) + 1])
def test_exponents_go_refuses_are_refused(rsa3072, e):
    n = rsa3072.public_key().public_numbers().n
    assert keys.go_refusal(rsa.RSAPublicNumbers(e, n).public_key())[0] is Code.BAD_RSA_EXPONENT


def test_an_rsa_private_key_above_8192_bits_is_refused_with_its_code():
    with pytest.raises(TfextError) as err:
        keys.load_private_key(_gen.oversized_rsa_private_key_pem(8400), "ca key")
    assert [p.code for p in err.value.problems] == [Code.RSA_TOO_LARGE]
    assert "8192" in str(err.value)


def test_an_rsa_certificate_key_above_8192_bits_is_refused(tmp_path):
    from cryptography.hazmat.primitives import serialization

    big = serialization.load_pem_private_key(
        _gen.oversized_rsa_private_key_pem(8400).encode(), None, unsafe_skip_rsa_key_validation=True
    )
    cert = _gen.build(_gen.name("big"), big.public_key(), _gen.ec_key())
    report = Report()
    check_strength(cert, "ca", report)
    assert [p.code for p in report.errors] == [Code.RSA_TOO_LARGE]


def _profile(is_ca: bool):
    return next(p for p in vars(profiles).values() if isinstance(p, profiles.Profile) and p.is_ca is is_ca)


def test_a_ca_key_with_a_composite_prime_issues_nothing():
    """Its parts pass Go's arithmetic checks, but its signatures do not verify: before, etcd-signed issued
    such certificates; now the issuing helper verifies each one against the CA and refuses."""
    corrupt = _gen.corrupt_rsa_ca_key()
    assert keys._rsa_parts_consistent(corrupt)  # noqa: SLF001 - the check it passes
    ca_cert = _gen.build(_gen.name("corrupt-ca"), corrupt.public_key(), _gen.ec_key(), ca=True)
    with pytest.raises(TfextError) as err:
        issue(
            _profile(False),
            Inputs(),
            key_algorithm="ECDSA-P256",
            validity_hours=24,
            issuer=KeyPair(ca_cert, corrupt),
            now=_gen.T0,
        )
    assert [p.code for p in err.value.problems] == [Code.CANNOT_ISSUE]


def test_a_good_ca_issues_certificates_that_verify():
    key = _gen.ec_key()
    ca_cert = _gen.build(_gen.name("good-ca"), key.public_key(), key, ca=True)
    pair = issue(
        _profile(False),
        Inputs(),
        key_algorithm="ECDSA-P256",
        validity_hours=24,
        issuer=KeyPair(ca_cert, key),
        now=_gen.T0,
    )
    pair.cert.verify_directly_issued_by(ca_cert)


def test_inspect_names_a_key_go_refuses(cli, tmp_path, rsa3072):
    pub = _gen.huge_exponent_rsa_public_key(rsa3072, 64)
    key = _gen.ec_key()
    (tmp_path / "big-e.crt").write_text(_gen.cert_pem(_gen.build(_gen.name("big-e"), pub, key)))
    run = cli("inspect", str(tmp_path / "big-e.crt"))
    assert Code.BAD_RSA_EXPONENT.tag in run.out
