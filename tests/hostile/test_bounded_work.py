"""Item 1: bounded work on hostile certificates. Issuers are matched by subject and key identifiers, each
pair is checked at most once, signature checks per run are capped, and a chain too long is refused before
any of it is parsed; every input within the size limits is judged in under 2 s."""

from __future__ import annotations

import pytest

from tfext.errors import Code, TfextError
from tfext.tools import sources
from tfext.verify import MAX_CHAIN_CERTS, parse_certificates

from . import _gen
from .conftest import BUDGET_SECONDS, assert_clean


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """The issue's reproduction: 400 CA certificates of one subject, none signed by another's key."""
    path = tmp_path_factory.mktemp("twins") / "twins.pem"
    path.write_text(_gen.same_subject_cas(400))
    return path


@pytest.mark.parametrize("command", ["inspect", "check-expiration"])
def test_four_hundred_same_subject_cas_are_judged_in_bounded_time(cli, twins, command):
    run = cli(command, str(twins), now="2030-06-01T00:00:00Z")
    assert_clean(run)
    assert run.seconds < BUDGET_SECONDS, f"{command} took {run.seconds:.2f} s"
    assert run.code == 1  # the signature budget is spent: said, with its code
    assert Code.TOO_MUCH_WORK.tag in run.err


def test_issuers_check_each_pair_once_and_stop_at_the_budget():
    certs = [sources.Found(f"c{i}", c) for i, c in enumerate(_load(_gen.same_subject_cas(60)))]
    issuers = sources.Issuers(certs, limit=100)
    for _ in range(3):  # asking again costs nothing
        for item in certs:
            issuers.issuer_of(item)
            issuers.is_self_signed(item)
    assert issuers.checks == 100 and issuers.exhausted
    assert issuers.problem().code is Code.TOO_MUCH_WORK


def test_candidates_are_limited_to_the_issuer_named_with_a_matching_key_id():
    ca_key, other_key = _gen.ec_key(), _gen.ec_key()
    ca = _gen.build(_gen.name("ca"), ca_key.public_key(), ca_key, ca=True)
    twin = _gen.build(_gen.name("ca"), other_key.public_key(), other_key, ca=True)
    stranger = _gen.build(_gen.name("other"), other_key.public_key(), other_key, ca=True)
    aki = x509_aki(ca)
    leaf = _gen.build(
        _gen.name("leaf"), _gen.ec_key().public_key(), ca_key, issuer=ca.subject, extensions=[aki]
    )
    found = [
        sources.Found(n, c) for n, c in (("ca", ca), ("twin", twin), ("stranger", stranger), ("leaf", leaf))
    ]
    issuers = sources.Issuers(found)
    assert [c.name for c in issuers.candidates(found[3])] == ["ca"]  # the twin's key id differs
    assert issuers.issuer_of(found[3]).name == "ca" and issuers.checks == 1


def x509_aki(ca):
    from cryptography import x509

    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)


def _load(pem: str):
    from cryptography import x509

    return x509.load_pem_x509_certificates(pem.encode())


def test_a_chain_longer_than_the_cap_is_refused_before_it_is_parsed(rsa3072):
    chain, _ = _gen.huge_exponent_chain(rsa3072, MAX_CHAIN_CERTS)  # leaf + 10 = 11 certificates
    with pytest.raises(TfextError) as err:
        parse_certificates(chain.encode(), "apiserver certificate", chain_allowed=True)
    assert [p.code for p in err.value.problems] == [Code.CHAIN_TOO_LONG]


def test_five_hundred_huge_exponent_intermediates_are_refused_at_once(rsa3072, tmp_path):
    """The issue's program reproduction: 500 RSA-3072 intermediates with a 3071-bit exponent took 3.6 to
    10.9 s and were accepted."""
    import time

    chain, top = _gen.huge_exponent_chain(rsa3072, 500)
    start = time.perf_counter()
    with pytest.raises(TfextError) as err:
        parse_certificates(chain.encode(), "apiserver certificate", chain_allowed=True)
    assert time.perf_counter() - start < 0.5
    assert err.value.problems[0].code is Code.CHAIN_TOO_LONG


def test_huge_exponent_intermediates_within_the_cap_are_refused_without_checking_signatures(rsa3072):
    import datetime as dt

    from tfext import profiles
    from tfext.profiles import Inputs
    from tfext.verify import Given, Report, check_leaf

    chain_pem, top = _gen.huge_exponent_chain(rsa3072, 5)
    chain = parse_certificates(chain_pem.encode(), "w", chain_allowed=True)
    report = Report()
    profile = next(p for p in vars(profiles).values() if isinstance(p, profiles.Profile) and not p.is_ca)
    import time

    start = time.perf_counter()
    check_leaf(
        profile, Inputs(), Given("apiserver", chain, None, "", ""), top, report, _gen.T0, dt.timedelta(0)
    )
    assert time.perf_counter() - start < 0.5
    codes = {p.code for p in report.errors}
    assert Code.BAD_RSA_EXPONENT in codes


def test_pem_blocks_is_linear_on_unterminated_blocks():
    import time

    data = b"-----BEGIN CERTIFICATE-----\n" * 40000  # 1.1 MB of BEGIN lines without an END
    start = time.perf_counter()
    assert sources.pem_blocks(data) == []
    assert time.perf_counter() - start < 0.5


def test_cross_signed_cas_do_not_loop_the_tree(cli, tmp_path):
    """Two CAs, each signed by the other's key: a loop that must neither hang nor hide both."""
    a_key, b_key = _gen.ec_key(), _gen.ec_key()
    a = _gen.build(_gen.name("a"), a_key.public_key(), b_key, issuer=_gen.name("b"), ca=True)
    b = _gen.build(_gen.name("b"), b_key.public_key(), a_key, issuer=_gen.name("a"), ca=True)
    (tmp_path / "loop.pem").write_text(_gen.cert_pem(a) + _gen.cert_pem(b))
    run = cli("inspect", str(tmp_path / "loop.pem"))
    assert_clean(run)
    assert run.code == 0 and "a [CA]" in run.out and "b [CA]" in run.out
    run = cli("inspect", "--json", str(tmp_path / "loop.pem"))
    assert run.code == 0


def test_a_deep_chain_is_cut_at_the_depth_cap(cli, tmp_path):
    keys = [_gen.ec_key() for _ in range(30)]
    certs = [_gen.build(_gen.name("c0"), keys[0].public_key(), keys[0], ca=True)]
    for i in range(1, 30):
        certs.append(
            _gen.build(
                _gen.name(f"c{i}"), keys[i].public_key(), keys[i - 1], issuer=_gen.name(f"c{i - 1}"), ca=True
            )
        )
    (tmp_path / "deep.pem").write_text("".join(_gen.cert_pem(c) for c in certs))
    run = cli("inspect", "--json", str(tmp_path / "deep.pem"))
    assert_clean(run)
    import json

    chains = [len(c["chain"]) for c in json.loads(run.out)["certificates"]]
    assert max(chains) <= sources.MAX_CHAIN_DEPTH and len(chains) == 30
