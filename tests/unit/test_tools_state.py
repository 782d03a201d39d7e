"""The tools' one state reader (`tfext.tools.state`) and their one pair judgement (`tfext.tools.pairs`):
which record of an issuing stage holds a slot's certificate in each layout, attributes wrapped or not,
and what is wrong with a certificate and its key - without printing either."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from tfext import issue, keys, profiles
from tfext.errors import Code
from tfext.tools import sources, state
from tfext.tools.pairs import judge

MODULE = "module.kube_certs.module.certs"


class Pem:
    """A certificate and its key as PEM text; its repr shows neither."""

    def __init__(self, pair):
        self.cert_pem = pair.cert.public_bytes(serialization.Encoding.PEM).decode()
        self.key_pem = keys.to_pem(pair.key)

    def __repr__(self) -> str:
        return "<pair, not shown>"


@pytest.fixture(scope="module")
def pems() -> dict[str, Pem]:
    inputs = profiles.Inputs(api_host="api.example.com", service_cidr="10.3.0.0/24")
    ca = issue.issue(profiles.KUBE_CA, inputs, key_algorithm="ECDSA-P256", validity_hours=48, issuer=None)
    leaf = issue.issue(profiles.APISERVER, inputs, key_algorithm="ECDSA-P256", validity_hours=24, issuer=ca)
    other = issue.issue(profiles.KUBELET, inputs, key_algorithm="ECDSA-P256", validity_hours=24, issuer=ca)
    return {"ca": Pem(ca), "apiserver": Pem(leaf), "kubelet": Pem(other)}


def wrap(value, wrapped: bool):
    return {"value": value, "type": "dynamic"} if wrapped else value


def resource(name: str, slot: str, attributes: dict, module: str = MODULE) -> dict:
    return {
        "module": module,
        "mode": "managed",
        "type": "terraform_data",
        "name": name,
        "instances": [{"index_key": slot, "attributes": attributes}],
    }


def marker(slot: str, legacy: bool, wrapped: bool = True, number: bool = False) -> dict:
    """A marker as tfext 0.4 made it (`legacy`: a bare timestamp), as 0.5 does (`number`: the plan's time
    as YYYYMMDDhhmmss), or as 0.5's pre-releases did (`{at = ...}`)."""
    at = "2030-01-01T00:00:00Z"
    stamp = at if legacy else 20300101000000 if number else {"at": at}
    return resource("issued", slot, {"input": wrap(stamp, wrapped)})


def kept(slot: str, pem, name: str = "kept", wrapped: bool = True) -> dict:
    held = {"marker": "m", "role": f"kube/{slot}", "at": "t", "cert_pem": pem.cert_pem, "info": "{}"}
    held |= {"key_alg": "ECDSA", "key_pem": pem.key_pem}
    return resource(name, slot, {"input": None, "triggers_replace": wrap(held, wrapped)})


def lean_kept(slot: str, pem, wrapped: bool = True) -> dict:
    """As 0.5.0 writes it: no role (its stage and slot tell it), the facts a list."""
    held = {"marker": "m", "at": "t", "cert_pem": pem.cert_pem, "info": '["CN=x"]'}
    held["key_pem"] = pem.key_pem
    return resource("kept", slot, {"input": None, "triggers_replace": wrap(held, wrapped)})


def sealed(slot: str, pem, wrapped: bool = True) -> dict:
    given = {"role": f"kube/{slot}", "cert_pem": pem.cert_pem, "info": "{}", "key_alg": "ECDSA"}
    triggers = {"marker": "c", "key": pem.key_pem}
    return resource(
        "sealed", slot, {"input": wrap(given, wrapped), "triggers_replace": wrap(triggers, wrapped)}
    )


def document(*resources: dict) -> dict:
    return {"version": 4, "resources": list(resources), "outputs": {}}


EMPTY = type("Empty", (), {"cert_pem": "", "key_pem": ""})()


@pytest.mark.parametrize("wrapped", [True, False], ids=["wrapped", "bare"])
def test_each_layout_gives_the_record_the_stage_reads(pems, wrapped):
    apiserver = pems["apiserver"]
    cases = {
        "kept": (
            [marker("apiserver", False, wrapped), kept("apiserver", apiserver, wrapped=wrapped)],
            "kept",
        ),
        "healed": (
            [
                marker("apiserver", False, wrapped),
                kept("apiserver", EMPTY, wrapped=wrapped),
                kept("apiserver", apiserver, "healed", wrapped),
            ],
            "healed",
        ),
        "sealed": ([marker("apiserver", True, wrapped), sealed("apiserver", apiserver, wrapped)], "sealed"),
        # 0.5's marker and a record holding only what its mode has (no key_file, key_path, csr, role, ...)
        "number marker, lean kept": (
            [marker("apiserver", False, wrapped, number=True), lean_kept("apiserver", apiserver, wrapped)],
            "kept",
        ),
        # only a bare timestamp is 0.4's: a 0.5 marker's `kept` wins over a seal left beside it
        "number marker beside a seal": (
            [
                marker("apiserver", False, wrapped, number=True),
                kept("apiserver", apiserver, wrapped=wrapped),
                sealed("apiserver", EMPTY, wrapped),
            ],
            "kept",
        ),
        # a legacy marker keeps its seal, whatever else is left in state
        "legacy beside kept": (
            [
                marker("apiserver", True, wrapped),
                kept("apiserver", EMPTY, wrapped=wrapped),
                sealed("apiserver", apiserver, wrapped),
            ],
            "sealed",
        ),
    }
    for name, (resources, layout) in cases.items():
        (record,) = state.records(document(*resources))
        assert (record.layout, record.kind, record.role) == (layout, "kube", "kube/apiserver"), name
        assert record.cert_pem == apiserver.cert_pem and record.key_pem == apiserver.key_pem, name
        assert record.marker == f'{MODULE}.terraform_data.issued["apiserver"]' and record.marked, name
        assert record.where == f'{MODULE}.terraform_data.{layout}["apiserver"]', name
        assert "BEGIN" not in repr(record), name


def test_an_empty_kept_without_its_healed_and_a_marker_alone_have_no_certificate(pems):
    (empty,) = state.records(document(marker("apiserver", False), kept("apiserver", EMPTY)))
    (alone,) = state.records(document(marker("kubelet", False)))
    assert (empty.layout, empty.cert_pem) == ("kept", "")
    assert (alone.layout, alone.cert_pem, alone.where) == ("none", "", alone.marker)


def test_a_capture_of_tfext_0_1_names_no_role_and_its_module_is_told_by_its_slots(pems):
    capture = {"at": "t", "cert_pem": pems["apiserver"].cert_pem, "key_pem": pems["apiserver"].key_pem}
    (record,) = state.records(document(resource("captured", "apiserver", {"input": wrap(capture, True)})))
    assert (record.layout, record.kind, record.role, record.marked) == ("captured", "kube", "", False)
    assert record.key_pem == pems["apiserver"].key_pem


def test_sources_name_a_record_by_module_and_slot_whatever_its_layout(pems):
    """check-expiration's reading of JSON holding no role: one certificate per slot, named as before."""
    for resources in (
        [marker("apiserver", False), kept("apiserver", pems["apiserver"])],
        [marker("apiserver", True), sealed("apiserver", pems["apiserver"])],
    ):
        reading = sources.Reading()
        sources.from_json(document(*resources), reading)
        assert [(f.name, f.rank) for f in reading.found] == [("kube_certs.apiserver", sources.RANK_CAPTURE)]


@pytest.mark.parametrize(
    ("cert", "key", "code"),
    [
        ("apiserver", "apiserver", None),
        ("apiserver", "kubelet", Code.KEY_MISMATCH),
        ("apiserver", "", Code.KEY_MISSING),
        ("apiserver", "garbage", Code.NOT_PEM),
        ("apiserver", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", Code.NOT_PEM),
        ("apiserver", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAA==\n-----END x-----", Code.ENCRYPTED_KEY),
        ("", "apiserver", Code.PLACEHOLDER_CAPTURED),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "apiserver", Code.MALFORMED_CERT),
    ],
)
def test_a_pair_is_judged_by_its_public_keys(pems, cert, key, code):
    cert_pem = pems[cert].cert_pem if cert in pems else cert
    key_pem = pems[key].key_pem if key in pems else key
    verdict = judge(cert_pem, key_pem)
    assert verdict.code is code
    assert verdict.of_key is (code not in (None, Code.PLACEHOLDER_CAPTURED, Code.MALFORMED_CERT))
    assert "BEGIN" not in verdict.detail and "AAAA" not in verdict.detail


def test_a_bundles_key_is_judged_against_its_first_certificate(pems):
    bundle = pems["ca"].cert_pem + pems["apiserver"].cert_pem
    assert judge(bundle, pems["ca"].key_pem).whole
    assert judge(bundle, pems["apiserver"].key_pem).code is Code.KEY_MISMATCH
