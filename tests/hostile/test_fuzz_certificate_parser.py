"""Item 8: a hypothesis fuzz target for the certificate-file parser the tools share
(`tfext.tools.sources.Reading.certificates_in`): whatever the bytes, it ends in certificates that every
report can describe, or in coded rows and problems; never an exception, never unbounded work."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfext import certinfo
from tfext.tools import sources

from . import _gen

_KEY = _gen.ec_key()
SEEDS = [
    _gen.cert_pem(_gen.build(_gen.name("seed"), _KEY.public_key(), _KEY, ca=True)).encode(),
    *(_gen.cert_failing_full_parse(k).encode() for k in ("duplicate", "bad-san", "bad-eku", "unknown-key")),
]
SEED_DER = [
    _gen.build(_gen.name("der"), _KEY.public_key(), _KEY).public_bytes(_gen.serialization.Encoding.DER)
]


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for position, value in edits:
        out[position % len(out)] = value
    return bytes(out)


def _judge(data: bytes, der: bool) -> None:
    reading = sources.Reading()
    start = time.perf_counter()
    reading.certificates_in(data, "fuzz.crt", der=der)
    for found in reading.found:  # whatever was accepted can be shown by every tool
        certinfo.describe(found.cert)
        certinfo.usages(found.cert)
        sources.common_name(found.cert.subject)
        found.authority_key_id, found.key_id, found.subject_der  # noqa: B018
        sources.Issuers(reading.found).is_self_signed(found)
    for bad in reading.bad:
        assert bad.text.startswith("TFEXT-E")
    assert time.perf_counter() - start < 1.0


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8))
def test_mutated_pem_certificates_never_raise(seed, edits):
    _judge(_mutate(seed, edits), der=False)


@FUZZ
@given(
    st.sampled_from(SEED_DER), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8)
)
def test_mutated_der_certificates_never_raise(seed, edits):
    _judge(_mutate(seed, edits), der=True)


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(data):
    _judge(data, der=True)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [
                b"-----BEGIN CERTIFICATE-----\n",
                b"-----END CERTIFICATE-----\n",
                b"MIIB\n",
                b"-----BEGIN X-----",
                b"-----END X-----",
                b"\r\n",
                b"X509 ",
                *SEEDS,
            ]
        ),
        max_size=40,
    )
)
def test_pem_framing_never_raises(parts):
    _judge(b"".join(parts), der=False)
