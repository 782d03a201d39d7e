"""The fast path of query validation never accepts what jsonschema refuses, and accepts real queries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tfext import protocol
from tfext.programs import PROGRAMS

COMMON = protocol._load_common()
SAMPLES = st.one_of(
    st.sampled_from(
        [
            "",
            "2030-01-01T00:00:00Z",
            "26280",
            "0",
            "RSA-2048",
            "ECDSA-P256",
            "pkcs8",
            "RSA-1",
            "cluster.local",
            "Cluster.Local",
            "10.3.0.0/16",
            '["a.example.com"]',
            "/dev/null",
            "x" * 70000,
            "2030-01-01 00:00:00",
        ]
    ),
    st.text(max_size=40),
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
)


def jsonschema_valid(program: str, query: dict) -> bool:
    schema = protocol.load_schema(program)
    return Draft202012Validator(schema, registry=protocol._common_registry()).is_valid(query)


@st.composite
def queries(draw):
    program = draw(st.sampled_from(sorted(PROGRAMS)))
    names = sorted(protocol.load_schema(program)["properties"])
    keys = draw(st.lists(st.sampled_from(names + ["unknown_key"]), unique=True, max_size=len(names)))
    return program, {k: draw(SAMPLES) for k in keys}


@settings(max_examples=600, deadline=None)
@given(queries())
def test_the_fast_path_never_accepts_an_invalid_query(case):
    program, query = case
    if protocol.surely_valid(protocol.load_schema(program), query, COMMON):
        assert jsonschema_valid(program, query)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_every_schema_is_understood_by_the_fast_path(program):
    """So a valid query never pays for importing jsonschema: an empty query of an all-optional schema,
    or one that gives every key a valid value, is accepted by the fast path itself."""
    schema = protocol.load_schema(program)
    valid = {}
    for name, rule in schema["properties"].items():
        definition = COMMON["$defs"][rule["$ref"].rsplit("/", 1)[-1]]
        valid[name] = {
            "timestamp": "2030-01-01T00:00:00Z",
            "hours": "24",
            "key_algorithm": "ECDSA-P256",
            "key_format": "pkcs8",
            "domain": "cluster.local",
            "rotation_phase": "reissue",
        }.get(rule["$ref"].rsplit("/", 1)[-1], "x")
        assert ("pattern" not in definition and "enum" not in definition) or valid[name] != "x"
    assert jsonschema_valid(program, valid)
    assert protocol.surely_valid(schema, valid, COMMON)


def test_an_invalid_query_still_gets_jsonschemas_precise_message():
    with pytest.raises(protocol.TfextError) as exc:
        protocol.validate_query("kube-self-signed", {"key_algorithm": "RSA-1", "typo": "x"})
    text = str(exc.value)
    assert "TFEXT-E005" in text and "typo" in text and "TFEXT-E007" in text and "RSA-1" in text
