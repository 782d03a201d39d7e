"""The engine every program runs: issue in stages like Terraform, adopt a given CA, verify user files."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tfext import certinfo, issue, keys, profiles, protocol
from tfext.errors import Code, TfextError
from tfext.programs import MODULES, PROGRAMS

from ._pki import (
    NOW,
    build,
    cert_fingerprint,
    cert_pem,
    digest,
    key_fingerprint,
    key_pem,
    leaked_lines,
    load_cert,
    new_key,
    pem_header,
    raised_codes,
    redact,
    run_program,
    spki,
)

T_OLD = "2030-01-01T00:00:00Z"
EMPTY = digest("")
T = "2030-01-01T00:05:00Z"
ALG = "ECDSA-P256"

INPUTS = {
    "etcd": {
        "dns_names": '["etcd-0.example.com"]',
        "ip_addresses": '["192.168.10.11"]',
        "service_cidr": "10.3.0.0/24",
    },
    "kube": {"kube_apiserver_url": "https://api.example.com:443", "service_cidr": "10.3.0.0/24"},
    "identity": {},
    "ingress": {"base_address": "console.example.com:443"},
}
SELF_SIGNED = {
    "etcd": "etcd-signed",
    "kube": "kube-self-signed",
    "identity": "identity-self-signed",
    "ingress": "ingress-self-signed",
}
USER_PROVIDED = {m: f"{m}-user-provided" for m in MODULES}


def slot_keys(slot: str) -> set[str]:
    return {f"{slot}_cert_pem", f"{slot}_key_pem", f"{slot}_key_path", f"{slot}_info"} | (
        {"ca_key_alg"} if slot == "ca" else set()
    )


def ca_stage(module: str, **extra: str) -> dict[str, str]:
    return run_program(
        SELF_SIGNED[module],
        {"plan_time": T, "ca_issued_at": T, "key_algorithm": ALG, **INPUTS[module], **extra},
    )


def leaves_stage(module: str, ca_cert: str, ca_key: str, **extra: str) -> dict[str, str]:
    program = SELF_SIGNED[module]
    query = {
        "plan_time": T,
        "ca_cert_pem": ca_cert,
        "ca_key_pem": ca_key,
        "key_algorithm": ALG,
        **INPUTS[module],
        **extra,
    }
    for slot in MODULES[module].leaves:
        query[f"{slot.name}_issued_at"] = T
    if "ca_issued_at" in protocol.load_schema(program)["properties"]:
        query["ca_issued_at"] = T_OLD  # the CA was captured in an earlier plan, as Terraform does it
    return run_program(program, query)


@pytest.fixture(scope="module")
def staged() -> dict[str, tuple[dict, dict]]:
    """Each module in two stages: the CA (identity and ingress use the kube CA), then the leaves, asked
    as the modules ask (the facts as a list)."""
    out = {}
    for module in ("etcd", "kube"):
        ca = ca_stage(module, facts_as="list")
        out[module] = (ca, leaves_stage(module, ca["ca_cert_pem"], ca["ca_key_pem"], facts_as="list"))
    kube_ca = out["kube"][0]
    for module in ("identity", "ingress"):
        out[module] = (
            kube_ca,
            leaves_stage(module, kube_ca["ca_cert_pem"], kube_ca["ca_key_pem"], facts_as="list"),
        )
    return out


# --- issuing in stages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["etcd", "kube"])
def test_ca_stage_gives_exactly_the_ca_outputs(staged, module):
    ca, _ = staged[module]
    assert set(ca) == slot_keys("ca")
    assert ca["ca_key_alg"] == "ECDSA"
    cert = load_cert(ca["ca_cert_pem"])
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    expected_cn = {"etcd": "etcd-ca", "kube": "kube-ca"}[module]
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == expected_cn
    key = keys.load_private_key(ca["ca_key_pem"], "ca")
    assert spki(key) == spki(cert.public_key()), (
        f"CA key {key_fingerprint(key)} != cert {cert_fingerprint(cert)}"
    )


@pytest.mark.parametrize("module", list(MODULES))
def test_leaves_stage_signs_every_leaf_with_the_ca_of_the_first_stage(staged, module):
    ca_out, leaves = staged[module]
    ca = load_cert(ca_out["ca_cert_pem"])
    expected = set().union(*(slot_keys(s.name) for s in MODULES[module].leaves))
    if module in ("etcd", "kube"):
        expected |= slot_keys("ca")
        assert {digest(leaves[k]) for k in slot_keys("ca")} == {EMPTY}, (
            "the captured CA must be answered with placeholders"
        )
    assert set(leaves) == expected
    for slot in MODULES[module].leaves:
        cert = load_cert(leaves[f"{slot.name}_cert_pem"])
        cert.verify_directly_issued_by(ca)
        key = keys.load_private_key(leaves[f"{slot.name}_key_pem"], slot.name)
        assert spki(key) == spki(cert.public_key()), (
            f"{slot.name}: key {key_fingerprint(key)} != cert {cert_fingerprint(cert)}"
        )
        assert pem_header(leaves[f"{slot.name}_key_pem"]) == "-----BEGIN EC PRIVATE KEY-----"


@pytest.mark.parametrize("module", list(MODULES))
def test_info_output_describes_the_certificate(staged, module):
    _, leaves = staged[module]
    for slot in MODULES[module].leaves:
        cert = load_cert(leaves[f"{slot.name}_cert_pem"])
        info = certinfo.facts_of(leaves[f"{slot.name}_info"])
        assert info == certinfo.describe(cert) | {"key_from_csr": False}
        assert info["sha256_fingerprint"] == cert.fingerprint(hashes.SHA256()).hex()
        assert info["is_ca"] is False
        assert info["not_after"].endswith("Z")


def test_info_is_a_list_in_the_fact_order_with_false_flags_left_off(staged):
    ca, leaves = staged["kube"]
    leaf = json.loads(leaves["apiserver_info"])
    assert isinstance(leaf, list) and len(leaf) == len(certinfo.FACT_ORDER) - 2  # is_ca, key_from_csr: false
    assert leaf[certinfo.FACT_ORDER.index("subject")].startswith("CN=kube-apiserver")
    authority = json.loads(ca["ca_info"])
    assert (
        authority[certinfo.FACT_ORDER.index("is_ca")] is True
        and len(authority) == len(certinfo.FACT_ORDER) - 1
    )
    described = certinfo.describe(load_cert(leaves["apiserver_cert_pem"]))
    from_csr = json.loads(certinfo.info_text(described | {"key_from_csr": True}))
    assert from_csr[-2:] == [False, True]
    assert certinfo.facts_of(certinfo.info_text(described | {"key_from_csr": True}))["key_from_csr"] is True


def test_info_is_an_object_for_modules_that_do_not_ask_for_the_list():
    # The modules of tfext 0.4 and earlier, run by this program (an upgrade's first plan, or its test).
    facts = json.loads(ca_stage("kube")["ca_info"])
    assert isinstance(facts, dict) and facts["is_ca"] is True and "key_from_csr" not in facts


def test_facts_of_reads_the_list_the_object_of_earlier_records_and_nothing():
    facts = {name: f"v-{name}" for name in certinfo.FACT_ORDER[:-2]} | {"is_ca": True}
    assert certinfo.facts_of(certinfo.info_text(facts)) == facts | {"key_from_csr": False}
    assert certinfo.facts_of(json.dumps(facts)) == facts  # a record written before 0.5.0
    assert certinfo.facts_of("") == {}


def test_the_issuing_stage_decodes_info_in_the_same_order():
    text = (Path(__file__).resolve().parents[2] / "terraform/modules/tls/internal/issue/main.tf").read_text()
    (order,) = re.findall(r"^\s*fact_order\s*=\s*(\[.*\])$", text, re.M)
    assert tuple(json.loads(order)) == certinfo.FACT_ORDER


def test_etcd_leaves_carry_the_module_inputs_and_the_server_is_also_a_client(staged):
    _, leaves = staged["etcd"]
    server = load_cert(leaves["server_cert_pem"])
    sans = certinfo.san_strings(server)
    for expected in (
        "DNS:etcd-0.example.com",
        "DNS:localhost",
        "IP:192.168.10.11",
        "IP:127.0.0.1",
        "IP:10.3.0.15",
        "IP:10.3.0.20",
    ):
        assert expected in sans
    assert {"server_auth", "client_auth"} <= set(certinfo.usages(server))
    assert certinfo.san_strings(load_cert(leaves["client_cert_pem"])) == []


def test_kube_apiserver_sans_come_from_the_url_and_service_cidr(staged):
    sans = certinfo.san_strings(load_cert(staged["kube"][1]["apiserver_cert_pem"]))
    assert (
        "DNS:api.example.com" in sans
        and "IP:10.3.0.1" in sans
        and "DNS:kubernetes.default.svc.cluster.local" in sans
    )


def test_identity_server_defaults_to_the_service_names(staged):
    sans = certinfo.san_strings(load_cert(staged["identity"][1]["server_cert_pem"]))
    assert sans == [
        "DNS:tectonic-identity-api.tectonic-system.svc",
        "DNS:tectonic-identity-api.tectonic-system.svc.cluster.local",
    ]


def test_ingress_cert_is_for_the_host_of_base_address(staged):
    assert certinfo.san_strings(load_cert(staged["ingress"][1]["ingress_cert_pem"])) == [
        "DNS:console.example.com"
    ]


def test_key_format_pkcs8_applies_to_the_ca_and_leaves():
    ca = ca_stage("kube", key_format="pkcs8")
    assert pem_header(ca["ca_key_pem"]) == "-----BEGIN PRIVATE KEY-----"
    leaves = leaves_stage("kube", ca["ca_cert_pem"], ca["ca_key_pem"], key_format="pkcs8")
    assert pem_header(leaves["apiserver_key_pem"]) == "-----BEGIN PRIVATE KEY-----"


def test_validity_period_sets_not_after_hours_from_now():
    now = NOW
    out = run_program(
        "etcd-signed",
        {"plan_time": T, "ca_issued_at": T, "key_algorithm": ALG, "validity_period": "48"},
        now=now,
    )
    cert = load_cert(out["ca_cert_pem"])
    assert cert.not_valid_after_utc == now + dt.timedelta(hours=48)


def test_key_algorithm_defaults_to_rsa_2048():
    out = run_program("kube-self-signed", {"plan_time": T, "ca_issued_at": T})
    assert out["ca_key_alg"] == "RSA"
    assert load_cert(out["ca_cert_pem"]).public_key().key_size == 2048
    assert pem_header(out["ca_key_pem"]) == "-----BEGIN RSA PRIVATE KEY-----"


def test_issuing_leaves_without_any_ca_names_the_missing_ca_cert_pem():
    with pytest.raises(TfextError) as info:
        run_program("kube-self-signed", {"plan_time": T, "apiserver_issued_at": T})
    assert raised_codes(info.value) == [Code.MISSING_KEY]
    assert info.value.problems[0].where == "query.ca_cert_pem"


def test_nothing_to_do_gives_an_empty_result():
    assert run_program("kube-self-signed", {}) == {}


# --- adopting a given CA ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def given_cas():
    return {
        alg: issue.issue(
            profiles.KUBE_CA, profiles.Inputs(), key_algorithm=alg, validity_hours=24 * 30, issuer=None
        )
        for alg in ("RSA-2048", "ECDSA-P256", "ED25519")
    }


@pytest.mark.parametrize(
    ("alg", "family"), [("RSA-2048", "RSA"), ("ECDSA-P256", "ECDSA"), ("ED25519", "ED25519")]
)
@pytest.mark.parametrize("key_format", ["traditional", "pkcs8"])
@pytest.mark.parametrize("program", ["kube-self-signed", "etcd-signed"])
def test_adopting_a_given_ca_returns_it_unchanged_with_its_key_family_detected(
    given_cas, program, alg, family, key_format
):
    pair = given_cas[alg]
    ca_text, key_text = cert_pem(pair.cert), keys.to_pem(pair.key, key_format)
    out = run_program(
        program, {"plan_time": T, "ca_issued_at": T, "ca_cert_pem": ca_text, "ca_key_pem": key_text}
    )
    assert out["ca_cert_pem"] == ca_text
    assert digest(out["ca_key_pem"]) == digest(key_text)
    assert out["ca_key_alg"] == family
    assert (
        certinfo.facts_of(out["ca_info"])["sha256_fingerprint"]
        == pair.cert.fingerprint(hashes.SHA256()).hex()
    )


def test_an_adopted_ca_signs_the_leaves_issued_in_the_same_run(given_cas):
    pair = given_cas["ED25519"]
    query = {
        "plan_time": T,
        "ca_issued_at": T,
        "apiserver_issued_at": T,
        "kubelet_issued_at": T,
        "ca_cert_pem": cert_pem(pair.cert),
        "ca_key_pem": keys.to_pem(pair.key),
        "key_algorithm": ALG,
    }
    out = run_program("kube-self-signed", query)
    for slot in ("apiserver", "kubelet"):
        load_cert(out[f"{slot}_cert_pem"]).verify_directly_issued_by(pair.cert)


@pytest.mark.parametrize(
    ("make_query", "code"),
    [
        (
            lambda ca, leaf: {"ca_cert_pem": cert_pem(leaf.cert), "ca_key_pem": keys.to_pem(leaf.key)},
            Code.NOT_A_CA,
        ),
        (
            lambda ca, leaf: {"ca_cert_pem": cert_pem(ca.cert), "ca_key_pem": keys.to_pem(leaf.key)},
            Code.KEY_MISMATCH,
        ),
        (lambda ca, leaf: {"ca_cert_pem": cert_pem(ca.cert)}, Code.MISSING_KEY),
        (
            lambda ca, leaf: {
                "ca_cert_pem": cert_pem(ca.cert),
                "ca_key_pem": ca.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(b"pw"),
                ).decode(),
            },
            Code.ENCRYPTED_KEY,
        ),
        (
            lambda ca, leaf: {
                "ca_cert_pem": cert_pem(ca.cert) + cert_pem(leaf.cert),
                "ca_key_pem": keys.to_pem(ca.key),
            },
            Code.TOO_MANY_CERTS,
        ),
    ],
    ids=["leaf-as-ca", "wrong-key", "no-key", "encrypted-key", "two-certs"],
)
def test_a_given_ca_that_cannot_sign_is_refused(given_cas, make_query, code):
    ca = given_cas["ECDSA-P256"]
    leaf = issue.issue(profiles.KUBELET, profiles.Inputs(), key_algorithm=ALG, validity_hours=24, issuer=ca)
    query = {"plan_time": T, "ca_issued_at": T, **make_query(ca, leaf)}
    with pytest.raises(TfextError) as info:
        run_program("kube-self-signed", query)
    assert code in raised_codes(info.value)


def test_etcd_signed_adopts_a_ca_from_files_and_signs_with_it(tmp_path, given_cas):
    pair = given_cas["RSA-2048"]
    (tmp_path / "ca.pem").write_text(cert_pem(pair.cert))
    (tmp_path / "ca.key").write_text(keys.to_pem(pair.key))
    query = {
        "plan_time": T,
        "ca_issued_at": T,
        "client_issued_at": T,
        "key_algorithm": ALG,
        "ca_cert_path": str(tmp_path / "ca.pem"),
        "ca_key_path": str(tmp_path / "ca.key"),
    }
    out = run_program("etcd-signed", query)
    assert out["ca_cert_pem"] == (tmp_path / "ca.pem").read_text()
    # the key is named, never returned: the module reads it with file() into a sensitive value
    assert out["ca_key_pem"] == "" and out["ca_key_path"] == str((tmp_path / "ca.key").resolve())
    assert out["ca_key_alg"] == "RSA"
    load_cert(out["client_cert_pem"]).verify_directly_issued_by(pair.cert)


# --- user-provided files ------------------------------------------------------------------------------------


def write_module_files(tmp_path, module: str, staged) -> dict[str, str]:
    """Write a staged module's PEMs to files; returns the user-provided query (paths only)."""
    ca_out, leaves = staged[module]
    query = {}
    (tmp_path / "ca.pem").write_text(ca_out["ca_cert_pem"])
    query["ca_cert_path"] = str(tmp_path / "ca.pem")
    for slot in MODULES[module].leaves:
        for kind, ext in (("cert", "pem"), ("key", "key")):
            f = tmp_path / f"{slot.name}.{ext}"
            f.write_text(leaves[f"{slot.name}_{kind}_pem"])
            query[f"{slot.name}_{kind}_path"] = str(f)
    return query


@pytest.mark.parametrize("module", list(MODULES))
def test_user_provided_files_round_trip_byte_for_byte(tmp_path, staged, module):
    query = write_module_files(tmp_path, module, staged) | INPUTS[module]
    out = run_program(USER_PROVIDED[module], query)
    for key, path in query.items():
        if key.endswith("_cert_path"):
            got = digest(out[key.replace("_path", "_pem")])
            assert got == digest(Path(path).read_text()), f"{key} changed on the way"
        elif key.endswith("_key_path"):  # key files are named (absolute), never echoed as text
            assert out[key] == str(Path(path).resolve())
            assert out[key.replace("_path", "_pem")] == ""
    assert json.loads(out["warnings"]) == []
    assert digest(out["ca_key_pem"]) == EMPTY and out["ca_key_alg"] == ""
    for slot in MODULES[module].leaves:
        assert json.loads(out[f"{slot.name}_info"]) == certinfo.describe(
            load_cert(out[f"{slot.name}_cert_pem"])
        )


def test_kube_user_provided_passes_an_optional_ca_key_through(tmp_path, staged):
    query = write_module_files(tmp_path, "kube", staged) | INPUTS["kube"]
    (tmp_path / "ca.key").write_text(staged["kube"][0]["ca_key_pem"])
    out = run_program("kube-user-provided", query | {"ca_key_path": str(tmp_path / "ca.key")})
    assert out["ca_key_path"] == str((tmp_path / "ca.key").resolve()) and out["ca_key_pem"] == ""
    assert out["ca_key_alg"] == "ECDSA"


def test_dev_null_ca_key_path_is_treated_as_not_given(tmp_path, staged):
    query = write_module_files(tmp_path, "kube", staged) | INPUTS["kube"] | {"ca_key_path": "/dev/null"}
    out = run_program("kube-user-provided", query)
    assert digest(out["ca_key_pem"]) == EMPTY and out["ca_key_alg"] == ""


@pytest.mark.parametrize("not_given", ["", "/dev/null"])
def test_a_required_leaf_key_path_that_is_not_given_is_a_missing_key(tmp_path, staged, not_given):
    query = (
        write_module_files(tmp_path, "ingress", staged) | INPUTS["ingress"] | {"ingress_key_path": not_given}
    )
    with pytest.raises(TfextError) as info:
        run_program("ingress-user-provided", query)
    assert raised_codes(info.value) == [Code.MISSING_KEY]
    assert info.value.problems[0].where == "query.ingress_key_path"


@pytest.mark.parametrize("not_given", ["", "/dev/null"])
def test_etcd_signed_external_mode_without_a_ca_path_is_a_missing_key(not_given):
    query = {"ca_cert_path": not_given, "client_cert_path": "/tmp/c.pem", "client_key_path": "/tmp/c.key"}
    with pytest.raises(TfextError) as info:
        run_program("etcd-signed", query)
    assert raised_codes(info.value) == [Code.MISSING_KEY]
    assert info.value.problems[0].where == "query.ca_cert_path"


def test_etcd_signed_generate_mode_ignores_dev_null_ca_paths():
    query = {
        "plan_time": T,
        "ca_issued_at": T,
        "key_algorithm": ALG,
        "ca_cert_path": "/dev/null",
        "ca_key_path": "/dev/null",
    }
    out = run_program("etcd-signed", query)
    cert = load_cert(out["ca_cert_pem"])
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "etcd-ca"
    assert out["ca_key_alg"] == "ECDSA"


def test_etcd_signed_external_mode_checks_and_passes_through_the_ca_and_client_pair(tmp_path, staged):
    files = write_module_files(tmp_path, "etcd", staged)
    query = {k: files[k] for k in ("ca_cert_path", "client_cert_path", "client_key_path")}
    out = run_program("etcd-signed", query)
    assert out["ca_cert_pem"] == staged["etcd"][0]["ca_cert_pem"]
    assert out["client_cert_pem"] == staged["etcd"][1]["client_cert_pem"]
    assert out["client_key_path"] == str(Path(files["client_key_path"]).resolve())
    assert digest(out["ca_key_pem"]) == EMPTY and out["ca_key_alg"] == ""
    assert not any(k.startswith(("server_", "peer_")) for k in out)


def test_user_provided_apiserver_cert_for_another_url_is_missing_san(tmp_path, staged):
    query = (
        write_module_files(tmp_path, "kube", staged)
        | INPUTS["kube"]
        | {"kube_apiserver_url": "https://api.other.org"}
    )
    with pytest.raises(TfextError) as info:
        run_program("kube-user-provided", query)
    assert raised_codes(info.value) == [Code.MISSING_SAN]
    assert info.value.problems[0].where == "apiserver"
    assert "DNS:api.other.org" in info.value.problems[0].detail


def test_user_provided_leaves_from_another_ca_are_all_reported(tmp_path, staged):
    query = write_module_files(tmp_path, "identity", staged)
    other = issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm=ALG, validity_hours=24, issuer=None
    )
    (tmp_path / "ca.pem").write_text(cert_pem(other.cert))
    with pytest.raises(TfextError) as info:
        run_program("identity-user-provided", query)
    problems = info.value.problems
    assert {p.where for p in problems} == {"server", "client"}
    assert {p.code for p in problems} == {Code.AKI_MISMATCH, Code.BAD_SIGNATURE}
    assert [p.code.number for p in problems] == sorted(p.code.number for p in problems)
    key_text = staged["identity"][1]["server_key_pem"]
    assert leaked_lines(key_text, str(info.value)) == 0, "key material in the message"
    assert "PRIVATE KEY" not in redact(str(info.value), key_text)


def test_user_provided_cert_expiring_soon_is_a_warning_in_the_result(tmp_path, staged):
    query = write_module_files(tmp_path, "ingress", staged) | INPUTS["ingress"]
    ca_out, _ = staged["ingress"]
    ca = x509.load_pem_x509_certificate(ca_out["ca_cert_pem"].encode())
    ca_key = keys.load_private_key(ca_out["ca_key_pem"], "ca")
    from tfext.issue import KeyPair

    soon = build(
        issuer=KeyPair(ca, ca_key), sans=("console.example.com",), not_after=NOW + dt.timedelta(days=3)
    )
    (tmp_path / "ingress.pem").write_text(cert_pem(soon.cert))
    (tmp_path / "ingress.key").write_text(key_pem(soon.key))
    out = run_program("ingress-user-provided", query | {"renewal_window_hours": str(24 * 7)})
    warnings = json.loads(out["warnings"])
    assert len(warnings) == 1 and warnings[0].startswith(Code.EXPIRES_SOON.tag)
    quiet = run_program("ingress-user-provided", query | {"renewal_window_hours": "24"})
    assert json.loads(quiet["warnings"]) == []


def test_user_provided_key_of_another_cert_is_a_key_mismatch(tmp_path, staged):
    query = write_module_files(tmp_path, "kube", staged) | INPUTS["kube"]
    (tmp_path / "kubelet.key").write_text(key_pem(new_key()))
    with pytest.raises(TfextError) as info:
        run_program("kube-user-provided", query)
    assert raised_codes(info.value) == [Code.KEY_MISMATCH]
    assert info.value.problems[0].where == "kubelet"


def test_user_provided_missing_file_names_the_input(tmp_path, staged):
    query = write_module_files(tmp_path, "ingress", staged) | {
        "ingress_cert_path": str(tmp_path / "gone.pem")
    }
    with pytest.raises(TfextError) as info:
        run_program("ingress-user-provided", query)
    assert raised_codes(info.value) == [Code.FILE_MISSING]
    assert "gone.pem" in str(info.value)


# --- bad inputs name the key, even when there is nothing to issue -------------------------------------------

BAD_INPUTS = [
    ("etcd-signed", "dns_names", "not json", Code.INVALID_LIST),
    ("etcd-signed", "dns_names", '{"a": "b"}', Code.INVALID_LIST),
    ("etcd-signed", "dns_names", '["ok.example.com", 5]', Code.INVALID_LIST),
    ("etcd-signed", "dns_names", '["bad name!"]', Code.INVALID_ADDRESS),
    ("etcd-signed", "dns_names", '["-leading-hyphen.example.com"]', Code.INVALID_ADDRESS),
    ("etcd-signed", "ip_addresses", "10.0.0.1", Code.INVALID_LIST),
    ("etcd-signed", "ip_addresses", '["300.1.2.3"]', Code.INVALID_ADDRESS),
    ("etcd-signed", "ip_addresses", '["etcd.example.com"]', Code.INVALID_ADDRESS),
    ("etcd-signed", "service_cidr", "10.3.0.0/99", Code.INVALID_ADDRESS),
    ("etcd-signed", "service_cidr", "10.3.0.0/28", Code.INVALID_ADDRESS),  # host 20 is outside a /28
    ("kube-self-signed", "service_cidr", "ten.three/16", Code.INVALID_ADDRESS),
    ("kube-self-signed", "service_cidr", "10.3.0.7/32", Code.INVALID_ADDRESS),  # no host 1
    ("kube-self-signed", "kube_apiserver_url", "https://exa mple.com", Code.INVALID_ADDRESS),
    ("kube-self-signed", "kube_apiserver_url", "https://api.example.com:99999", Code.INVALID_ADDRESS),
    ("kube-self-signed", "dns_names", "[1, 2]", Code.INVALID_LIST),
    ("ingress-self-signed", "base_address", "bad_host!", Code.INVALID_ADDRESS),
    ("ingress-self-signed", "base_address", "console.example.com:http", Code.INVALID_ADDRESS),
    ("identity-self-signed", "identity_dns_names", '["-bad-"]', Code.INVALID_ADDRESS),
    ("identity-self-signed", "identity_dns_names", "tectonic-identity", Code.INVALID_LIST),
]


@pytest.mark.parametrize(
    ("program", "key", "value", "code"), BAD_INPUTS, ids=[f"{p}-{k}-{v}" for p, k, v, _ in BAD_INPUTS]
)
def test_bad_input_is_rejected_naming_the_key_even_with_the_gate_closed(program, key, value, code):
    query = {"plan_time": T, key: value}
    module = MODULES[PROGRAMS[program]]
    query[f"{module.leaves[0].name}_issued_at"] = T_OLD  # nothing to issue in this plan
    if program in ("identity-self-signed", "ingress-self-signed"):
        query |= {"ca_cert_pem": "unused", "ca_key_pem": "unused"}
    if program == "ingress-self-signed":
        query.setdefault("base_address", "a.example.com")
    with pytest.raises(TfextError) as info:
        run_program(program, query)
    assert raised_codes(info.value) == [code]
    assert info.value.problems[0].where == f"query.{key}"


def test_a_bare_ipv6_base_address_is_a_host():
    from tfext.programs.inputs import certificate_inputs

    assert certificate_inputs({"base_address": "2001:db8::7"}).ingress_host == "2001:db8::7"
