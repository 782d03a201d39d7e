"""What a member's or node's names may be (issue 19, item 6), as the programs judge them: a name that is an
IPv4 address is an IP SAN (issued, and demanded of a provided certificate), an address among DNS names is
refused (E086), so is a name shaped like a bad address; a name or address on two members or nodes is
refused (E087), and so is a wildcard in a member's or node's names (E088). The variables' validations say
the same at every plan: tests/validation/test_per_node_names_at_plan.py."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json

import pytest
from cryptography import x509

from tfext import issue, profiles
from tfext.errors import Code, TfextError
from tfext.profiles import Inputs, Node
from tfext.programs.inputs import MAX_NODES, certificate_inputs
from tfext.verify import Given, Report, check_leaf

from ._pki import run_program
from .test_per_node import issuing_query, pair_of

NOW = dt.datetime.now(dt.UTC)


def refusal(query: dict[str, str]) -> list[tuple[Code, str]]:
    with pytest.raises(TfextError) as exc:
        certificate_inputs(query, 20)
    return [(p.code, p.where) for p in exc.value.problems]


def message(query: dict[str, str]) -> str:
    with pytest.raises(TfextError) as exc:
        certificate_inputs(query, 20)
    return str(exc.value)


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName)), {
        str(i) for i in san.get_values_for_type(x509.IPAddress)
    }


# --- a name that is an address is an IP SAN -----------------------------------------------------------------


def test_a_member_and_a_node_named_by_their_ipv4_address_get_it_as_an_ip_san():
    members = json.dumps({"10.0.0.10": {}, "etcd-1": {"ip_addresses": ["10.0.0.11"]}})
    etcd = run_program("etcd-signed", issuing_query("etcd", members=members))
    for role in ("server", "peer"):
        dns, ips = sans(pair_of(etcd, f"{role}:10.0.0.10").cert)
        assert "10.0.0.10" in ips and "10.0.0.10" not in dns, role
    kube = run_program(
        "kube-self-signed",
        issuing_query("kube", nodes='["10.0.1.1", "w1"]', kubelet_serving='{"10.0.1.1": {}}'),
    )
    dns, ips = sans(pair_of(kube, "serving:10.0.1.1").cert)
    assert (dns, ips) == (set(), {"10.0.1.1"})
    cn = pair_of(kube, "kubelet:10.0.1.1").cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    assert cn[0].value == "system:node:10.0.1.1"


def test_go_accepts_the_ip_named_member_at_its_address():
    from cryptography.x509 import verification as xv

    etcd = run_program("etcd-signed", issuing_query("etcd", members='{"10.0.0.10": {}}'))
    store = xv.Store([x509.load_pem_x509_certificate(etcd["ca_cert_pem"].encode())])
    address = xv.IPAddress(ipaddress.ip_address("10.0.0.10"))
    xv.PolicyBuilder().store(store).build_server_verifier(address).verify(
        pair_of(etcd, "server:10.0.0.10").cert, []
    )


@pytest.mark.parametrize("profile", [profiles.ETCD_MEMBER_SERVER, profiles.KUBELET_SERVING])
def test_a_provided_certificate_of_an_ip_named_node_must_carry_it_as_an_ip_san(profile):
    """The same rule as issuing: a DNS SAN spelling the address is what Go refuses ("doesn't contain any
    IP SANs"), so such a file is refused at plan."""
    node = Node("10.0.0.10")
    inputs = Inputs(node=node)
    ca = issue.issue(profiles.ETCD_CA, Inputs(), key_algorithm="ECDSA-P256", validity_hours=48, issuer=None)
    good = issue.issue(profile, inputs, key_algorithm="ECDSA-P256", validity_hours=24, issuer=ca)
    as_dns = issue.issue(
        profile,
        Inputs(node=Node("n", dns=("10.0.0.10",))),
        key_algorithm="ECDSA-P256",
        validity_hours=24,
        issuer=ca,
    )
    assert profile.required_names(inputs) == profiles.Names(ips=("10.0.0.10",))
    verdicts = {}
    for name, pair in (("good", good), ("as_dns", as_dns)):
        report = Report()
        given = Given("server:10.0.0.10", [pair.cert], pair.key, "", "", "/tls/10.0.0.10/server.crt")
        check_leaf(profile, inputs, given, ca.cert, report, NOW, dt.timedelta(0))
        verdicts[name] = {
            (p.code, p.detail)
            for p in report.errors
            if p.code in (Code.MISSING_SAN, Code.MEMBER_ADDRESS_MISSING)
        }
    assert verdicts["good"] == set()
    assert any("lacks IP:10.0.0.10" in detail for _, detail in verdicts["as_dns"])


# --- addresses among DNS names, and names shaped like a bad address -----------------------------------------


@pytest.mark.parametrize("value", ["10.0.0.5", "10.0.0.5.", "fd00::5", "010.0.0.5", "10.1", "300.1.2.3"])
@pytest.mark.parametrize(
    ("key", "query"),
    [
        ("query.members.etcd-0.dns_names", lambda v: {"members": json.dumps({"etcd-0": {"dns_names": [v]}})}),
        (
            "query.kubelet_serving.w1.dns_names",
            lambda v: {"nodes": '["w1"]', "kubelet_serving": json.dumps({"w1": {"dns_names": [v]}})},
        ),
        ("query.dns_names", lambda v: {"dns_names": json.dumps(["ok.example.com", v])}),
        ("query.identity_dns_names", lambda v: {"identity_dns_names": json.dumps([v])}),
    ],
)
def test_an_address_among_dns_names_is_refused_with_where_it_belongs(key, query, value):
    assert refusal(query(value)) == [(Code.IP_AS_NAME, key)]


def test_the_refusal_says_where_the_address_goes():
    text = message({"members": json.dumps({"etcd-0": {"dns_names": ["10.0.0.5"]}})})
    assert (
        "'10.0.0.5'" in text and "move it to ip_addresses" in text and "doesn't contain any IP SANs" in text
    )
    assert "etcd_cert_ip_addresses" in message({"dns_names": '["10.0.0.5"]'})
    assert "drop it" in message({"identity_dns_names": '["10.0.0.5"]'})


@pytest.mark.parametrize("name", ["10.0.0.256", "010.0.0.1", "10.1", "1.2.3.4.5"])
def test_a_name_shaped_like_an_address_that_is_not_one_is_refused(name):
    if name == "1.2.3.4.5":  # five numbers: a DNS name by the rules, and no address to anyone
        certificate_inputs({"nodes": json.dumps([name])}, 20)
        return
    assert refusal({"nodes": json.dumps([name])}) == [(Code.IP_AS_NAME, "query.nodes")]
    assert refusal({"members": json.dumps({name: {}})}) == [(Code.IP_AS_NAME, "query.members")]
    assert "four numbers 0-255, no leading zeros" in message({"nodes": json.dumps([name])})


def test_every_problem_of_a_member_list_is_reported_at_once():
    members = {
        "010.0.0.1": {},
        "etcd-1": {"dns_names": ["10.0.0.5", "*.x.example.com"], "ip_addresses": ["x"]},
    }
    assert sorted(refusal({"members": json.dumps(members)}), key=lambda p: (p[0].number, p[1])) == [
        (Code.INVALID_ADDRESS, "query.members.etcd-1.ip_addresses"),
        (Code.IP_AS_NAME, "query.members"),
        (Code.IP_AS_NAME, "query.members.etcd-1.dns_names"),
        (Code.WILDCARD_NAME, "query.members.etcd-1.dns_names"),
    ]


# --- wildcards ----------------------------------------------------------------------------------------------


def test_a_wildcard_in_a_members_or_a_serving_nodes_names_is_refused_but_not_in_the_shared_names():
    members = json.dumps({"etcd-0": {"dns_names": ["*.etcd.example.com"]}})
    assert refusal({"members": members}) == [(Code.WILDCARD_NAME, "query.members.etcd-0.dns_names")]
    serving = json.dumps({"w1": {"dns_names": ["*.nodes.example.com"]}})
    assert refusal({"nodes": '["w1"]', "kubelet_serving": serving}) == [
        (Code.WILDCARD_NAME, "query.kubelet_serving.w1.dns_names")
    ]
    assert "answer for every name below it" in message({"members": members})
    # a module's shared names may (the etcd service name is one): they are no member's identity
    certificate_inputs({"dns_names": '["*.kube-etcd.example.com"]'}, 20)


# --- one name, one member or node ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("members", "shown"),
    [
        ({"etcd-0": {"ip_addresses": ["10.0.0.10"]}, "etcd-1": {"ip_addresses": ["10.0.0.10"]}}, "10.0.0.10"),
        ({"etcd-0": {"ip_addresses": ["fd00::1"]}, "etcd-1": {"ip_addresses": ["fd00:0::1"]}}, "fd00::1"),
        (
            {"etcd-0": {"dns_names": ["E.example.com"]}, "etcd-1": {"dns_names": ["e.example.com."]}},
            "e.example.com",
        ),
        ({"etcd-0": {}, "etcd-1": {"dns_names": ["etcd-0"]}}, "etcd-0"),
        ({"10.0.0.10": {}, "etcd-1": {"ip_addresses": ["10.0.0.10"]}}, "10.0.0.10"),
    ],
)
def test_a_name_or_address_on_two_members_is_refused(members, shown):
    assert refusal({"members": json.dumps(members)}) == [(Code.SAME_NAME_TWICE, "query.members")]
    text = message({"members": json.dumps(members)})
    assert shown in text and all(m in text for m in members)
    assert "keep each in the entry of the one it belongs to" in text


def test_a_member_may_name_itself_twice():
    members = {
        "etcd-0": {"dns_names": ["etcd-0"], "ip_addresses": ["10.0.0.10", "10.0.0.10"]},
        "10.0.0.11": {"ip_addresses": ["10.0.0.11"]},
    }
    assert len(certificate_inputs({"members": json.dumps(members)}, 20).members) == 2


def test_a_serving_node_may_not_name_another_node():
    query = {"nodes": '["w1", "w2"]', "kubelet_serving": json.dumps({"w1": {"dns_names": ["w2"]}})}
    assert refusal(query) == [(Code.SAME_NAME_TWICE, "query.kubelet_serving")]
    assert "w2 is w2's name, and w1's entry lists it too" in message(query)
    shared = {"w1": {"ip_addresses": ["10.0.1.1"]}, "w2": {"ip_addresses": ["10.0.1.1"]}}
    assert refusal({"nodes": '["w1", "w2"]', "kubelet_serving": json.dumps(shared)}) == [
        (Code.SAME_NAME_TWICE, "query.kubelet_serving")
    ]


def test_one_node_stage_sees_only_its_own_node_and_is_not_refused_for_the_others():
    """A node's own stage names that node alone; the whole list is the variables' and the CA stage's."""
    query = {"nodes": '["w1"]', "kubelet_serving": json.dumps({"w1": {"dns_names": ["w1.example.com"]}})}
    assert len(certificate_inputs(query, 20).serving_nodes) == 1


def test_the_limit_is_the_same_number_the_variables_check():
    from harness import MODULES

    for flavor in ("kube/self-signed", "kube/user-provided", "etcd/signed", "etcd/user-provided"):
        text = (MODULES / flavor / "variables.tf.json").read_text()
        assert f"<= {MAX_NODES}}}" in text and f"at most {MAX_NODES} per module" in text, flavor
    many = json.dumps([f"n{i}" for i in range(MAX_NODES + 1)])
    assert refusal({"nodes": many}) == [(Code.NODE_LIST_INVALID, "query.nodes")]
