"""Behaviour pinned after review: verification asks only what consumers need, reads every file of a
run before failing, and asset directories are never writable by others."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from tfext import issue, keys, profiles
from tfext.errors import Code, TfextError
from tfext.issue import KeyPair
from tfext.programs import MODULES, engine
from tfext.tools.assets import write_assets

from ._pki import cert_pem, write_pair

FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n"


@pytest.fixture(scope="module")
def kube_ca() -> KeyPair:
    return issue.issue(
        profiles.KUBE_CA, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=100, issuer=None
    )


def kube_query(tmp_path: Path, ca: KeyPair, kubelet: KeyPair) -> dict[str, str]:
    apiserver = issue.issue(
        profiles.APISERVER, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=50, issuer=ca
    )
    query = {"ca_cert_path": write_pair(tmp_path, "ca", ca)[0]}
    query["apiserver_cert_path"], query["apiserver_key_path"] = write_pair(tmp_path, "apiserver", apiserver)
    query["kubelet_cert_path"], query["kubelet_key_path"] = write_pair(tmp_path, "kubelet", kubelet)
    return query


def test_a_client_only_kubelet_certificate_is_accepted(tmp_path, kube_ca):
    client_only = dataclasses.replace(profiles.KUBELET, server_auth=False)
    kubelet = issue.issue(
        client_only, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=50, issuer=kube_ca
    )
    result = engine.run(MODULES["kube"], kube_query(tmp_path, kube_ca, kubelet))
    assert result["kubelet_cert_pem"] == cert_pem(kubelet.cert)


def test_a_server_only_kubelet_certificate_is_refused(tmp_path, kube_ca):
    server_only = dataclasses.replace(profiles.KUBELET, client_auth=False)
    kubelet = issue.issue(
        server_only, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=50, issuer=kube_ca
    )
    with pytest.raises(TfextError) as exc:
        engine.run(MODULES["kube"], kube_query(tmp_path, kube_ca, kubelet))
    assert [p.code for p in exc.value.problems] == [Code.MISSING_EKU]


def test_every_unreadable_file_of_a_run_is_reported_together(tmp_path, kube_ca):
    kubelet = issue.issue(
        profiles.KUBELET, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=50, issuer=kube_ca
    )
    query = kube_query(tmp_path, kube_ca, kubelet)
    Path(query["apiserver_key_path"]).write_text("")
    Path(query["kubelet_cert_path"]).unlink()
    with pytest.raises(TfextError) as exc:
        engine.run(MODULES["kube"], query)
    assert {p.code for p in exc.value.problems} == {Code.FILE_EMPTY, Code.FILE_MISSING}


def test_a_broken_ca_file_does_not_hide_the_leaves_own_problems(tmp_path, kube_ca):
    kubelet = issue.issue(
        profiles.KUBELET, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=50, issuer=kube_ca
    )
    query = kube_query(tmp_path, kube_ca, kubelet)
    Path(query["ca_cert_path"]).write_text("not a certificate\n")
    other = issue.issue(
        profiles.KUBELET, profiles.Inputs(), key_algorithm="ECDSA-P256", validity_hours=50, issuer=kube_ca
    )
    Path(query["kubelet_key_path"]).write_text(keys.to_pem(other.key))
    with pytest.raises(TfextError) as exc:
        engine.run(MODULES["kube"], query)
    assert {p.code for p in exc.value.problems} == {Code.NOT_PEM, Code.KEY_MISMATCH}


def test_asset_directories_are_not_writable_by_others_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        written = write_assets(
            {"etcd_certs_etcd_server_key_pem": FAKE_KEY},
            tmp_path / "a" / "tls",
        )
    finally:
        os.umask(old)
    for directory in (tmp_path / "a", tmp_path / "a" / "tls", tmp_path / "a" / "tls" / "etcd"):
        assert directory.stat().st_mode & 0o022 == 0, oct(directory.stat().st_mode)
    assert written and written[0].stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("part", ["d", "dmp1", "dmq1", "iqmp"])
def test_an_rsa_key_with_a_corrupt_private_part_is_refused(part):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(65537, 2048).private_numbers()
    fields = {
        "p": numbers.p,
        "q": numbers.q,
        "d": numbers.d,
        "dmp1": numbers.dmp1,
        "dmq1": numbers.dmq1,
        "iqmp": numbers.iqmp,
        "public_numbers": numbers.public_numbers,
    }
    fields[part] += 2
    corrupt = rsa.RSAPrivateNumbers(**fields).private_key(unsafe_skip_rsa_key_validation=True)
    pkcs1 = serialization.PrivateFormat.TraditionalOpenSSL
    pem = corrupt.private_bytes(serialization.Encoding.PEM, pkcs1, serialization.NoEncryption()).decode()
    with pytest.raises(TfextError) as exc:
        keys.load_private_key(pem, "apiserver key")
    assert [p.code for p in exc.value.problems] == [Code.NOT_PEM]
    assert "PRIVATE KEY-----" not in str(exc.value)
