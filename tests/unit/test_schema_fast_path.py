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


# Per-node keys (`patternProperties`): the shapes of every schema, each for good and bad node names.
NODE_NAMES = ["w1", "etcd-0", "a.b", "n" * 253, "n" * 254, "W1", "a..b", "-a", "a-", "", "a:b", "w1\n", "é"]
PER_NODE_KEYS = sorted(
    f"{prefix}:{node}_{suffix}"
    for prefix in ("server", "peer", "kubelet", "serving", "client")
    for node in NODE_NAMES
    for suffix in ("issued_at", "cert_path", "key_path", "cert_pem", "issued_at\n")
)


@st.composite
def queries(draw):
    program = draw(st.sampled_from(sorted(PROGRAMS)))
    names = sorted(protocol.load_schema(program)["properties"])
    per_node = st.sampled_from(PER_NODE_KEYS)
    keys = draw(
        st.lists(
            st.one_of(st.sampled_from(names + ["unknown_key"]), per_node), unique=True, max_size=len(names)
        )
    )
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
            "facts_form": "list",
        }.get(rule["$ref"].rsplit("/", 1)[-1], "x")
        assert ("pattern" not in definition and "enum" not in definition) or valid[name] != "x"
    assert jsonschema_valid(program, valid)
    assert protocol.surely_valid(schema, valid, COMMON)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_the_fast_path_and_jsonschema_agree_on_every_per_node_key(program):
    """Each shape beside the keys the schema requires, with a value valid for its suffix: either both
    accept it or neither."""
    schema = protocol.load_schema(program)
    disagree = []
    for key in PER_NODE_KEYS:
        query = {**_required(program), key: "2030-01-01T00:00:00Z" if "_issued_at" in key else "/etc/x.crt"}
        if protocol.surely_valid(schema, query, COMMON) is not jsonschema_valid(program, query):
            disagree.append(key)
    assert disagree == []


@pytest.mark.parametrize(
    ("program", "key"),
    [
        ("kube-self-signed", "kubelet:w1_issued_at"),
        ("kube-self-signed", "serving:w1.example.com_issued_at"),
        ("etcd-signed", "peer:etcd-0_issued_at"),
        ("kube-user-provided", "kubelet:w1_key_path"),
        ("etcd-user-provided", "server:etcd-0_cert_path"),
    ],
)
def test_a_valid_per_node_key_is_accepted_by_the_fast_path_itself(program, key):
    schema = protocol.load_schema(program)
    query = {k: "/etc/tls/x.pem" for k in schema.get("required", [])}
    query[key] = "2030-01-01T00:00:00Z" if key.endswith("_issued_at") else "/etc/tls/x.pem"
    assert protocol.surely_valid(schema, query, COMMON) and jsonschema_valid(program, query)


@pytest.mark.parametrize(
    ("program", "key", "shapes"),
    [
        ("etcd-signed", "server:etcd 0_issued_at", ["server:<name>_issued_at", "peer:<name>_issued_at"]),
        (
            "kube-self-signed",
            "kubelet:w1_cert_path",
            ["kubelet:<name>_issued_at", "serving:<name>_issued_at"],
        ),
        (
            "kube-user-provided",
            "serving:W1_key_path",
            ["kubelet:<name>_cert_path", "serving:<name>_cert_path", "kubelet:<name>_key_path"],
        ),
    ],
)
def test_an_unknown_key_message_lists_the_per_node_key_shapes(program, key, shapes):
    with pytest.raises(protocol.TfextError) as exc:
        protocol.validate_query(program, {**_required(program), key: "x", "kubelet:w1_issued_at": "x"})
    unknown = next(p for p in exc.value.problems if p.code.tag == "TFEXT-E005")
    assert unknown.where == "query"
    for shape in shapes:
        assert shape in unknown.detail
    assert "^(" not in unknown.detail, "a reader sees shapes, not regular expressions"
    assert key in unknown.detail or "(not shown)" in unknown.detail


def _required(program: str) -> dict[str, str]:
    return {k: "/etc/tls/x.pem" for k in protocol.load_schema(program).get("required", [])}


def test_an_invalid_query_still_gets_jsonschemas_precise_message():
    with pytest.raises(protocol.TfextError) as exc:
        protocol.validate_query("kube-self-signed", {"key_algorithm": "RSA-1", "typo": "x"})
    text = str(exc.value)
    assert "TFEXT-E005" in text and "typo" in text and "TFEXT-E007" in text and "RSA-1" in text
