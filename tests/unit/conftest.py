"""Fixtures shared by the unit tests. Slow keys (RSA-3072/4096) are generated once per session."""

from __future__ import annotations

import pytest

from tfext import issue, profiles
from tfext.issue import KeyPair

LARGE_RSA = ("RSA-3072", "RSA-4096")


@pytest.fixture(scope="session")
def large_rsa_leaves() -> dict[str, tuple[KeyPair, KeyPair]]:
    """An apiserver leaf per large RSA size (its key drawn by keys.generate), under an RSA-2048 kube CA."""
    inputs = profiles.Inputs(api_host="api.example.com", service_cidr="10.3.0.0/24")
    ca = issue.issue(profiles.KUBE_CA, inputs, key_algorithm="RSA-2048", validity_hours=24 * 30, issuer=None)
    return {
        alg: (ca, issue.issue(profiles.APISERVER, inputs, key_algorithm=alg, validity_hours=24, issuer=ca))
        for alg in LARGE_RSA
    }
