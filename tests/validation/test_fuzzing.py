"""Property-based: random bytes and random queries thrown at the protocol layer, random data at every
parser, mutated certificates through every rule. The only failure allowed is our own TfextError (a clean
exit 1 with a tagged message); never an internal error (exit 70), a traceback or output on stdout."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tfext import keys, protocol, verify
from tfext.errors import Code, Problem, TfextError, echo, redact
from tfext.programs import MODULES, PROGRAMS, handler, inputs
from tfext.verify import Given, Report

from ._kit import TAG, Kit, assert_no_leak, cert_pem, ec_key, good_set, key_pem

FUZZ = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
T = "2030-01-01T00:00:00Z"
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Kit:
    return Kit.create(good_set("kube-user-provided"), tmp_path_factory.mktemp("fuzz"))


def strings(kit: Kit):
    """Query strings: what modules send, what users get wrong, and noise."""
    files = [str(kit.path(s, p)) for s in ("ca", "apiserver", "kubelet") for p in ("cert", "key")]
    meaningful = st.sampled_from(
        [
            "", "/dev/null", T, "2030-01-01T00:00:01Z", "720", "0", "-1", "1.5", "99999999",
            "RSA-2048", "ECDSA-P256", "ED25519", "RSA-1024", "traditional", "pkcs8",
            "10.3.0.0/16", "10.3.0.0/30", "::/0", "https://api.example.com:443", "https://[::1]:99999",
            "console.example.com:443", "2001:db8::7", "cluster.local", '["a.example.com"]', '["10.0.0.1"]',
            "[[[]]]", "[", str(kit.root), str(kit.root / "missing.pem"),
            cert_pem(kit.ca.cert), key_pem(kit.ca.key),
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            *files,
        ]
    )  # fmt: skip
    return st.one_of(meaningful, st.text(max_size=80))


def values(kit: Kit):
    """Any JSON value a broken caller could send."""
    return st.one_of(strings(kit), st.integers(), st.none(), st.booleans(), st.lists(st.text(max_size=5)))


def run(program: str, stdin: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = protocol.run(program, handler(program), stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_clean(program: str, code: int, out: str, err: str) -> None:
    assert code in (0, 1), err[:500]
    assert "Traceback" not in err
    if code == 0:
        assert isinstance(json.loads(out), dict) and err == ""
    else:
        assert out == "" and err.startswith(f"tfext {program}: ") and TAG.search(err), err[:500]


@pytest.mark.parametrize("program", list(PROGRAMS))
@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes_on_stdin_never_crash_a_program(program, data):
    assert_clean(program, *run(program, data))


@pytest.mark.parametrize("program", list(PROGRAMS))
@FUZZ
@given(data=st.data())
def test_random_queries_never_crash_a_program(program, kit, data):
    known = sorted(protocol.load_schema(program)["properties"])
    name = st.one_of(st.sampled_from(known), st.text(min_size=1, max_size=12))
    query = data.draw(st.dictionaries(name, values(kit), max_size=10))
    if "key_algorithm" not in query:
        query["key_algorithm"] = "ECDSA-P256"  # keep issuing cheap; RSA adds time, not coverage
    assert_clean(program, *run(program, json.dumps(query).encode()))


@pytest.mark.parametrize("program", ["kube-user-provided", "etcd-user-provided", "etcd-signed"])
@FUZZ
@given(data=st.data())
def test_well_formed_queries_of_paths_and_names_never_crash(program, kit, data):
    """Only known keys, only string values: the draws get past the schema to the files and the rules."""
    known = sorted(protocol.load_schema(program)["properties"])
    query = data.draw(st.dictionaries(st.sampled_from(known), strings(kit)))
    query.setdefault("key_algorithm", "ECDSA-P256")  # etcd-signed issues: keep it cheap
    if "key_algorithm" not in known:
        del query["key_algorithm"]
    assert_clean(program, *run(program, json.dumps(query).encode()))


# --- parsers --------------------------------------------------------------------------------------


def pem_framed(label: str):
    body = st.binary(max_size=600).map(lambda b: base64.encodebytes(b).decode())
    return body.map(lambda b: f"-----BEGIN {label}-----\n{b}-----END {label}-----\n".encode())


LABELS = st.sampled_from(["CERTIFICATE", "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "EC PARAMETERS"])
BLOBS = st.one_of(st.binary(max_size=600), LABELS.flatmap(pem_framed), st.text(max_size=300).map(str.encode))


@FUZZ
@given(data=BLOBS, chain=st.booleans())
def test_certificate_parser_raises_nothing_but_tfext_errors(data, chain):
    with contextlib.suppress(TfextError):
        verify.parse_certificates(data, "fuzz", chain_allowed=chain)


@FUZZ
@given(data=BLOBS)
def test_private_key_parsers_raise_nothing_but_tfext_errors(data):
    for parse in (
        lambda: verify.parse_private_key(data, "fuzz"),
        lambda: keys.load_private_key(data.decode("utf-8", "replace"), "fuzz"),
    ):
        with contextlib.suppress(TfextError):
            parse()


def _mutations(der: bytes):
    flips = st.lists(st.tuples(st.integers(0, len(der) - 1), st.integers(1, 255)), min_size=1, max_size=4)
    flipped = flips.map(lambda fs: _apply(der, fs))
    cut = st.integers(1, len(der) - 1).map(lambda n: der[:n])
    return st.one_of(flipped, cut)


def _apply(der: bytes, flips) -> bytes:
    out = bytearray(der)
    for at, mask in flips:
        out[at] ^= mask
    return bytes(out)


@pytest.fixture(scope="module")
def mutable(kit):
    pair = kit.good.pairs["apiserver"]
    return (
        pair,
        pair.cert.public_bytes(serialization.Encoding.DER),
        pair.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


@FUZZ
@given(data=st.data())
def test_mutated_certificates_go_through_every_rule_without_crashing(kit, mutable, data):
    pair, der, _ = mutable
    mutated = data.draw(_mutations(der))
    try:
        chain = verify.parse_certificates(_pem(mutated, "CERTIFICATE"), "fuzz", chain_allowed=True)
    except TfextError:
        return
    module = MODULES["kube"]
    given = Given("apiserver", chain, pair.key, "", "")
    report = Report()
    verify.check_leaf(
        module.leaves[0].profile, kit.good.inputs, given, kit.ca.cert, report, NOW, dt.timedelta(days=30)
    )
    verify.check_ca(chain[0], "fuzz CA", report, NOW, dt.timedelta(days=30))
    assert all(isinstance(p, Problem) for p in report.errors + report.warnings)


@FUZZ
@given(data=st.data())
def test_mutated_private_keys_raise_nothing_but_tfext_errors(mutable, data):
    _, _, der = mutable
    with contextlib.suppress(TfextError):
        verify.parse_private_key(_pem(data.draw(_mutations(der)), "PRIVATE KEY"), "fuzz")


def _pem(der: bytes, label: str) -> bytes:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode()


# --- inputs ---------------------------------------------------------------------------------------

INPUT_KEYS = [
    "dns_names", "ip_addresses", "service_cidr", "kube_apiserver_url", "cluster_domain", "identity_dns_names",
    "base_address", "key_algorithm", "key_format", "validity_period", "renewal_window_hours",
]  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=60), st.sampled_from(["[" * 5000, "9" * 5000, '["' + "a" * 300 + '"]', "²", "٣"])
)


@FUZZ
@given(query=st.dictionaries(st.sampled_from(INPUT_KEYS), TEXT), hosts=st.integers(0, 300))
def test_input_parsers_raise_nothing_but_tfext_errors(query, hosts):
    for parse in (lambda: inputs.certificate_inputs(query, hosts), lambda: inputs.options(query)):
        with contextlib.suppress(TfextError):
            parse()


@FUZZ
@given(value=TEXT)
def test_each_input_parser_alone_raises_nothing_but_tfext_errors(value):
    q = {"k": value}
    for parse in (
        lambda: inputs.json_list(q, "k"),
        lambda: inputs.dns_names(q, "k"),
        lambda: inputs.ip_addresses(q, "k"),
        lambda: inputs.cidr(q, "k", 20),
        lambda: inputs.split_host(value, "k"),
        lambda: inputs.hours(q, "k", 1),
        lambda: inputs.path(q, "k"),
    ):
        with contextlib.suppress(TfextError):
            parse()


# --- redaction ------------------------------------------------------------------------------------

SECRET = key_pem(ec_key())


@FUZZ
@given(before=st.text(max_size=40), after=st.text(max_size=40))
def test_a_key_inside_any_text_is_never_echoed_or_rendered(before, after):
    text = before + SECRET + after
    assert_no_leak(echo(text), [SECRET])
    assert_no_leak(Problem(Code.INVALID_VALUE, text, text).render(), [SECRET])
    assert_no_leak(str(TfextError.of(Code.INVALID_VALUE, "x", text)), [SECRET])


@FUZZ
@given(value=st.text(alphabet=st.characters(codec="ascii", exclude_characters="-"), max_size=30))
def test_short_harmless_values_are_echoed_so_users_see_their_typo(value):
    assume("PRIVATE" not in value and redact(value) == value)
    assert echo(value) == repr(value)
