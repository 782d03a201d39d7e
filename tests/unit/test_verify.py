"""The validation engine: one case per rule, with its Code; problems together, sorted; files read safely."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448
from cryptography.x509.oid import ExtendedKeyUsageOID

from tfext import issue, profiles
from tfext.errors import Code, TfextError
from tfext.files import MAX_PEM_FILE_BYTES, read_file
from tfext.issue import KeyPair
from tfext.verify import (
    Given,
    Report,
    check_ca,
    check_leaf,
    load_given,
    name_matches,
    parse_certificates,
    parse_private_key,
)

from ._pki import (
    DAY,
    NOW,
    build,
    build_ca,
    cert_pem,
    codes,
    digest,
    key_pem,
    leaked_lines,
    name,
    new_key,
    raised_codes,
    redact,
    resign_with_sha1,
)

SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
WINDOW = dt.timedelta(hours=24)
NO_INPUTS = profiles.Inputs()
APISERVER_INPUTS = profiles.Inputs(api_host="api.example.com", service_cidr="10.3.0.0/24")
APISERVER_SANS = (
    "api.example.com",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "10.3.0.1",
)


@pytest.fixture(scope="module")
def ca() -> KeyPair:
    return issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=24 * 60, issuer=None
    )


@pytest.fixture(scope="module")
def twin_ca() -> KeyPair:
    """Another kube CA: the same subject name, a different key."""
    return issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=24 * 60, issuer=None
    )


@pytest.fixture(scope="module")
def rsa_ca() -> KeyPair:
    return issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm="RSA-2048", validity_hours=24 * 60, issuer=None
    )


def check(profile, leaf: KeyPair, ca_cert, *, key="same", inputs=NO_INPUTS, chain=(), now=None) -> Report:
    """Run check_leaf the way the engine does; `key` is the leaf's own key unless given."""
    report = Report()
    given = Given(profile.role, [leaf.cert, *chain], leaf.key if key == "same" else key, "", "")
    check_leaf(profile, inputs, given, ca_cert, report, now or dt.datetime.now(dt.UTC), WINDOW)
    return report


# --- controls: what is right passes -------------------------------------------------------------------------


def test_a_tfext_issued_apiserver_cert_passes_every_rule(ca):
    leaf = issue.issue(
        profiles.APISERVER, APISERVER_INPUTS, key_algorithm="ECDSA-P256", validity_hours=24 * 30, issuer=ca
    )
    report = check(profiles.APISERVER, leaf, ca.cert, inputs=APISERVER_INPUTS)
    assert codes(report.errors) == []
    assert codes(report.warnings) == []


def test_a_hand_built_kubelet_cert_passes_every_rule(ca):
    report = check(profiles.KUBELET, build(issuer=ca), ca.cert)
    assert codes(report.errors) == [] and codes(report.warnings) == []


def test_a_tfext_issued_ca_with_its_key_passes_check_ca(ca):
    report = Report()
    check_ca(ca, "ca", report, dt.datetime.now(dt.UTC), WINDOW)
    assert codes(report.errors) == [] and codes(report.warnings) == []


# --- time ---------------------------------------------------------------------------------------------------


def test_expired_leaf_is_an_error(ca):
    leaf = build(issuer=ca, not_before=NOW - 10 * DAY, not_after=NOW - DAY)
    assert codes(check(profiles.KUBELET, leaf, ca.cert).errors) == [Code.EXPIRED]


def test_not_yet_valid_leaf_is_an_error(ca):
    leaf = build(issuer=ca, not_before=NOW + DAY, not_after=NOW + 10 * DAY)
    assert codes(check(profiles.KUBELET, leaf, ca.cert).errors) == [Code.NOT_YET_VALID]


def test_leaf_expiring_within_the_renewal_window_is_a_warning_not_an_error(ca):
    leaf = build(issuer=ca, not_after=NOW + dt.timedelta(hours=5))
    report = check(profiles.KUBELET, leaf, ca.cert)
    assert codes(report.errors) == []
    assert codes(report.warnings) == [Code.EXPIRES_SOON]


def test_leaf_outliving_its_ca_is_a_warning_not_an_error(ca):
    leaf = build(issuer=ca, not_after=ca.cert.not_valid_after_utc + 10 * DAY)
    report = check(profiles.KUBELET, leaf, ca.cert)
    assert codes(report.errors) == []
    assert codes(report.warnings) == [Code.OUTLIVES_CA]


def test_expired_ca_is_an_error():
    old = build_ca("old-ca", not_before=NOW - 30 * DAY, not_after=NOW - DAY)
    report = Report()
    check_ca(old, "ca", report, dt.datetime.now(dt.UTC), WINDOW)
    assert codes(report.errors) == [Code.EXPIRED]


# --- relationships: key, signature, issuer name, AKI --------------------------------------------------------


def test_leaf_with_someone_elses_key_is_a_key_mismatch(ca):
    report = check(profiles.KUBELET, build(issuer=ca), ca.cert, key=new_key())
    assert codes(report.errors) == [Code.KEY_MISMATCH]


def test_leaf_of_another_ca_with_the_same_name_fails_aki_and_signature(ca, twin_ca):
    leaf = issue.issue(
        profiles.KUBELET, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=24, issuer=twin_ca
    )
    assert codes(check(profiles.KUBELET, leaf, ca.cert).errors) == [Code.AKI_MISMATCH, Code.BAD_SIGNATURE]


def test_leaf_without_aki_signed_by_another_key_is_a_bad_signature(ca, twin_ca):
    leaf = build(issuer=twin_ca, aki=None)
    assert codes(check(profiles.KUBELET, leaf, ca.cert).errors) == [Code.BAD_SIGNATURE]


def test_leaf_whose_issuer_name_is_not_the_ca_subject_is_an_issuer_mismatch(ca):
    leaf = build(issuer=ca, issuer_name=name("somebody-else"))
    report = check(profiles.KUBELET, leaf, ca.cert)
    assert codes(report.errors) == [Code.ISSUER_MISMATCH]
    assert "somebody-else" in report.errors[0].detail


def test_leaf_whose_aki_is_not_the_ca_key_is_an_aki_mismatch(ca):
    leaf = build(issuer=ca, aki=bytes(range(20)))
    assert codes(check(profiles.KUBELET, leaf, ca.cert).errors) == [Code.AKI_MISMATCH]


def test_ca_certificate_without_basic_constraints_is_not_a_ca(ca):
    not_ca = build(subject=name("pretend-ca"), ca=None, key_usage=None, eku=None)
    report = Report()
    check_ca(not_ca, "ca", report, dt.datetime.now(dt.UTC), WINDOW)
    assert codes(report.errors) == [Code.NOT_A_CA]


def test_ca_certificate_with_ca_false_is_not_a_ca():
    not_ca = build(
        subject=name("pretend-ca"), ca=False, key_usage=("digital_signature", "key_cert_sign"), eku=None
    )
    report = Report()
    check_ca(not_ca.cert, "ca", report, dt.datetime.now(dt.UTC), WINDOW)
    assert codes(report.errors) == [Code.NOT_A_CA]


def test_ca_without_key_cert_sign_cannot_sign():
    ca = build_ca("no-sign-ca", key_usage=("digital_signature", "crl_sign"))
    report = Report()
    check_ca(ca, "ca", report, dt.datetime.now(dt.UTC), WINDOW)
    assert codes(report.errors) == [Code.CA_CANNOT_SIGN]


def test_ca_with_someone_elses_key_is_a_key_mismatch(ca):
    report = Report()
    check_ca(KeyPair(ca.cert, new_key()), "ca", report, dt.datetime.now(dt.UTC), WINDOW)
    assert codes(report.errors) == [Code.KEY_MISMATCH]


# --- the role: CA-ness, EKU, keyUsage, SANs -----------------------------------------------------------------


def test_ca_certificate_given_as_a_leaf_is_rejected(ca):
    assert codes(check(profiles.KUBELET, ca, ca.cert).errors) == [Code.CA_AS_LEAF]


def test_tectonic_style_etcd_server_cert_without_client_auth_is_rejected(ca):
    leaf = build(issuer=ca, eku=(SERVER,), sans=("localhost", "127.0.0.1"))
    report = check(profiles.ETCD_SERVER, leaf, ca.cert)
    assert codes(report.errors) == [Code.MISSING_EKU]
    assert "client_auth" in report.errors[0].detail


def test_server_role_with_only_client_auth_is_missing_server_auth(ca):
    leaf = build(issuer=ca, eku=(CLIENT,), sans=("tectonic-identity-api.tectonic-system.svc",))
    inputs = profiles.Inputs(identity_names=("tectonic-identity-api.tectonic-system.svc",))
    report = check(profiles.IDENTITY_SERVER, leaf, ca.cert, inputs=inputs)
    assert codes(report.errors) == [Code.MISSING_EKU]
    assert "server_auth" in report.errors[0].detail


@pytest.mark.parametrize(
    "eku", [None, (ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,)], ids=["no-eku", "any-eku"]
)
def test_leaf_without_eku_or_with_any_eku_passes_like_go(ca, eku):
    assert codes(check(profiles.ETCD_CLIENT, build(issuer=ca, eku=eku), ca.cert).errors) == []


def test_ec_key_with_key_encipherment_is_a_bad_key_usage(ca):
    leaf = build(issuer=ca, key_usage=("digital_signature", "key_encipherment"))
    report = check(profiles.KUBELET, leaf, ca.cert)
    assert codes(report.errors) == [Code.BAD_KEY_USAGE]
    assert "keyEncipherment" in report.errors[0].detail


def test_rsa_key_with_key_encipherment_is_fine(rsa_ca):
    leaf = build(issuer=rsa_ca, key=new_key("RSA-2048"), key_usage=("digital_signature", "key_encipherment"))
    assert codes(check(profiles.KUBELET, leaf, rsa_ca.cert).errors) == []


def test_key_usage_without_digital_signature_is_a_bad_key_usage(rsa_ca):
    leaf = build(issuer=rsa_ca, key=new_key("RSA-2048"), key_usage=("key_encipherment",))
    assert codes(check(profiles.KUBELET, leaf, rsa_ca.cert).errors) == [Code.BAD_KEY_USAGE]


def test_apiserver_cert_without_any_san_is_missing_san_with_a_cn_hint(ca):
    leaf = build(issuer=ca, subject=name("kube-apiserver"))
    report = check(profiles.APISERVER, leaf, ca.cert, inputs=APISERVER_INPUTS)
    assert codes(report.errors) == [Code.MISSING_SAN]
    assert "no subjectAltName at all" in report.errors[0].detail


def test_apiserver_cert_missing_some_names_lists_exactly_the_missing_ones(ca):
    leaf = build(issuer=ca, sans=("api.example.com", "kubernetes", "kubernetes.default"))
    report = check(profiles.APISERVER, leaf, ca.cert, inputs=APISERVER_INPUTS)
    assert codes(report.errors) == [Code.MISSING_SAN]
    detail = report.errors[0].detail
    for missing in ("DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local", "IP:10.3.0.1"):
        assert missing in detail
    assert "DNS:api.example.com" not in detail


def test_apiserver_cert_with_every_required_name_passes(ca):
    leaf = build(issuer=ca, sans=APISERVER_SANS)
    assert codes(check(profiles.APISERVER, leaf, ca.cert, inputs=APISERVER_INPUTS).errors) == []


def test_an_ip_needs_an_ip_san_not_a_dns_san(ca):
    inputs = profiles.Inputs(ip_addresses=("192.168.10.11",))
    leaf = build(issuer=ca, san_entries=[x509.DNSName("localhost"), x509.DNSName("192.168.10.11")])
    report = check(profiles.ETCD_SERVER, leaf, ca.cert, inputs=inputs)
    assert codes(report.errors) == [Code.MISSING_SAN]
    assert "IP:192.168.10.11" in report.errors[0].detail
    with_ip = build(issuer=ca, san_entries=[x509.IPAddress(ipaddress.ip_address("192.168.10.11"))])
    assert codes(check(profiles.ETCD_SERVER, with_ip, ca.cert, inputs=inputs).errors) == []


def test_loopback_and_service_names_are_not_demanded_of_a_users_etcd_server_cert(ca):
    inputs = profiles.Inputs(dns_names=("etcd-0.example.com",), service_cidr="10.3.0.0/24")
    leaf = build(issuer=ca, sans=("etcd-0.example.com", "10.3.0.15", "10.3.0.20"))
    assert codes(check(profiles.ETCD_SERVER, leaf, ca.cert, inputs=inputs).errors) == []


def test_a_wildcard_san_covers_a_required_name_one_label_deep(ca):
    inputs = profiles.Inputs(dns_names=("etcd-0.example.com",))
    leaf = build(issuer=ca, sans=("*.example.com",))
    assert codes(check(profiles.ETCD_PEER, leaf, ca.cert, inputs=inputs).errors) == []
    too_wide = build(issuer=ca, sans=("*.com",))
    assert codes(check(profiles.ETCD_PEER, too_wide, ca.cert, inputs=inputs).errors) == [Code.MISSING_SAN]


# --- strength -----------------------------------------------------------------------------------------------


def test_rsa_1024_leaf_is_weak(rsa_ca):
    leaf = build(issuer=rsa_ca, key=new_key("RSA-1024"))
    assert codes(check(profiles.KUBELET, leaf, rsa_ca.cert).errors) == [Code.WEAK_RSA]


def test_leaf_on_a_curve_outside_the_allowed_set_is_weak(ca):
    try:
        key = ec.generate_private_key(ec.SECP256K1())
    except Exception:  # noqa: BLE001 - a backend without secp256k1
        pytest.skip("this OpenSSL build has no secp256k1")
    leaf = build(issuer=ca, key=key)
    assert codes(check(profiles.KUBELET, leaf, ca.cert).errors) == [Code.WEAK_CURVE]


@pytest.fixture(scope="module")
def sha1_leaf(rsa_ca) -> KeyPair:
    good = build(issuer=rsa_ca, key=new_key("RSA-2048"))
    return KeyPair(resign_with_sha1(good.cert, rsa_ca.key), good.key)


def test_sha1_signed_leaf_is_a_weak_signature(rsa_ca, sha1_leaf):
    assert Code.WEAK_SIGNATURE in codes(check(profiles.KUBELET, sha1_leaf, rsa_ca.cert).errors)


def test_sha1_signed_leaf_is_reported_as_weak_not_as_badly_signed(rsa_ca, sha1_leaf):
    assert codes(check(profiles.KUBELET, sha1_leaf, rsa_ca.cert).errors) == [Code.WEAK_SIGNATURE]


def test_sha1_self_signature_of_a_root_ca_is_not_held_against_it():
    # Go never checks a root's self-signature, so a SHA-1 root is usable
    root = build_ca("sha1-root", key=new_key("RSA-2048"))
    sha1_root = KeyPair(resign_with_sha1(root.cert, root.key), root.key)
    report = Report()
    check_ca(sha1_root, "ca", report, dt.datetime.now(dt.UTC), WINDOW)
    assert codes(report.errors) == []


def test_unknown_critical_extension_is_refused_like_go(ca):
    leaf = build(issuer=ca)
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.cert.subject)
        .issuer_name(ca.cert.subject)
        .public_key(leaf.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - DAY)
        .not_valid_after(NOW + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
            critical=True,
        )
    )
    odd = KeyPair(builder.sign(ca.key, hashes.SHA256()), leaf.key)
    assert codes(check(profiles.KUBELET, odd, ca.cert).errors) == [Code.CRITICAL_EXTENSION]


def test_leaf_with_a_key_type_go_cannot_use_is_unsupported(ca):
    leaf = build(issuer=ca, key=ed448.Ed448PrivateKey.generate())
    assert codes(check(profiles.KUBELET, leaf, ca.cert).errors) == [Code.UNSUPPORTED_KEY]


# --- chains -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_level():
    """A root that may sign CAs, an intermediate under it, and a kubelet leaf under the intermediate."""
    root = build_ca("root-ca", path_length=1)
    intermediate = build(
        subject=name("intermediate-ca"),
        issuer=root,
        ca=True,
        path_length=0,
        key_usage=("digital_signature", "key_cert_sign", "crl_sign"),
        eku=None,
    )
    leaf = build(issuer=intermediate)
    return root, intermediate, leaf


def test_chain_with_an_intermediate_that_verifies_passes(two_level):
    root, intermediate, leaf = two_level
    assert codes(check(profiles.KUBELET, leaf, root.cert, chain=[intermediate.cert]).errors) == []


def test_chain_whose_intermediate_is_not_signed_by_the_ca_fails_at_the_intermediate(two_level):
    root, intermediate, leaf = two_level
    stranger = build_ca("root-ca", path_length=1)  # same name as the root, another key
    report = check(profiles.KUBELET, leaf, stranger.cert, chain=[intermediate.cert])
    assert Code.BAD_SIGNATURE in codes(report.errors)
    assert all("intermediate" in p.where for p in report.errors if p.code is Code.BAD_SIGNATURE)


def test_leaf_checked_against_the_root_without_its_intermediate_is_an_issuer_mismatch(two_level):
    root, _, leaf = two_level
    assert codes(check(profiles.KUBELET, leaf, root.cert).errors) == [Code.ISSUER_MISMATCH]


def test_intermediate_that_is_not_a_ca_is_rejected():
    root = build_ca("root-ca", path_length=1)
    not_a_ca = build(subject=name("intermediate"), issuer=root, ca=False, eku=None)
    leaf = build(issuer=not_a_ca)
    report = check(profiles.KUBELET, leaf, root.cert, chain=[not_a_ca.cert])
    assert Code.NOT_A_CA in codes(report.errors)
    assert all("intermediate" in p.where for p in report.errors if p.code is Code.NOT_A_CA)


def test_expired_intermediate_is_rejected():
    root = build_ca("root-ca", path_length=1)
    old = build(
        subject=name("intermediate"),
        issuer=root,
        ca=True,
        path_length=0,
        key_usage=("digital_signature", "key_cert_sign"),
        eku=None,
        not_before=NOW - 30 * DAY,
        not_after=NOW - DAY,
    )
    leaf = build(issuer=old)
    report = check(profiles.KUBELET, leaf, root.cert, chain=[old.cert])
    assert codes(report.errors) == [Code.EXPIRED]
    assert "intermediate" in report.errors[0].where


def test_intermediate_under_a_path_length_zero_root_is_rejected():
    root = build_ca("root-ca", path_length=0)
    intermediate = build(
        subject=name("intermediate"),
        issuer=root,
        ca=True,
        path_length=0,
        key_usage=("digital_signature", "key_cert_sign"),
        eku=None,
    )
    leaf = build(issuer=intermediate)
    assert codes(check(profiles.KUBELET, leaf, root.cert, chain=[intermediate.cert]).errors) == [
        Code.PATH_TOO_LONG
    ]


# --- several problems at once -------------------------------------------------------------------------------


def test_every_problem_is_reported_together_sorted_by_code(rsa_ca):
    leaf = build(
        issuer=rsa_ca,
        key=new_key("RSA-1024"),
        not_before=NOW - 10 * DAY,
        not_after=NOW - DAY,
        sans=("api.example.com",),
    )
    report = check(profiles.APISERVER, leaf, rsa_ca.cert, key=new_key("RSA-1024"), inputs=APISERVER_INPUTS)
    with pytest.raises(TfextError) as info:
        report.raise_errors()
    got = raised_codes(info.value)
    assert got == [Code.KEY_MISMATCH, Code.MISSING_SAN, Code.EXPIRED, Code.WEAK_RSA]
    assert [c.number for c in got] == sorted(c.number for c in got)
    text = str(info.value)
    assert text.startswith("4 problems found:")
    assert [line.split()[1] for line in text.splitlines()[1:]] == [c.tag for c in got]


def test_a_report_with_only_warnings_raises_nothing(ca):
    report = check(profiles.KUBELET, build(issuer=ca, not_after=NOW + dt.timedelta(hours=2)), ca.cert)
    report.raise_errors()
    assert codes(report.warnings) == [Code.EXPIRES_SOON]


# --- Go's hostname matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("api.example.com", "api.example.com", True),
        ("API.Example.COM", "api.example.com", True),  # case-insensitive
        ("api.example.com", "Api.Example.Com", True),
        ("api.example.com.", "api.example.com", True),  # a trailing dot is the same name
        ("api.example.com", "api.example.com.", True),
        ("*.example.com", "api.example.com", True),  # one label
        ("*.EXAMPLE.com", "Api.example.COM", True),
        ("*.example.com", "a.b.example.com", False),  # never two labels
        ("*.example.com", "example.com", False),  # never zero labels
        ("*.example.com", ".example.com", False),
        ("a*.example.com", "ab.example.com", False),  # no partial-label wildcards
        ("*a.example.com", "ba.example.com", False),
        ("api.*.com", "api.example.com", False),  # only the left-most label
        ("*", "localhost", False),
        ("example.com", "api.example.com", False),
        ("api.example.com", "api.example.org", False),
        ("*.example.com", "api.example.org", False),
    ],
)
def test_name_matches_follows_go_hostname_rules(pattern, host, expected):
    assert name_matches(pattern, host) is expected


# --- reading files ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory, ca):
    d = tmp_path_factory.mktemp("files")
    leaf = issue.issue(
        profiles.KUBELET, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=24, issuer=ca
    )
    paths = {
        "cert": d / "leaf.pem",
        "key": d / "leaf.key",
        "two": d / "two.pem",
        "empty": d / "empty.pem",
        "blank": d / "blank.pem",
        "big": d / "big.pem",
        "bad-cert": d / "bad.pem",
        "cert+key": d / "combined.pem",
    }
    paths["cert"].write_text(cert_pem(leaf.cert))
    paths["key"].write_text(key_pem(leaf.key))
    paths["two"].write_text(cert_pem(leaf.cert) + cert_pem(ca.cert))
    paths["empty"].write_bytes(b"")
    paths["blank"].write_text("\n  \n\t\n")
    paths["big"].write_bytes(b"A" * (MAX_PEM_FILE_BYTES + 1))
    paths["bad-cert"].write_text("-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    paths["cert+key"].write_text(cert_pem(leaf.cert) + key_pem(leaf.key))
    return {k: str(v) for k, v in paths.items()} | {"dir": str(d), "leaf": leaf}


def _read_code(fn) -> Code:
    with pytest.raises(TfextError) as info:
        fn()
    assert len(info.value.problems) == 1
    return info.value.problems[0].code


def test_missing_file_is_file_missing_and_names_the_path(files):
    missing = os.path.join(files["dir"], "nope.pem")
    with pytest.raises(TfextError) as info:
        read_file(missing, "apiserver certificate")
    assert raised_codes(info.value) == [Code.FILE_MISSING]
    assert missing in str(info.value) and "apiserver certificate" in str(info.value)


def test_a_path_with_a_nul_byte_is_file_unreadable_not_a_crash(files):
    # hypothesis found it (tests/validation/test_fuzzing.py): os.open raises ValueError, not OSError
    assert _read_code(lambda: read_file(files["dir"] + "/\x00", "ca certificate")) == Code.FILE_UNREADABLE


def test_directory_is_file_unreadable(files):
    assert _read_code(lambda: read_file(files["dir"], "ca certificate")) == Code.FILE_UNREADABLE


@pytest.mark.parametrize("which", ["empty", "blank"])
def test_empty_or_blank_file_is_file_empty(files, which):
    assert _read_code(lambda: read_file(files[which], "ca certificate")) == Code.FILE_EMPTY


def test_file_over_the_limit_is_file_too_large(files):
    assert _read_code(lambda: read_file(files["big"], "ca certificate")) == Code.FILE_TOO_LARGE


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode"
)
def test_file_without_read_permission_is_file_unreadable(tmp_path):
    locked = tmp_path / "locked.pem"
    locked.write_text("x")
    locked.chmod(0)
    assert _read_code(lambda: read_file(str(locked), "ca certificate")) == Code.FILE_UNREADABLE


def test_a_fifo_is_file_unreadable_instead_of_hanging(tmp_path):
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    assert _read_code(lambda: read_file(str(fifo), "ca certificate")) == Code.FILE_UNREADABLE


def test_a_dangling_symlink_is_reported_not_crashed_on(tmp_path):
    link = tmp_path / "ca.pem"
    link.symlink_to(tmp_path / "gone.pem")
    assert _read_code(lambda: read_file(str(link), "ca certificate")) in (
        Code.FILE_MISSING,
        Code.FILE_UNREADABLE,
    )


def test_pem_text_given_as_a_path_is_not_a_path_and_is_not_echoed(files):
    key_text = Path(files["key"]).read_text()
    with pytest.raises(TfextError) as info:
        read_file(key_text, "apiserver key")
    assert raised_codes(info.value) == [Code.NOT_A_PATH]
    assert leaked_lines(key_text, str(info.value)) == 0, "key material in the message"


def test_a_der_certificate_is_not_pem_with_a_hint_to_convert(tmp_path, files):
    der = tmp_path / "leaf.der"
    der.write_bytes(files["leaf"].cert.public_bytes(serialization.Encoding.DER))
    with pytest.raises(TfextError) as info:
        load_given("ca", str(der), None, chain_allowed=False)
    assert raised_codes(info.value) == [Code.NOT_PEM]
    assert "DER" in str(info.value)


def test_problems_of_a_certificate_file_and_its_key_file_are_reported_together(tmp_path, files):
    with pytest.raises(TfextError) as info:
        load_given("kubelet", str(tmp_path / "gone.pem"), files["cert"], chain_allowed=True)
    assert raised_codes(info.value) == [Code.FILE_MISSING, Code.NOT_PEM]


def test_a_key_file_where_a_certificate_is_expected_is_not_pem_and_does_not_echo_the_key(files):
    key_text = Path(files["key"]).read_text()
    with pytest.raises(TfextError) as info:
        load_given("apiserver", files["key"], None, chain_allowed=True)
    assert raised_codes(info.value) == [Code.NOT_PEM]
    assert leaked_lines(key_text, str(info.value)) == 0, "key material in the message"
    assert "PRIVATE KEY" in redact(str(info.value), key_text)  # says what it found


def test_a_certificate_file_where_a_key_is_expected_is_not_pem(files):
    data = Path(files["cert"]).read_bytes()
    assert _read_code(lambda: parse_private_key(data, "apiserver key")) == Code.NOT_PEM


def test_a_combined_cert_and_key_file_is_not_a_key_file(files):
    data = Path(files["cert+key"]).read_bytes()
    assert _read_code(lambda: parse_private_key(data, "apiserver key")) == Code.NOT_PEM


def test_two_certificates_where_one_is_expected_is_too_many_certs(files):
    data = Path(files["two"]).read_bytes()
    with pytest.raises(TfextError) as info:
        parse_certificates(data, "ca certificate", chain_allowed=False)
    assert raised_codes(info.value) == [Code.TOO_MANY_CERTS]
    assert "2 certificates" in str(info.value)


def test_two_certificates_are_a_chain_where_a_chain_is_allowed(files):
    data = Path(files["two"]).read_bytes()
    chain = parse_certificates(data, "apiserver certificate", chain_allowed=True)
    assert [c.subject for c in chain] == [files["leaf"].cert.subject, chain[1].issuer]


def test_a_certificate_block_that_does_not_parse_is_not_pem(files):
    assert _read_code(lambda: load_given("ca", files["bad-cert"], None, chain_allowed=False)) == Code.NOT_PEM


def test_text_without_pem_blocks_is_not_pem():
    assert (
        _read_code(lambda: parse_certificates(b"just some text\n", "ca", chain_allowed=False)) == Code.NOT_PEM
    )


def test_load_given_keeps_the_file_texts_exactly(files):
    given = load_given("kubelet", files["cert"], files["key"], chain_allowed=True)
    assert given.cert_text == Path(files["cert"]).read_text()
    assert digest(given.key_text) == digest(Path(files["key"]).read_text())
    assert given.cert == files["leaf"].cert
    assert given.key is not None


def test_utf8_text_around_a_valid_pem_does_not_crash(tmp_path, files):
    cert_file = tmp_path / "with-text.pem"
    key_file = tmp_path / "with-text.key"
    cert_file.write_bytes("subject=O = Straße, CN = kubelet\n".encode() + Path(files["cert"]).read_bytes())
    key_file.write_bytes("friendlyName: clé\n".encode() + Path(files["key"]).read_bytes())
    try:
        given = load_given("kubelet", str(cert_file), str(key_file), chain_allowed=True)
    except TfextError:
        return  # a clear error is acceptable too
    assert given.cert_text == cert_file.read_text("utf-8")
