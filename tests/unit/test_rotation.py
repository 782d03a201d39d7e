"""CA bundles in the programs (issue 13): signing with the head of a bundle, and a user's two-CA file
checked against the rotation phase. The generating flavors' phase order is tested with Terraform in
tests/test_ca_rotation.py; here is what a program decides on its own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tfext.errors import Code, TfextError

from .test_engine import INPUTS, T, leaves_stage, load_cert, run_program

EARLIER = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)


def kube_ca(now: dt.datetime | None = None) -> dict[str, str]:
    query = {"plan_time": T, "ca_issued_at": T, "key_algorithm": "ECDSA-P256", **INPUTS["kube"]}
    return run_program("kube-self-signed", query, now=now)


@pytest.fixture(scope="module")
def cas() -> dict[str, dict[str, str]]:
    """An outgoing and an incoming kube CA (the outgoing one started two hours earlier), a stranger CA of the
    same name, and the leaves each signed."""
    old, new, stranger = kube_ca(EARLIER), kube_ca(), kube_ca(EARLIER)
    return {
        "old": old,
        "new": new,
        "stranger": stranger,
        "old_leaves": leaves_stage("kube", old["ca_cert_pem"], old["ca_key_pem"]),
        "new_leaves": leaves_stage("kube", new["ca_cert_pem"], new["ca_key_pem"]),
        "stranger_leaves": leaves_stage("kube", stranger["ca_cert_pem"], stranger["ca_key_pem"]),
    }


def issued_by(leaf_pem: str, ca_pem: str) -> bool:
    try:
        load_cert(leaf_pem).verify_directly_issued_by(load_cert(ca_pem))
        return True
    except Exception:  # noqa: BLE001 - InvalidSignature, ValueError: not signed by it
        return False


def codes(exc: pytest.ExceptionInfo[TfextError]) -> list[Code]:
    return [p.code for p in exc.value.problems]


# --- identity and ingress sign with the head of the bundle they are given -------------------------------


@pytest.mark.parametrize("program", ["identity-self-signed", "ingress-self-signed"])
def test_the_first_ca_of_a_bundle_signs(cas, program):
    module = program.split("-")[0]
    bundle = cas["old"]["ca_cert_pem"] + cas["new"]["ca_cert_pem"]
    out = leaves_stage(module, bundle, cas["old"]["ca_key_pem"])
    leaf = "server" if module == "identity" else "ingress"
    assert issued_by(out[f"{leaf}_cert_pem"], cas["old"]["ca_cert_pem"])
    assert not issued_by(out[f"{leaf}_cert_pem"], cas["new"]["ca_cert_pem"])


def test_a_key_of_the_second_ca_in_the_bundle_is_refused_not_guessed(cas):
    bundle = cas["new"]["ca_cert_pem"] + cas["old"]["ca_cert_pem"]
    with pytest.raises(TfextError) as exc:
        leaves_stage("identity", bundle, cas["old"]["ca_key_pem"])
    assert codes(exc) == [Code.SIGNING_CA_NOT_FIRST]


def test_a_bundle_is_not_adopted_as_the_kube_ca(cas):
    bundle = cas["old"]["ca_cert_pem"] + cas["new"]["ca_cert_pem"]
    query = {"plan_time": T, "ca_issued_at": T, **INPUTS["kube"]}
    with pytest.raises(TfextError) as exc:
        run_program(
            "kube-self-signed", {**query, "ca_cert_pem": bundle, "ca_key_pem": cas["old"]["ca_key_pem"]}
        )
    assert codes(exc) == [Code.TOO_MANY_CERTS]


# --- a user's two-CA file and the phase it is in -----------------------------------------------------------


def user_files(tmp: Path, cas, ca_pems: list[str], ca_key: str | None, leaves: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "ca.crt").write_text("".join(ca_pems))
    query = {"ca_cert_path": str(tmp / "ca.crt"), **INPUTS["kube"]}
    if ca_key is not None:
        (tmp / "ca.key").write_text(ca_key)
        query["ca_key_path"] = str(tmp / "ca.key")
    for slot in ("apiserver", "kubelet"):
        (tmp / f"{slot}.crt").write_text(cas[leaves][f"{slot}_cert_pem"])
        (tmp / f"{slot}.key").write_text(cas[leaves][f"{slot}_key_pem"])
        query |= {f"{slot}_cert_path": str(tmp / f"{slot}.crt"), f"{slot}_key_path": str(tmp / f"{slot}.key")}
    return query


GOOD = [  # phase, CAs in the file (in file order), CA key, leaves' signer, the signing CA the outputs name
    ("trust", ["old", "new"], "old", "old_leaves", "old"),
    ("trust", ["new", "old"], "old", "old_leaves", "old"),
    ("trust", ["old", "new"], None, "old_leaves", "old"),
    ("reissue", ["old", "new"], "new", "new_leaves", "new"),
    ("reissue", ["new", "old"], None, "new_leaves", "new"),
    ("finish", ["new"], "new", "new_leaves", "new"),
]


@pytest.mark.parametrize(("phase", "in_file", "key", "leaves", "signing"), GOOD)
def test_a_two_ca_file_that_fits_its_phase_passes_with_the_signing_ca_first(
    tmp_path, cas, phase, in_file, key, leaves, signing
):
    query = user_files(
        tmp_path, cas, [cas[c]["ca_cert_pem"] for c in in_file], key and cas[key]["ca_key_pem"], leaves
    )
    out = run_program("kube-user-provided", {**query, "ca_rotation_phase": phase})
    assert load_cert(out["ca_cert_pem"]) == load_cert(cas[signing]["ca_cert_pem"])
    others = [c for c in in_file if c != signing]
    if others:
        assert load_cert(out["ca_other_cert_pem"]) == load_cert(cas[others[0]]["ca_cert_pem"])
    else:
        assert out["ca_other_cert_pem"] == "" and out["ca_other_info"] == ""
    assert out["ca_key_path"] == (str((tmp_path / "ca.key").resolve()) if key else "")


BAD = [  # phase, CAs in the file, CA key, leaves' signer, the code
    ("trust", ["old"], "old", "old_leaves", Code.BUNDLE_PHASE),  # trust needs both CAs
    ("reissue", ["new"], "new", "new_leaves", Code.BUNDLE_PHASE),
    ("finish", ["old", "new"], "new", "new_leaves", Code.BUNDLE_PHASE),  # finish trusts one
    ("trust", ["old", "new"], "new", "old_leaves", Code.BUNDLE_PHASE),  # in trust the outgoing CA signs
    ("reissue", ["old", "new"], "old", "new_leaves", Code.BUNDLE_PHASE),  # in reissue the incoming one
    ("reissue", ["old", "new"], "new", "old_leaves", Code.BUNDLE_PHASE),  # leaves not re-issued yet
    ("trust", ["old", "new"], "stranger", "old_leaves", Code.KEY_MISMATCH),
    ("trust", ["old", "old"], "old", "old_leaves", Code.TOO_MANY_CERTS),
    ("trust", ["old", "new", "stranger"], "old", "old_leaves", Code.TOO_MANY_CERTS),
    ("finish", ["new"], "new", "old_leaves", Code.BAD_SIGNATURE),  # after finish the old CA's leaves fail
]


@pytest.mark.parametrize(("phase", "in_file", "key", "leaves", "code"), BAD)
def test_a_ca_file_that_does_not_fit_its_phase_is_refused_with_its_code(
    tmp_path, cas, phase, in_file, key, leaves, code
):
    query = user_files(
        tmp_path, cas, [cas[c]["ca_cert_pem"] for c in in_file], cas[key]["ca_key_pem"], leaves
    )
    with pytest.raises(TfextError) as exc:
        run_program("kube-user-provided", {**query, "ca_rotation_phase": phase})
    assert code in codes(exc), exc.value.render()
    assert "PRIVATE KEY" not in exc.value.render()


@pytest.mark.parametrize("phase", ["trust", "reissue", "finish"])
def test_a_leaf_signed_by_neither_ca_is_refused_in_every_phase(tmp_path, cas, phase):
    in_file = ["new"] if phase == "finish" else ["old", "new"]
    key = "old" if phase == "trust" else "new"
    query = user_files(
        tmp_path, cas, [cas[c]["ca_cert_pem"] for c in in_file], cas[key]["ca_key_pem"], "stranger_leaves"
    )
    with pytest.raises(TfextError) as exc:
        run_program("kube-user-provided", {**query, "ca_rotation_phase": phase})
    assert Code.BAD_SIGNATURE in codes(exc) or Code.AKI_MISMATCH in codes(exc)


def test_identity_takes_a_two_ca_file_and_checks_each_leaf_against_the_ca_that_signed_it(tmp_path, cas):
    kube = {"old": cas["old"], "new": cas["new"]}
    for signer in ("old", "new"):
        leaves = leaves_stage("identity", kube[signer]["ca_cert_pem"], kube[signer]["ca_key_pem"])
        d = tmp_path / signer
        d.mkdir()
        (d / "ca.crt").write_text(cas["old"]["ca_cert_pem"] + cas["new"]["ca_cert_pem"])
        query = {"ca_cert_path": str(d / "ca.crt")}
        for slot in ("server", "client"):
            (d / f"{slot}.crt").write_text(leaves[f"{slot}_cert_pem"])
            (d / f"{slot}.key").write_text(leaves[f"{slot}_key_pem"])
            query |= {f"{slot}_cert_path": str(d / f"{slot}.crt"), f"{slot}_key_path": str(d / f"{slot}.key")}
        out = run_program("identity-user-provided", query)
        # no phase and no key: the bundle's own order (the kube module's, signing CA first) is kept
        assert load_cert(out["ca_cert_pem"]) == load_cert(cas["old"]["ca_cert_pem"])
        assert load_cert(out["ca_other_cert_pem"]) == load_cert(cas["new"]["ca_cert_pem"])
