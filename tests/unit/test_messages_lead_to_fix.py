"""Messages that lead to the fix (issue 19, item 8): each names the input or file, the key ids that tell two
CAs of one name apart (the certificate's issuer's and the CA's), and the one-line fix, in the message
itself; none echoes a key or the text given for one."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tfext import protocol
from tfext.errors import Code, TfextError
from tfext.verify import key_id

from ._pki import load_cert, run_program
from .test_engine import leaves_stage
from .test_rotation import EARLIER, kube_ca, user_files

GARBAGE = "MHcCAQEEIBx9nT6xQk1y7kZPq0Vb3sRj8GmWcL2aHfD4eUoN5iAKoAoGCCqGSM49AwEHoUQDQgAE"


@pytest.fixture(scope="module")
def cas() -> dict[str, dict[str, str]]:
    """An outgoing and an incoming kube CA, a stranger CA of the same name, and the leaves each signed (as
    tests/unit/test_rotation.py makes them)."""
    old, new, stranger = kube_ca(EARLIER), kube_ca(), kube_ca(EARLIER)
    named = {"old": old, "new": new, "stranger": stranger}
    leaves = {
        f"{n}_leaves": leaves_stage("kube", c["ca_cert_pem"], c["ca_key_pem"]) for n, c in named.items()
    }
    return named | leaves


def refused(program: str, query: dict[str, str], now: dt.datetime | None = None) -> TfextError:
    with pytest.raises(TfextError) as exc:
        run_program(program, query, now=now)
    return exc.value


def one_line(error: TfextError, code: Code) -> str:
    lines = [p.render() for p in error.problems if p.code is code]
    assert lines, error.render()
    return lines[0]


def ids_of(cas, *names: str) -> list[str]:
    return [key_id(load_cert(cas[n]["ca_cert_pem"])) for n in names]


# --- a CA without its key, a key that is no key -------------------------------------------------------------


def test_a_keyless_ca_says_which_ca_and_what_to_pass(cas):
    error = refused_leaves(cas["old"]["ca_cert_pem"], "")
    line = one_line(error, Code.MISSING_KEY)
    assert line.startswith(
        "TFEXT-E006 query.ca_key_pem: the CA to sign with ('CN=kube-ca,O=bootkube', key id"
    )
    assert ids_of(cas, "old")[0] in line
    assert "came without its private key, given or kept in state" in line
    assert "pass the CA's key as ca_key_pem" in line and "tfext heal" in line


def refused_leaves(ca_cert: str, ca_key: str) -> TfextError:
    with pytest.raises(TfextError) as exc:
        leaves_stage("identity", ca_cert, ca_key)
    return exc.value


@pytest.mark.parametrize(
    "text", [GARBAGE, "ca.key", f"-----BEGIN EC PRIVATE KEY-----\n{GARBAGE}\n-----END EC PRIVATE KEY-----\n"]
)
def test_a_ca_key_that_is_no_key_says_so_without_echoing_it(cas, text):
    line = one_line(refused_leaves(cas["old"]["ca_cert_pem"], text), Code.NOT_PEM)
    assert line.startswith("TFEXT-E023 ca_key_pem: not a readable private key")
    assert "it must hold one whole PEM private key" in line and "(the value is not shown)" in line
    assert GARBAGE[:20] not in line and "no CA private key was given" not in line


# --- a two-CA file in phase finish: which phase it is in ----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "says", "never"),
    [
        ("old", 'ca_rotation.phase = "trust"', 'phase = "reissue"'),
        ("new", 'ca_rotation.phase = "reissue"', 'phase = "trust"'),
        (None, 'ca_rotation.phase = "trust" while the leaves are still signed by the outgoing', None),
    ],
)
def test_two_cas_in_phase_finish_name_the_phase_the_files_are_in(tmp_path, cas, key, says, never):
    leaves = "old_leaves" if key != "new" else "new_leaves"
    query = user_files(
        tmp_path,
        cas,
        [cas["old"]["ca_cert_pem"], cas["new"]["ca_cert_pem"]],
        key and cas[key]["ca_key_pem"],
        leaves,
    )
    line = one_line(
        refused("kube-user-provided", {**query, "ca_rotation_phase": "finish"}), Code.BUNDLE_PHASE
    )
    flat = " ".join(line.split())
    assert flat.startswith(
        f"TFEXT-E057 ca certificate ({tmp_path / 'ca.crt'}): holds two CAs, but phase finish"
    )
    old, new = ids_of(cas, "old", "new")
    assert f"outgoing CA key id {old}, incoming CA key id {new}" in flat
    assert says in flat
    if never:
        assert never not in flat
    assert "set the phase to reissue" not in flat  # the old hint, wrong for the files of trust


def test_a_key_of_the_wrong_phase_names_both_key_ids_and_the_phase_the_key_fits(tmp_path, cas):
    query = user_files(
        tmp_path,
        cas,
        [cas["old"]["ca_cert_pem"], cas["new"]["ca_cert_pem"]],
        cas["old"]["ca_key_pem"],
        "old_leaves",
    )
    line = one_line(
        refused("kube-user-provided", {**query, "ca_rotation_phase": "reissue"}), Code.BUNDLE_PHASE
    )
    old, new = ids_of(cas, "old", "new")
    assert "the CA key is the outgoing CA's (key id " + old in line
    assert f"give the incoming CA's key (key id {new})" in line and 'ca_rotation.phase = "trust"' in line


def test_a_leaf_still_signed_by_the_outgoing_ca_in_reissue_names_both(tmp_path, cas):
    query = user_files(
        tmp_path,
        cas,
        [cas["old"]["ca_cert_pem"], cas["new"]["ca_cert_pem"]],
        cas["new"]["ca_key_pem"],
        "old_leaves",
    )
    error = refused("kube-user-provided", {**query, "ca_rotation_phase": "reissue"})
    line = one_line(error, Code.BUNDLE_PHASE)
    old, new = ids_of(cas, "old", "new")
    assert (
        "is signed by the outgoing CA, but in phase reissue every leaf is signed by the incoming CA" in line
    )
    assert f"(key id {new}; the outgoing CA that signed it has key id {old})" in line


# --- a leaf from another CA of the same name; an expired certificate ----------------------------------------


def test_a_leaf_of_another_ca_of_the_same_name_names_its_file_both_key_ids_and_the_fix(tmp_path, cas):
    query = user_files(
        tmp_path, cas, [cas["old"]["ca_cert_pem"]], cas["old"]["ca_key_pem"], "stranger_leaves"
    )
    error = refused("kube-user-provided", query)
    old, stranger = ids_of(cas, "old", "stranger")
    for code in (Code.AKI_MISMATCH, Code.BAD_SIGNATURE):
        line = " ".join(one_line(error, code).split())
        assert f"the certificate in {tmp_path / 'apiserver.crt'} names its issuer's key id {stranger}" in line
        assert f"the CA 'CN=kube-ca,O=bootkube' has key id {old}" in line
        assert (
            f"give the CA whose key id is {stranger} (as the CA input), or issue the certificate again"
            in line
        )
    assert one_line(error, Code.BAD_SIGNATURE).startswith("TFEXT-E031 apiserver: signature does not verify")
    assert one_line(error, Code.AKI_MISMATCH).startswith("TFEXT-E033 apiserver: authorityKeyIdentifier")


def test_an_expired_leaf_and_ca_name_the_file_the_key_id_and_the_fix(tmp_path, cas):
    query = user_files(tmp_path, cas, [cas["old"]["ca_cert_pem"]], cas["old"]["ca_key_pem"], "old_leaves")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 40)
    error = refused("kube-user-provided", query, now=later)
    expired = [p for p in error.problems if p.code is Code.EXPIRED]
    leaf = next(p.render() for p in expired if p.where == "apiserver")
    assert f"(the certificate in {tmp_path / 'apiserver.crt'}, key id " in leaf
    assert (
        f"issuer's key id {ids_of(cas, 'old')[0]}" in leaf and "issue it again (same names, same CA)" in leaf
    )
    ca = next(p.render() for p in expired if p.where.startswith("ca certificate"))
    assert str(tmp_path / "ca.crt") in ca and f"key id {ids_of(cas, 'old')[0]}" in ca
    assert "stopped working with it: rotate to a new CA (docs/ca-rotation.md" in ca


# --- the protocol's own messages ----------------------------------------------------------------------------


def test_an_empty_query_gives_its_hint_once():
    err = io.StringIO()
    code = protocol.run(
        "kube-self-signed", lambda q: {}, stdin=io.BytesIO(b""), stdout=io.StringIO(), stderr=err
    )
    assert code == 1 and err.getvalue().count("\n") == 1
    assert err.getvalue().count("expected one JSON object") == 1
