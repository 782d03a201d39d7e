"""One identity per node (issue 14): every per-node and new client certificate as kubeadm issues it, the
slots `<role>:<name>` a query's members and nodes make, the E084/E012 refusals of a bad list, and the
identity rules E080-E085 a user-provided file is held to. Everything runs through the programs' schema
check and `engine.run`, as `tfext PROGRAM` does."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tfext import certinfo, issue, keys, profiles
from tfext.errors import Code, TfextError
from tfext.issue import KeyPair
from tfext.programs import MODULES
from tfext.programs.inputs import MAX_NODES, certificate_inputs

from ._pki import (
    build,
    cert_fingerprint,
    digest,
    load_cert,
    name,
    raised_codes,
    run_program,
    spki,
    write_pair,
)

T_OLD = "2030-01-01T00:00:00Z"  # a slot captured in an earlier plan
T = "2030-01-01T00:05:00Z"  # this plan
ALG = "ECDSA-P256"
SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH

MEMBERS = {
    "etcd-0": {"ip_addresses": ["10.0.0.10"], "dns_names": ["etcd-0.example.com"]},
    "etcd-1": {"ip_addresses": ["10.0.0.11", "fd00::11"]},
    "etcd-2": {"ip_addresses": ["10.0.0.12"]},
}
NODES = ["master-0", "w1", "w2"]
SERVING = {"w1": {"ip_addresses": ["10.0.1.1"], "dns_names": ["w1.example.com"]}, "w2": {}}
INPUTS = {
    "etcd": {
        "dns_names": '["etcd.example.com"]',
        "ip_addresses": '["10.0.0.10", "10.0.0.11", "10.0.0.12"]',
        "service_cidr": "10.3.0.0/24",
        "members": json.dumps(MEMBERS),
    },
    "kube": {
        "kube_apiserver_url": "https://api.example.com:443",
        "service_cidr": "10.3.0.0/24",
        "nodes": json.dumps(NODES),
        "kubelet_serving": json.dumps(SERVING),
    },
}
ISSUING = {"etcd": "etcd-signed", "kube": "kube-self-signed"}
VERIFYING = {"etcd": "etcd-user-provided", "kube": "kube-user-provided"}

# What kubeadm issues for these members and nodes, written out from its sources rather than from
# tfext.profiles, so that a change to a profile shows here:
# - kubernetes cmd/kubeadm/app/phases/certs/certlist.go: etcd-server and etcd-peer (CN = the node name,
#   serverAuth + clientAuth, no O), apiserver-kubelet-client (CN=kube-apiserver-kubelet-client,
#   O=kubeadm:cluster-admins since 1.29, clientAuth);
# - cmd/kubeadm/app/util/pkiutil GetEtcdAltNames / GetEtcdPeerAltNames: DNS the node name and localhost,
#   IP the advertise address, 127.0.0.1 and ::1 (here: the member's addresses; its dns_names are its
#   ServerCertSANs / PeerCertSANs);
# - the kubeconfig phase (cmd/kubeadm/app/phases/kubeconfig): admin.conf CN=kubernetes-admin,
#   O=kubeadm:cluster-admins; kubelet.conf CN=system:node:<node>, O=system:nodes, clientAuth.
# kubeadm leaves a kubelet's serving certificate to the kubelet; ours is what the kubernetes.io/
# kubelet-serving signer approves: the kubelet's subject, serverAuth, DNS and IP SANs only.
# slot => (CN, O, EKU, DNS SANs, IP SANs)
BOTH, NODES_O, ADMINS_O = {SERVER, CLIENT}, ("system:nodes",), ("kubeadm:cluster-admins",)
LOCAL, LOCAL_IPS = {"localhost"}, {"127.0.0.1", "::1"}
KUBEADM: dict[str, dict[str, tuple[str, tuple[str, ...], set, set[str], set[str]]]] = {
    "etcd": {
        "server:etcd-0": (
            "etcd-0",
            (),
            BOTH,
            {"etcd-0", "etcd-0.example.com"} | LOCAL,
            {"10.0.0.10"} | LOCAL_IPS,
        ),
        "peer:etcd-0": (
            "etcd-0",
            (),
            BOTH,
            {"etcd-0", "etcd-0.example.com"} | LOCAL,
            {"10.0.0.10"} | LOCAL_IPS,
        ),
        "server:etcd-1": ("etcd-1", (), BOTH, {"etcd-1"} | LOCAL, {"10.0.0.11", "fd00::11"} | LOCAL_IPS),
        "peer:etcd-1": ("etcd-1", (), BOTH, {"etcd-1"} | LOCAL, {"10.0.0.11", "fd00::11"} | LOCAL_IPS),
        "server:etcd-2": ("etcd-2", (), BOTH, {"etcd-2"} | LOCAL, {"10.0.0.12"} | LOCAL_IPS),
        "peer:etcd-2": ("etcd-2", (), BOTH, {"etcd-2"} | LOCAL, {"10.0.0.12"} | LOCAL_IPS),
    },
    "kube": {
        "kubelet:master-0": ("system:node:master-0", NODES_O, {CLIENT}, set(), set()),
        "kubelet:w1": ("system:node:w1", NODES_O, {CLIENT}, set(), set()),
        "kubelet:w2": ("system:node:w2", NODES_O, {CLIENT}, set(), set()),
        "serving:w1": ("system:node:w1", NODES_O, {SERVER}, {"w1", "w1.example.com"}, {"10.0.1.1"}),
        "serving:w2": ("system:node:w2", NODES_O, {SERVER}, {"w2"}, set()),
        "apiserver_kubelet_client": ("kube-apiserver-kubelet-client", ADMINS_O, {CLIENT}, set(), set()),
        "admin": ("kubernetes-admin", ADMINS_O, {CLIENT}, set(), set()),
    },
}
ROWS = [pytest.param(module, slot, id=slot) for module, rows in KUBEADM.items() for slot in rows]


def issuing_query(module: str, **extra: str) -> dict[str, str]:
    """A first apply of `module` in one run: its CA and every slot of the query's members and nodes."""
    query = {"plan_time": T, "key_algorithm": ALG, **INPUTS[module], **extra}
    for slot in MODULES[module].slots_for(certificate_inputs(query, MODULES[module].service_hosts)):
        query[f"{slot.name}_issued_at"] = T
    return query


@pytest.fixture(scope="module")
def issued() -> dict[str, dict[str, str]]:
    """module => the result of its first apply (holds keys: only digests are ever shown)."""
    return {module: run_program(ISSUING[module], issuing_query(module)) for module in KUBEADM}


def pair_of(result: dict[str, str], slot: str) -> KeyPair:
    return KeyPair(
        load_cert(result[f"{slot}_cert_pem"]), keys.load_private_key(result[f"{slot}_key_pem"], slot)
    )


def issued_slots(result: dict[str, str]) -> set[str]:
    """The slots a run issued: those with a certificate (the others are answered with placeholders)."""
    return {k.removesuffix("_cert_pem") for k, v in result.items() if k.endswith("_cert_pem") and v}


def _subject(cert: x509.Certificate, oid) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]


# --- what is issued: kubeadm's table ------------------------------------------------------------------------


@pytest.mark.parametrize(("module", "slot"), ROWS)
def test_every_per_node_and_new_client_certificate_is_what_kubeadm_issues(issued, module, slot):
    cn, orgs, eku, dns, ips = KUBEADM[module][slot]
    result = issued[module]
    cert = load_cert(result[f"{slot}_cert_pem"])
    assert _subject(cert, NameOID.COMMON_NAME) == [cn]
    assert _subject(cert, NameOID.ORGANIZATION_NAME) == list(orgs)
    assert len(cert.subject) == 1 + len(orgs), "no other subject attribute"
    assert set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == eku
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if dns or ips:
        assert set(san.get_values_for_type(x509.DNSName)) == dns
        assert {str(i) for i in san.get_values_for_type(x509.IPAddress)} == ips
        assert len(list(san)) == len(dns) + len(ips), "a SAN of another type, or one twice"
    else:
        assert san is None, "a client certificate names no host"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is False
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign and not usage.crl_sign
    cert.verify_directly_issued_by(load_cert(result["ca_cert_pem"]))  # the CA of the same run
    assert spki(pair_of(result, slot).key) == spki(cert.public_key())
    assert certinfo.facts_of(result[f"{slot}_info"])["subject"] == ",".join(
        [f"CN={cn}", *(f"O={o}" for o in orgs)]
    )


def test_the_table_covers_every_per_node_slot_and_every_new_kube_leaf(issued):
    new_kube = {"apiserver_kubelet_client", "admin"}
    for module, result in issued.items():
        per_node = {s.name for s in MODULES[module].slots_for(certificate_inputs(INPUTS[module])) if s.node}
        assert set(KUBEADM[module]) == per_node | (new_kube if module == "kube" else set())
        assert set(KUBEADM[module]) <= issued_slots(result)


def test_a_member_certificate_verifies_for_every_address_of_its_member_and_no_other(issued):
    from cryptography.x509 import verification as xv

    result = issued["etcd"]
    store = xv.Store([load_cert(result["ca_cert_pem"])])
    cert = load_cert(result["server:etcd-1_cert_pem"])
    for host in ("10.0.0.11", "fd00::11", "127.0.0.1"):
        verifier = (
            xv.PolicyBuilder().store(store).build_server_verifier(xv.IPAddress(ipaddress.ip_address(host)))
        )
        verifier.verify(cert, [])
    other = (
        xv.PolicyBuilder().store(store).build_server_verifier(xv.IPAddress(ipaddress.ip_address("10.0.0.10")))
    )
    with pytest.raises(xv.VerificationError):
        other.verify(cert, [])  # etcd-0's address: one member's key speaks for that member only


# --- slots -------------------------------------------------------------------------------------------------


def test_per_node_slots_are_role_colon_name_after_the_fixed_ones():
    etcd = MODULES["etcd"].slots_for(certificate_inputs(INPUTS["etcd"], 20))
    assert [s.name for s in etcd] == [
        "ca",
        "server",
        "peer",
        "client",
        "server:etcd-0",
        "server:etcd-1",
        "server:etcd-2",
        "peer:etcd-0",
        "peer:etcd-1",
        "peer:etcd-2",
    ]
    kube = MODULES["kube"].slots_for(certificate_inputs(INPUTS["kube"]))
    assert [s.name for s in kube] == [
        "ca",
        "apiserver",
        "kubelet",
        "apiserver_kubelet_client",
        "admin",
        "kubelet:master-0",
        "kubelet:w1",
        "kubelet:w2",
        "serving:w1",
        "serving:w2",
    ]
    for slot in etcd + kube:
        assert (slot.node.name if slot.node else None) == (
            slot.name.split(":")[1] if ":" in slot.name else None
        )
    by_name = {s.name: s for s in etcd + kube}
    assert by_name["serving:w1"].profile is profiles.KUBELET_SERVING
    assert by_name["serving:w1"].node.ips == ("10.0.1.1",) and by_name["serving:w2"].node.ips == ()
    assert by_name["peer:etcd-1"].profile is profiles.ETCD_MEMBER_PEER


def test_every_slot_answers_with_its_own_result_keys(issued):
    for module, result in issued.items():
        for slot in KUBEADM[module]:
            parts = {f"{slot}_{part}" for part in ("cert_pem", "key_pem", "key_path", "info")}
            assert parts <= set(result), slot
            assert result[f"{slot}_key_path"] == ""  # a generated key is returned, never a file


def _later_plan(module: str, issued, gates: dict[str, str], **inputs: str) -> dict[str, str]:
    """The leaves stage of a later plan: the CA captured before, every slot gated at T_OLD but `gates`."""
    query = {
        "plan_time": T,
        "key_algorithm": ALG,
        "ca_cert_pem": issued[module]["ca_cert_pem"],
        "ca_key_pem": issued[module]["ca_key_pem"],
        "ca_issued_at": T_OLD,
        **INPUTS[module],
        **inputs,
    }
    for slot in MODULES[module].slots_for(certificate_inputs(query, MODULES[module].service_hosts)):
        query[f"{slot.name}_issued_at"] = gates.get(slot.name, T_OLD)
    return run_program(ISSUING[module], query)


def test_adding_a_member_changes_nothing_the_run_issues_but_the_new_members_own(issued):
    before = _later_plan("etcd", issued, {"peer:etcd-1": T})
    assert issued_slots(before) == {"peer:etcd-1"}
    grown = json.dumps(MEMBERS | {"etcd-3": {"ip_addresses": ["10.0.0.13"]}})
    quiet = _later_plan("etcd", issued, {"peer:etcd-1": T}, members=grown)
    assert issued_slots(quiet) == {"peer:etcd-1"}, "a member captured before is not issued again"
    assert set(quiet) - set(before) == {
        f"{slot}:etcd-3_{part}"
        for slot in ("server", "peer")
        for part in ("cert_pem", "key_pem", "key_path", "info")
    }
    added = _later_plan("etcd", issued, {"server:etcd-3": T, "peer:etcd-3": T}, members=grown)
    assert issued_slots(added) == {"server:etcd-3", "peer:etcd-3"}
    assert _subject(load_cert(added["peer:etcd-3_cert_pem"]), NameOID.COMMON_NAME) == ["etcd-3"]


def test_adding_a_node_issues_only_the_slot_whose_gate_is_this_plan(issued):
    grown = {"nodes": json.dumps([*NODES, "w3"]), "kubelet_serving": json.dumps(SERVING | {"w3": {}})}
    added = _later_plan("kube", issued, {"kubelet:w3": T}, **grown)
    assert issued_slots(added) == {"kubelet:w3"}
    assert digest(added["serving:w3_cert_pem"]) == digest(""), "serving:w3 was captured at T_OLD"


# --- refusals of the lists: E084, E012 ----------------------------------------------------------------------


def _refusal(program: str, query: dict[str, str]) -> TfextError:
    with pytest.raises(TfextError) as exc:
        run_program(program, query)
    return exc.value


SHAPE = 'expected a JSON object {"<name>": {"dns_names": [...], "ip_addresses": [...]}}'
E084_CASES = [
    pytest.param(
        "kube-self-signed", {"nodes": '["Worker-1"]'}, "query.nodes", "not node names", id="uppercase"
    ),
    pytest.param("kube-self-signed", {"nodes": '["w1:x"]'}, "query.nodes", "not node names", id="colon"),
    pytest.param("kube-self-signed", {"nodes": '["../w1"]'}, "query.nodes", "not node names", id="path"),
    pytest.param(
        "kube-self-signed", {"nodes": '["w1."]'}, "query.nodes", "not node names", id="trailing-dot"
    ),
    pytest.param(
        "etcd-signed", {"members": '{"etcd_0": {}}'}, "query.members", "not node names", id="underscore"
    ),
    pytest.param(
        "etcd-signed", {"members": json.dumps({"e" * 254: {}})}, "query.members", "not node names", id="long"
    ),
    pytest.param(
        "kube-self-signed", {"nodes": '["w1", "w2", "w1"]'}, "query.nodes", "more than once: 'w1'", id="twice"
    ),
    pytest.param(
        "etcd-signed",
        {"members": '{"etcd-0": {}, "etcd-0": {"ip_addresses": ["10.0.0.1"]}}'},
        "query.members",
        "more than once: 'etcd-0'",
        id="twice-in-an-object",
    ),
    pytest.param(
        "kube-self-signed",
        {"nodes": '["w1"]', "kubelet_serving": '{"w1": {}, "w2": {}}'},
        "query.kubelet_serving",
        "serving certificates for nodes not in nodes: 'w2'",
        id="serving-unlisted",
    ),
    pytest.param(
        "kube-self-signed",
        {"nodes": '["w1"]', "plan_time": T, "kubelet:w9_issued_at": T},
        "query",
        "kubelet:w9_issued_at: no such member or node",
        id="stray-key",
    ),
    pytest.param(
        "etcd-signed",
        {
            "members": '{"etcd-0": {}}',
            "plan_time": T,
            "peer:etcd-9_issued_at": T,
            "server:etcd-0_issued_at": T,
        },
        "query",
        "peer:etcd-9_issued_at: no such member or node",
        id="stray-member-key",
    ),
    pytest.param(
        "kube-self-signed",
        {"nodes": json.dumps([f"n{i}" for i in range(MAX_NODES + 1)])},
        "query.nodes",
        f"{MAX_NODES + 1} entries; at most {MAX_NODES} per module",
        id="too-many",
    ),
    pytest.param("etcd-signed", {"members": '["etcd-0"]'}, "query.members", SHAPE, id="list-for-map"),
    pytest.param(
        "etcd-signed", {"members": '{"etcd-0": ["10.0.0.1"]}'}, "query.members", SHAPE, id="list-entry"
    ),
    pytest.param(
        "etcd-signed", {"members": '{"etcd-0": {"ips": []}}'}, "query.members", SHAPE, id="unknown-field"
    ),
    pytest.param(
        "etcd-signed",
        {"members": '{"etcd-0": {"ip_addresses": "10.0.0.1"}}'},
        "query.members",
        SHAPE,
        id="string",
    ),
    pytest.param(
        "kube-self-signed", {"kubelet_serving": "{not json"}, "query.kubelet_serving", SHAPE, id="not-json"
    ),
    pytest.param("kube-self-signed", {"kubelet_serving": "null"}, "query.kubelet_serving", SHAPE, id="null"),
]


@pytest.mark.parametrize(("program", "query", "where", "detail"), E084_CASES)
def test_a_bad_member_or_node_list_is_e084_naming_the_input(program, query, where, detail):
    exc = _refusal(program, query)
    assert raised_codes(exc) == [Code.NODE_LIST_INVALID]
    assert exc.problems[0].where == where
    assert detail in exc.problems[0].detail


def test_a_list_of_too_many_is_refused_by_its_count_first_without_quadratic_work():
    many = [f"n{i}" for i in range(25000)]  # within the schema's 262144 characters; it took 18 s
    started = time.monotonic()
    for query in ({"nodes": json.dumps(many)}, {"nodes": json.dumps(["W1"] * 2000)}):
        exc = _refusal("kube-self-signed", query)
        assert raised_codes(exc) == [Code.NODE_LIST_INVALID]
        assert "entries; at most 1000 per module" in exc.problems[0].detail
    assert time.monotonic() - started < 10


def test_nodes_that_are_not_a_json_list_are_e011_like_every_list_input():
    exc = _refusal("kube-self-signed", {"nodes": '{"w1": {}}'})
    assert raised_codes(exc) == [Code.INVALID_LIST] and exc.problems[0].where == "query.nodes"


@pytest.mark.parametrize(
    ("program", "key", "value", "where"),
    [
        (
            "etcd-signed",
            "members",
            {"etcd-0": {"ip_addresses": ["10.0.0.300"]}},
            "query.members.etcd-0.ip_addresses",
        ),
        (
            "etcd-signed",
            "members",
            {"etcd-0": {"ip_addresses": ["10.0.0.1/32"]}},
            "query.members.etcd-0.ip_addresses",
        ),
        ("etcd-signed", "members", {"e1": {"dns_names": ["bad_name!"]}}, "query.members.e1.dns_names"),
        (
            "kube-self-signed",
            "kubelet_serving",
            {"w1": {"ip_addresses": ["w1"]}},
            "query.kubelet_serving.w1.ip_addresses",
        ),
    ],
)
def test_a_bad_address_of_a_member_is_e012_naming_the_member(program, key, value, where):
    query = {key: json.dumps(value)} | ({"nodes": '["w1"]'} if key == "kubelet_serving" else {})
    exc = _refusal(program, query)
    assert raised_codes(exc) == [Code.INVALID_ADDRESS]
    assert exc.problems[0].where == where


def test_every_bad_list_of_a_run_is_reported_together():
    query = {"nodes": '["W1"]', "kubelet_serving": '{"w2": {"ip_addresses": ["x"]}}'}
    exc = _refusal("kube-self-signed", query)
    assert [(p.code, p.where) for p in exc.problems] == [
        (Code.INVALID_ADDRESS, "query.kubelet_serving.w2.ip_addresses"),
        (Code.NODE_LIST_INVALID, "query.nodes"),
    ]


def test_nodes_that_do_not_parse_do_not_make_every_serving_node_unlisted():
    exc = _refusal("kube-self-signed", {"nodes": '["W1", "w2"]', "kubelet_serving": '{"w2": {}}'})
    assert [(p.code, p.where) for p in exc.problems] == [(Code.NODE_LIST_INVALID, "query.nodes")]


def test_a_node_name_longer_than_a_cn_holds_is_refused_before_any_key_is_made():
    long = "n" * 53  # system:node: + 53 = 65 characters; a CN holds 64
    query = issuing_query("kube", nodes=json.dumps(["w1", long]), kubelet_serving="{}")
    exc = _refusal("kube-self-signed", query)
    assert raised_codes(exc) == [Code.NODE_LIST_INVALID]
    assert (
        "(CN 65 characters)" in exc.problems[0].detail and "at most 52 characters" in exc.problems[0].detail
    )
    fits = issuing_query("kube", nodes=json.dumps(["n" * 52]), kubelet_serving="{}")
    cert = load_cert(run_program("kube-self-signed", fits)[f"kubelet:{'n' * 52}_cert_pem"])
    assert len(_subject(cert, NameOID.COMMON_NAME)[0]) == 64


def test_an_external_etcd_with_members_is_e084_as_nothing_can_issue_theirs():
    exc = _refusal(
        "etcd-signed",
        {
            "ca_cert_path": "/ca.crt",
            "client_cert_path": "/c.crt",
            "client_key_path": "/c.key",
            "members": '{"etcd-0": {}}',
        },
    )
    assert raised_codes(exc) == [Code.NODE_LIST_INVALID]
    assert "etcd-0 listed, but no certificate of theirs is given" in exc.problems[0].detail


# --- the verify path: user-provided files -------------------------------------------------------------------

# The files of the user-provided flavors (terraform/modules/tls/{etcd,kube}/user-provided): per node
# `<node_certs_dir>/<node>/kubelet-client.crt` ..., per member `<member_certs_dir>/<member>/server.crt` ...
NODE_FILES = {"kubelet": "kubelet-client", "serving": "kubelet-serving", "server": "server", "peer": "peer"}
STATIC = {
    "etcd": ("server", "peer", "client"),
    "kube": ("apiserver", "kubelet", "apiserver_kubelet_client", "admin"),
}


@dataclasses.dataclass
class Provided:
    """A module's certificates written as a user provides them, and the query of its user-provided flavor."""

    module: str
    root: Path
    pairs: dict[str, KeyPair] = dataclasses.field(repr=False)
    query: dict[str, str] = dataclasses.field(default_factory=dict)

    def given_as(self, slot: str, pair: KeyPair) -> dict[str, str]:
        """The query with `slot`'s files replaced by `pair`'s."""
        directory = self.root / "bad" / f"{slot.replace(':', '-')}-{cert_fingerprint(pair.cert)}"
        cert, key = write_pair(directory, "given", pair)
        return self.query | {f"{slot}_cert_path": cert, f"{slot}_key_path": key}

    def run(self, query: dict[str, str] | None = None) -> dict[str, str]:
        return run_program(VERIFYING[self.module], self.query if query is None else query)


def provide(module: str, issued, root: Path) -> Provided:
    result = issued[module]
    pairs = {slot: pair_of(result, slot) for slot in [*STATIC[module], *KUBEADM[module]]}
    ca = root / "ca.crt"
    ca.write_text(result["ca_cert_pem"])
    query = {"ca_cert_path": str(ca), **INPUTS[module]}
    for slot, pair in pairs.items():
        role, _, node = slot.partition(":")
        directory, stem = (root / "nodes" / node, NODE_FILES[role]) if node else (root, slot)
        query[f"{slot}_cert_path"], query[f"{slot}_key_path"] = write_pair(directory, stem, pair)
    return Provided(module, root, pairs, query)


@pytest.fixture(scope="module")
def provided(issued, tmp_path_factory) -> dict[str, Provided]:
    return {m: provide(m, issued, tmp_path_factory.mktemp(f"{m}-files")) for m in KUBEADM}


@pytest.fixture(scope="module")
def cas(issued) -> dict[str, KeyPair]:
    return {m: pair_of(result, "ca") for m, result in issued.items()}


def problems_of(given: Provided, query: dict[str, str]) -> list[tuple[Code, str]]:
    with pytest.raises(TfextError) as exc:
        given.run(query)
    return [(p.code, p.where.split(" ", 1)[0]) for p in exc.value.problems]


@pytest.mark.parametrize("module", list(KUBEADM))
def test_a_correct_user_provided_set_passes_and_comes_back_unchanged(provided, module):
    given = provided[module]
    out = given.run()
    assert json.loads(out["warnings"]) == []
    for slot in KUBEADM[module]:
        assert digest(out[f"{slot}_cert_pem"]) == digest(Path(given.query[f"{slot}_cert_path"]).read_text())
        assert out[f"{slot}_key_path"] == str(Path(given.query[f"{slot}_key_path"]).resolve())
        assert out[f"{slot}_key_pem"] == ""


def test_e080_a_nodes_certificate_given_as_another_nodes(provided):
    given = provided["kube"]
    assert problems_of(given, given.given_as("kubelet:w1", given.pairs["kubelet:w2"])) == [
        (Code.NODE_NAME_MISMATCH, "kubelet:w1")
    ]


def test_e080_a_member_certificate_with_another_cn_and_the_right_names(provided, cas):
    member = profiles.Node("etcd-1", ips=("10.0.0.11", "fd00::11"))
    wrong_cn = dataclasses.replace(profiles.ETCD_MEMBER_SERVER, common_name=profiles.fixed("etcd"))
    pair = issue.issue(
        wrong_cn, profiles.Inputs(node=member), key_algorithm=ALG, validity_hours=24, issuer=cas["etcd"]
    )
    given = provided["etcd"]
    assert problems_of(given, given.given_as("server:etcd-1", pair)) == [
        (Code.NODE_NAME_MISMATCH, "server:etcd-1")
    ]


@pytest.mark.parametrize(
    ("orgs", "code"),
    [
        (("system:nodes", "developers"), Code.NODE_GROUP_MISMATCH),
        (("system:node",), Code.NODE_GROUP_MISMATCH),
        ((), Code.NODE_GROUP_MISMATCH),
        (("system:masters",), Code.KUBELET_IN_MASTERS),
        (("system:nodes", "system:masters"), Code.KUBELET_IN_MASTERS),
    ],
)
@pytest.mark.parametrize("slot", ["kubelet:w1", "serving:w1"])
def test_e081_e082_a_kubelets_organization_is_system_nodes_alone(provided, cas, slot, orgs, code):
    sans = ("w1", "w1.example.com", "10.0.1.1") if slot.startswith("serving") else ()
    pair = build(subject=name("system:node:w1", orgs), issuer=cas["kube"], sans=sans)
    given = provided["kube"]
    assert problems_of(given, given.given_as(slot, pair)) == [(code, slot)]


def test_e083_a_member_certificate_lacking_its_members_ip(provided, cas):
    member = profiles.Node("etcd-0", dns=("etcd-0.example.com",), ips=())  # 10.0.0.10 left out
    pair = issue.issue(
        profiles.ETCD_MEMBER_PEER,
        profiles.Inputs(node=member),
        key_algorithm=ALG,
        validity_hours=24,
        issuer=cas["etcd"],
    )
    given = provided["etcd"]
    with pytest.raises(TfextError) as exc:
        given.run(given.given_as("peer:etcd-0", pair))
    assert raised_codes(exc.value) == [Code.MEMBER_ADDRESS_MISSING]
    assert exc.value.problems[0].detail == "subjectAltName lacks IP:10.0.0.10"


@pytest.mark.parametrize(
    ("slot", "subject"),
    [
        ("admin", name("system:node:x", "kubeadm:cluster-admins")),
        ("admin", name("kubernetes-admin", "system:nodes")),
        ("apiserver_kubelet_client", name("system:node:master-0", "system:nodes")),
    ],
)
def test_e085_a_cluster_client_with_a_nodes_identity(provided, cas, slot, subject):
    pair = build(subject=subject, issuer=cas["kube"], eku=(CLIENT,))
    given = provided["kube"]
    assert problems_of(given, given.given_as(slot, pair)) == [(Code.CLIENT_IS_A_NODE, slot)]


def test_e084_a_file_for_a_node_without_a_serving_certificate(provided):
    given = provided["kube"]
    query = given.query | {"serving:master-0_cert_path": "/x.crt", "serving:master-0_key_path": "/x.key"}
    exc = _refusal("kube-user-provided", query)
    assert raised_codes(exc) == [Code.NODE_LIST_INVALID]
    assert exc.problems[0].detail.startswith("serving:master-0_cert_path, serving:master-0_key_path: no such")


def test_e084_a_listed_node_without_files(provided):
    given = provided["kube"]
    exc = _refusal("kube-user-provided", given.query | {"nodes": json.dumps([*NODES, "w3"])})
    assert raised_codes(exc) == [Code.NODE_LIST_INVALID]
    assert exc.problems[0].detail.startswith("w3 listed, but no certificate of theirs is given")


def test_every_identity_problem_of_a_run_is_reported_together(provided, cas):
    given = provided["kube"]
    query = given.given_as("kubelet:w1", given.pairs["kubelet:w2"])
    masters = build(subject=name("system:node:w2", "system:masters"), issuer=cas["kube"], eku=(CLIENT,))
    query |= {k: v for k, v in given.given_as("kubelet:w2", masters).items() if k.startswith("kubelet:w2")}
    admin = build(subject=name("system:node:w1", "system:nodes"), issuer=cas["kube"], eku=(CLIENT,))
    query |= {k: v for k, v in given.given_as("admin", admin).items() if k.startswith("admin")}
    assert problems_of(given, query) == [
        (Code.NODE_NAME_MISMATCH, "kubelet:w1"),
        (Code.KUBELET_IN_MASTERS, "kubelet:w2"),
        (Code.CLIENT_IS_A_NODE, "admin"),
    ]


@pytest.mark.parametrize(("module", "slot"), [("etcd", "peer:etcd-0"), ("kube", "serving:w1")])
def test_a_provided_certificate_need_not_name_its_node_as_a_dns_name(provided, cas, module, slot):
    """Peers and the apiserver reach a member or kubelet by the addresses given for it: those are the rule
    (E083, E038), and the DNS SAN of its bare name, which tfext adds when it issues, is not."""
    given = provided[module]
    issued_pair = given.pairs[slot]
    san = issued_pair.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    node = slot.partition(":")[2]
    kept = tuple(d for d in san.get_values_for_type(x509.DNSName) if d != node)
    ips = tuple(str(i) for i in san.get_values_for_type(x509.IPAddress))
    assert kept != tuple(san.get_values_for_type(x509.DNSName)), "the issued certificate names its node"
    subject = issued_pair.cert.subject
    eku = tuple(issued_pair.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    pair = build(subject=subject, issuer=cas[module], sans=kept + ips, eku=eku)
    out = given.run(given.given_as(slot, pair))  # raises on any error
    assert digest(out[f"{slot}_cert_pem"]) == digest(pair.cert.public_bytes(Encoding.PEM).decode())
