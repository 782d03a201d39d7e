"""One identity per node (issue 14) with real Terraform: kube/self-signed with `nodes` and `kubelet_serving`
and etcd/signed with `members`, in one root module.

One workspace (5 nodes, 3 of them with a serving certificate, 3 etcd members; ECDSA P-256 keys) is walked
through adding and removing a node and a member and changing a member's and a node's addresses. Each step
is judged by the serials of the `certificates` outputs: exactly the certificates of the node or member
concerned are issued, dropped or re-issued, and no other serial changes. The apply runs only the program
of the module concerned (none for a removal), and the plan after it is quiet and runs no program. The
per-node maps are keyed by name, and their certificates say whom they are for (CN, O, SANs). Bad names
fail the plan with TFEXT-E084, changing nothing. No command prints a line of any key the workspace ever
held (the leak scan of tests/test_state_layer.py, learning every key from the state), and
`terraform show -json` holds key text only where it marks a value sensitive.

Program runs are counted by the logging `tfext` wrapper of tests/test_state_layer.py (one line per run).
"""

from __future__ import annotations

import copy
import json
import textwrap
from collections import Counter
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from daytwo._helpers import Secret
from harness import Terraform, cert, modules_source
from test_state_layer import KeyScan, faulty_terraform

from tfext import keys

pytestmark = pytest.mark.terraform

NODES = ["node-1", "node-2", "node-3", "node-4", "node-5"]
SERVING = {
    "node-1": {"ip_addresses": ["10.0.1.1"]},
    "node-2": {"ip_addresses": ["10.0.1.2"], "dns_names": ["node-2.nodes.example.com"]},
    "node-4": {"dns_names": ["node-4.nodes.example.com"]},
}
MEMBERS = {
    "etcd-0": {"ip_addresses": ["10.0.0.10"]},
    "etcd-1": {"ip_addresses": ["10.0.0.11"], "dns_names": ["etcd-1.example.com"]},
    "etcd-2": {"ip_addresses": ["10.0.0.12"]},
}
KUBE_FIXED = {"ca", "apiserver", "kubelet", "apiserver_kubelet_client", "admin"}
ETCD_FIXED = {"ca", "server", "peer", "client"}

ROOT = """
variable "nodes" {
  type = list(string)
}
variable "kubelet_serving" {
  type = map(object({ ip_addresses = optional(list(string), []), dns_names = optional(list(string), []) }))
}
variable "members" {
  type = map(object({ ip_addresses = optional(list(string), []), dns_names = optional(list(string), []) }))
}
module "kube" {
  source             = "MODULES/kube/self-signed"
  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
  key_algorithm      = "ECDSA-P256"
  nodes              = var.nodes
  kubelet_serving    = var.kubelet_serving
}
module "etcd" {
  source                 = "MODULES/etcd/signed"
  self_signed            = true
  etcd_cert_dns_names    = ["etcd.example.com"]
  etcd_cert_ip_addresses = ["10.0.0.100"]
  service_cidr           = "10.3.0.0/16"
  key_algorithm          = "ECDSA-P256"
  members                = var.members
}
output "kube" {
  value     = module.kube
  sensitive = true
}
output "etcd" {
  value     = module.etcd
  sensitive = true
}
"""


def hidden(value):
    """Outputs with every map's repr hidden: a failing assertion must not print a key."""
    if isinstance(value, dict):
        return Secret({k: hidden(v) for k, v in value.items()})
    return value


def key_texts(value) -> set[str]:
    """Every private-key PEM anywhere in a JSON value (nested maps and lists too)."""
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return {text for item in items for text in key_texts(item)}
    return {value} if isinstance(value, str) and "PRIVATE KEY-----" in value else set()


class WorkspaceKeys(KeyScan):
    """The leak scan of test_state_layer, learning every key the state holds (seals, nested outputs such
    as the per-node key maps, and the issuing data source's result), not only top-level string outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()

    def learn_state(self, state: dict) -> None:
        found = key_texts(state)
        self.keys |= found
        for text in found:
            self.lines |= {ln for ln in text.splitlines() if ln and not ln.startswith("-----")}


def serials(out: dict) -> dict[str, str]:
    """`<module>.<certificate>` => serial, from both modules' `certificates` outputs."""
    return {f"{m}.{n}": c["serial"] for m in ("kube", "etcd") for n, c in out[m]["certificates"].items()}


@dataclass
class Change:
    """What one apply did to the certificates, and which programs it ran."""

    issued: set[str]
    dropped: set[str]
    reissued: set[str]
    runs: Counter

    @staticmethod
    def of(before: dict[str, str], after: dict[str, str], runs: Counter) -> Change:
        kept = before.keys() & after.keys()
        return Change(
            issued=set(after) - set(before),
            dropped=set(before) - set(after),
            reissued={k for k in kept if before[k] != after[k]},
            runs=runs,
        )


class Cluster:
    """The workspace: its variables (written to terraform.tfvars.json), every command's output, the keys
    it ever held, and the programs each command ran."""

    def __init__(self, tf: Terraform) -> None:
        self.tf = tf
        self.vars = copy.deepcopy({"nodes": NODES, "kubelet_serving": SERVING, "members": MEMBERS})
        self.first: Change | None = None  # what the first apply did
        self.scan = WorkspaceKeys()
        self.texts: list[tuple[str, str]] = []
        self.out: dict = {}
        self.write_vars()

    def write_vars(self) -> None:
        (self.tf.workdir / "terraform.tfvars.json").write_text(json.dumps(self.vars))

    def program_runs(self) -> list[str]:
        log = self.tf.workdir / "runs"  # one line per program run, by the wrapper
        return log.read_text().split() if log.exists() else []

    def command(self, step: str, *args: str, check: bool = True):
        """Run a terraform command, keep its output for the leak scan; the result and the programs it ran."""
        done = len(self.program_runs())
        result = self.tf.run(*args, check=check)
        self.texts.append((step, result.output))
        return result, Counter(self.program_runs()[done:])

    def state(self) -> str:
        return self.tf.run("state", "pull").stdout

    def apply(self, step: str) -> Change:
        """Apply the current variables; learn the keys; the next plan must be quiet and run no program."""
        before = serials(self.out) if self.out else {}
        _, runs = self.command(step, "apply", "-auto-approve", "-input=false", "-no-color")
        self.out = hidden(self.tf.outputs())
        self.scan.learn_state(json.loads(self.state()))
        plan, plan_runs = self.command(
            f"{step}: next plan", "plan", "-detailed-exitcode", "-input=false", "-no-color", check=False
        )
        assert plan.returncode == 0, f"{step}: the next plan is not quiet:\n{plan.output[-3000:]}"
        assert plan_runs == Counter(), f"{step}: the quiet plan ran programs {dict(plan_runs)}"
        return Change.of(before, serials(self.out), runs)

    def change(self, step: str, **variables) -> Change:
        self.vars.update(copy.deepcopy(variables))
        self.write_vars()
        return self.apply(step)


@pytest.fixture(scope="module")
def cluster(tf_config, tmp_path_factory) -> Cluster:
    work = tmp_path_factory.mktemp("per-node")
    (work / "main.tf").write_text(textwrap.dedent(ROOT).replace("MODULES", f"{modules_source(work)}/tls"))
    tf = faulty_terraform(tf_config, work)  # no fault asked for: it only logs each program run
    tf.init()
    c = Cluster(tf)
    c.first = c.apply("first apply")
    return c


# --- (d) the per-node maps, and whom each certificate names ----------------------------------------------


def subject(pem: str) -> tuple[list[str], list[str]]:
    name = cert(pem).subject
    return (
        [a.value for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)],
        [a.value for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)],
    )


def sans(pem: str) -> tuple[set[str], set[str]]:
    ext = cert(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), {
        str(i) for i in ext.get_values_for_type(x509.IPAddress)
    }


def has_san(pem: str) -> bool:
    try:
        cert(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    return True


def ekus(pem: str) -> set:
    return set(cert(pem).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def key_matches(key_pem: str, cert_pem: str) -> bool:
    return keys.public_key_matches(keys.load_private_key(key_pem, "test"), cert(cert_pem).public_key())


def check_identities(c: Cluster) -> None:
    """Every per-node map is keyed by the current names; each certificate names its node or member, is
    signed by its module's CA, matches its key, and is the one `certificates` lists under its slot."""
    kube, etcd = c.out["kube"], c.out["etcd"]
    nodes, serving, members = c.vars["nodes"], c.vars["kubelet_serving"], c.vars["members"]
    kube_ca, etcd_ca = cert(kube["ca_cert_pem"]), cert(etcd["etcd_ca_crt_pem"])
    listed = {
        "node_kubelet_client_cert_pem": sorted(kube["node_kubelet_client_cert_pem"]),
        "node_kubelet_client_key_pem": sorted(kube["node_kubelet_client_key_pem"]),
        "node_kubelet_serving_cert_pem": sorted(kube["node_kubelet_serving_cert_pem"]),
        "node_kubelet_serving_key_pem": sorted(kube["node_kubelet_serving_key_pem"]),
        "etcd_member_server_crt_pem": sorted(etcd["etcd_member_server_crt_pem"]),
        "etcd_member_server_key_pem": sorted(etcd["etcd_member_server_key_pem"]),
        "etcd_member_peer_crt_pem": sorted(etcd["etcd_member_peer_crt_pem"]),
        "etcd_member_peer_key_pem": sorted(etcd["etcd_member_peer_key_pem"]),
    }
    expected = {
        name: sorted(
            nodes if name.startswith("node_kubelet_client") else serving if "serving" in name else members
        )
        for name in listed
    }
    assert listed == expected
    assert set(kube["certificates"]) == KUBE_FIXED | {f"kubelet:{n}" for n in nodes} | {
        f"serving:{n}" for n in serving
    }
    assert set(etcd["certificates"]) == ETCD_FIXED | {f"{r}:{m}" for m in members for r in ("server", "peer")}

    for n in nodes:
        pem = kube["node_kubelet_client_cert_pem"][n]
        assert subject(pem) == ([f"system:node:{n}"], ["system:nodes"]), n
        assert ekus(pem) == {ExtendedKeyUsageOID.CLIENT_AUTH}, n
        assert not has_san(pem), n
        assert cert(pem).serial_number == int(kube["certificates"][f"kubelet:{n}"]["serial"], 16), n
        assert key_matches(kube["node_kubelet_client_key_pem"][n], pem), n
        cert(pem).verify_directly_issued_by(kube_ca)
    for n, spec in serving.items():
        pem = kube["node_kubelet_serving_cert_pem"][n]
        assert subject(pem) == ([f"system:node:{n}"], ["system:nodes"]), n
        assert ekus(pem) == {ExtendedKeyUsageOID.SERVER_AUTH}, n
        assert sans(pem) == ({n, *spec.get("dns_names", [])}, set(spec.get("ip_addresses", []))), n
        assert cert(pem).serial_number == int(kube["certificates"][f"serving:{n}"]["serial"], 16), n
        assert key_matches(kube["node_kubelet_serving_key_pem"][n], pem), n
        cert(pem).verify_directly_issued_by(kube_ca)
    for m, spec in members.items():
        for role, out in (("server", "etcd_member_server"), ("peer", "etcd_member_peer")):
            pem = etcd[f"{out}_crt_pem"][m]
            assert subject(pem) == ([m], []), (role, m)
            assert ekus(pem) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}, (role, m)
            want = ({m, "localhost", *spec.get("dns_names", [])}, {"127.0.0.1", "::1", *spec["ip_addresses"]})
            assert sans(pem) == want, (role, m)
            assert cert(pem).serial_number == int(etcd["certificates"][f"{role}:{m}"]["serial"], 16)
            assert key_matches(etcd[f"{out}_key_pem"][m], pem), (role, m)
            cert(pem).verify_directly_issued_by(etcd_ca)
    # The fixed identities of issue 14: no node's, and not system:masters.
    assert subject(kube["apiserver_kubelet_client_cert_pem"]) == (
        ["kube-apiserver-kubelet-client"],
        ["kubeadm:cluster-admins"],
    )
    assert subject(kube["admin_cert_pem"]) == (["kubernetes-admin"], ["kubeadm:cluster-admins"])
    for name in ("apiserver_kubelet_client", "admin"):
        assert key_matches(kube[f"{name}_key_pem"], kube[f"{name}_cert_pem"]), name
        cert(kube[f"{name}_cert_pem"]).verify_directly_issued_by(kube_ca)


def test_per_node_maps_are_keyed_by_name_and_each_certificate_names_its_node(cluster):
    check_identities(cluster)


def test_a_first_apply_runs_one_program_per_module_and_the_next_plan_none(cluster):
    # A new CA signs its module's first leaves, per-node ones included, in the same run.
    assert cluster.first.runs == Counter({"kube-self-signed": 1, "etcd-signed": 1})
    resources = cluster.tf.state_resources()
    certs = len(cluster.out["kube"]["certificates"]) + len(cluster.out["etcd"]["certificates"])
    assert certs == 5 + 5 + 3 + 4 + 2 * 3
    # a marker and the record that keeps it per certificate, the CA rotation's two records and three
    # marks per module, and the kube module's node_layout
    assert len([r for r in resources if ".terraform_data." in r]) == 2 * certs + 5 * 2 + 1
    # The quiet plan (checked by every apply) stays quiet whatever order the nodes are listed in.
    reordered, runs = cluster.command(
        "plan with the nodes reordered",
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-var",
        f"nodes={json.dumps(cluster.vars['nodes'][::-1])}",
        check=False,
    )
    assert reordered.returncode == 0, reordered.output[-3000:]
    assert runs == Counter()


# --- (a) + (b) adding, removing and changing one node or member -----------------------------------------


def test_each_node_and_member_change_touches_exactly_its_own_certificates(cluster):
    c = cluster
    add_node = c.change(
        "add a node",
        nodes=[*c.vars["nodes"], "node-6"],
        kubelet_serving={**c.vars["kubelet_serving"], "node-6": {"ip_addresses": ["10.0.1.6"]}},
    )
    assert add_node.issued == {"kube.kubelet:node-6", "kube.serving:node-6"}
    assert add_node.dropped == add_node.reissued == set()
    assert add_node.runs == Counter({"kube-self-signed": 1})

    remove_node = c.change(
        "remove a node",
        nodes=[n for n in c.vars["nodes"] if n != "node-2"],
        kubelet_serving={n: s for n, s in c.vars["kubelet_serving"].items() if n != "node-2"},
    )
    assert remove_node.dropped == {"kube.kubelet:node-2", "kube.serving:node-2"}
    assert remove_node.issued == remove_node.reissued == set()
    assert remove_node.runs == Counter()  # dropping a certificate needs no program

    readdress_node = c.change(
        "change a node's serving addresses",
        kubelet_serving={**c.vars["kubelet_serving"], "node-1": {"ip_addresses": ["10.0.2.1"]}},
    )
    assert readdress_node.reissued == {"kube.serving:node-1"}  # its client certificate names no address
    assert readdress_node.issued == readdress_node.dropped == set()
    assert readdress_node.runs == Counter({"kube-self-signed": 1})

    add_member = c.change(
        "add a member", members={**c.vars["members"], "etcd-3": {"ip_addresses": ["10.0.0.13"]}}
    )
    assert add_member.issued == {"etcd.server:etcd-3", "etcd.peer:etcd-3"}
    assert add_member.dropped == add_member.reissued == set()
    assert add_member.runs == Counter({"etcd-signed": 1})

    remove_member = c.change(
        "remove a member", members={m: s for m, s in c.vars["members"].items() if m != "etcd-1"}
    )
    assert remove_member.dropped == {"etcd.server:etcd-1", "etcd.peer:etcd-1"}
    assert remove_member.issued == remove_member.reissued == set()
    assert remove_member.runs == Counter()

    readdress_member = c.change(
        "change a member's addresses",
        members={**c.vars["members"], "etcd-0": {"ip_addresses": ["10.0.0.20", "10.0.0.21"]}},
    )
    assert readdress_member.reissued == {"etcd.server:etcd-0", "etcd.peer:etcd-0"}
    assert readdress_member.issued == readdress_member.dropped == set()
    assert readdress_member.runs == Counter({"etcd-signed": 1})
    for out in ("etcd_member_server_crt_pem", "etcd_member_peer_crt_pem"):
        _, ips = sans(c.out["etcd"][out]["etcd-0"])
        assert {"10.0.0.20", "10.0.0.21"} <= ips and "10.0.0.10" not in ips

    # After all of it, the maps follow the names, and every certificate still names its own.
    assert sorted(c.out["kube"]["node_kubelet_client_cert_pem"]) == [f"node-{i}" for i in (1, 3, 4, 5, 6)]
    assert sorted(c.out["etcd"]["etcd_member_peer_crt_pem"]) == ["etcd-0", "etcd-2", "etcd-3"]
    check_identities(c)


# --- (e) bad names fail the plan, changing nothing -----------------------------------------------------


BAD_LISTS = [
    # what is wrong, the variables that say it (from the current ones), the message, programs run
    (
        "an invalid node name",
        lambda v: {"nodes": [*v["nodes"], "Node_7"]},
        "TFEXT-E084 nodes: node names are",
        0,
    ),
    (
        "a node listed twice",
        lambda v: {"nodes": [*v["nodes"], v["nodes"][0]]},
        "TFEXT-E084 nodes: each node",
        0,
    ),
    (
        "an invalid member name",
        lambda v: {"members": {**v["members"], "etcd_3": {}}},
        "TFEXT-E084 members:",
        0,
    ),
    (
        "a serving certificate for a node not in nodes",
        lambda v: {"kubelet_serving": {**v["kubelet_serving"], "node-9": {"ip_addresses": ["10.0.1.9"]}}},
        "TFEXT-E084 kubelet_serving: serving certificates for nodes not in nodes: node-9.",
        0,  # the module refuses it at plan (an output's precondition), before any program runs
    ),
]


@pytest.mark.parametrize("case", BAD_LISTS, ids=lambda case: case[0].replace(" ", "-"))
def test_a_bad_node_or_member_list_fails_the_plan_with_e084_and_changes_nothing(cluster, case):
    step, make, message, programs = case
    variables = make(cluster.vars)
    state = cluster.tf.workdir / "terraform.tfstate"
    before = state.read_bytes()
    args = [a for name, value in variables.items() for a in ("-var", f"{name}={json.dumps(value)}")]
    plan, runs = cluster.command(
        f"plan with {step}", "plan", "-detailed-exitcode", "-input=false", "-no-color", *args, check=False
    )
    assert plan.returncode == 1, plan.output[-3000:]
    assert message in " ".join(plan.output.split()), plan.output[-3000:]
    assert sum(runs.values()) == programs, dict(runs)
    assert state.read_bytes() == before
    applied, _ = cluster.command(
        f"apply with {step}", "apply", "-auto-approve", "-input=false", "-no-color", *args, check=False
    )
    assert applied.returncode == 1 and state.read_bytes() == before


# --- (c) no key text anywhere --------------------------------------------------------------------------


def redact(value, marks):
    """A JSON value with every part that Terraform's `sensitive_values` marks replaced."""
    if marks is True:
        return "(sensitive)"
    if isinstance(value, dict) and isinstance(marks, dict):
        return {k: redact(v, marks.get(k, False)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(marks, list):
        return [redact(v, marks[i] if i < len(marks) else False) for i, v in enumerate(value)]
    return value


def redact_show_json(shown: dict) -> dict:
    """`terraform show -json` with every value it marks sensitive removed. (It prints sensitive values in
    clear, marking them, by design: the scan checks that every key it holds carries such a mark.)"""

    def module(m: dict) -> dict:
        return {
            **m,
            "resources": [
                {**r, "values": redact(r.get("values", {}), r.get("sensitive_values", {}))}
                for r in m.get("resources", [])
            ],
            "child_modules": [module(child) for child in m.get("child_modules", [])],
        }

    values = shown["values"]
    outputs = {n: ("(sensitive)" if o["sensitive"] else o) for n, o in values.get("outputs", {}).items()}
    return {**shown, "values": {**values, "outputs": outputs, "root_module": module(values["root_module"])}}


def test_no_command_prints_a_key_and_show_json_marks_every_key_sensitive(cluster):
    c = cluster
    # A plan that issues (one more node), saved and shown, as a reviewer would look at it.
    more = ["-var", f"nodes={json.dumps([*c.vars['nodes'], 'node-7'])}"]
    c.command("plan -out of one more node", "plan", "-input=false", "-no-color", "-out=more.tfplan", *more)
    c.scan.learn_state(json.loads(c.tf.run("show", "-json", "more.tfplan").stdout))  # node-7's new keys
    c.command("show PLANFILE", "show", "-no-color", "more.tfplan")
    # The issuing data source's result window (README: Secrets) is closed by a refresh-only apply.
    c.command("apply -refresh-only", "apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
    c.command("terraform show", "show", "-no-color")
    c.command("terraform output", "output", "-no-color")
    c.scan.learn_state(json.loads(c.state()))
    # Every key the workspace holds (and, after the walk, those of removed and re-issued certificates).
    assert len(c.scan.keys) > len(serials(c.out))
    for step, text in c.texts:
        c.scan.assert_clean(step, text)

    shown = json.loads(c.tf.run("show", "-json").stdout)
    assert c.scan.leaks(json.dumps(shown)) > 0, "show -json holds no key: the check below proves nothing"
    assert c.scan.leaks(json.dumps(redact_show_json(shown))) == 0, "show -json holds a key it does not mark"
