"""The human commands on any root module (issue 12): one applied root module, read in the three shapes users
have - the example's flat outputs, module-object outputs (`output "kube" { value = module.kube_certs }`),
and `terraform state pull` with no outputs at all - and every command finds the same certificates, by role."""

from __future__ import annotations

import json

import pytest
from harness import Terraform, copy_example

from ._helpers import Secret, files_written

OBJECT_OUTPUTS = {
    "kube": "kube_certs",
    "etcd": "etcd_certs",
    "identity": "identity_certs",
    "ingress": "ingress_certs",
}
ROLES = {
    "etcd/ca",
    "etcd/server",
    "etcd/peer",
    "etcd/client",
    "kube/ca",
    "kube/apiserver",
    "kube/kubelet",
    "kube/apiserver_kubelet_client",
    "kube/admin",
    "identity/server",
    "identity/client",
    "ingress/ingress",
}  # identity/ca and ingress/ca are the kube CA: aliases of kube/ca
LEAVES_WITH_KEYS = ROLES - {"etcd/ca", "kube/ca"}


@pytest.fixture(scope="module")
def shapes(tf_config, tmp_path_factory) -> dict[str, str]:
    """shape => the JSON users pipe, all from one applied root module (the example's wiring, plus one
    module-object output per module). Values hold private keys: never shown."""
    work = copy_example("tectonic", tmp_path_factory.mktemp("anyroot"))
    (work / "objects.tf").write_text(
        "".join(
            f'output "{name}" {{\n  value     = module.{module}\n  sensitive = true\n}}\n'
            for name, module in OBJECT_OUTPUTS.items()
        )
    )
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply()
    outputs = json.loads(tf.run("output", "-json").stdout)
    state = json.loads(tf.run("state", "pull").stdout)
    state["outputs"] = {}  # as a root module with no outputs at all writes it
    return Secret(
        flat=json.dumps({k: v for k, v in outputs.items() if k not in OBJECT_OUTPUTS}),
        objects=json.dumps({k: v for k, v in outputs.items() if k in OBJECT_OUTPUTS}),
        state=json.dumps(state),
    )


def each(shapes, run) -> dict[str, object]:
    return {shape: run(document) for shape, document in shapes.items()}


def assert_same(results: dict[str, object]) -> object:
    first = next(iter(results.values()))
    for shape, result in results.items():
        assert result == first, f"{shape} differs from flat outputs"
    return first


def test_check_expiration_names_the_same_certificates_by_module_and_role_in_every_shape(cli, shapes):
    def run(document):
        result = cli("check-expiration", "-", "--json", stdin=document)
        assert result.code == 0, result.err
        return {
            (c["name"], c["sha256_fingerprint"], c["certificate_authority"])
            for c in json.loads(result.out)["certificates"]
        }

    found = assert_same(each(shapes, run))
    assert {name for name, _, _ in found} == ROLES
    authority = {name: ca for name, _, ca in found}
    assert (
        authority["kube/apiserver"]
        == authority["identity/server"]
        == authority["ingress/ingress"]
        == "kube/ca"
    )
    assert authority["etcd/server"] == "etcd/ca"


def test_check_expiration_lists_the_kube_ca_once_with_identity_and_ingress_as_aliases(cli, shapes):
    for shape, document in shapes.items():
        report = json.loads(cli("check-expiration", "-", "--json", stdin=document).out)
        ca = next(c for c in report["certificates"] if c["name"] == "kube/ca")
        assert sorted(ca["aliases"]) == ["identity/ca", "ingress/ca"], shape


def test_inspect_finds_the_same_certificates_and_matches_each_leaf_key_in_every_shape(cli, shapes):
    def run(document):
        result = cli("inspect", "--json", "-", stdin=document)
        assert result.code == 0, result.err
        report = json.loads(result.out)
        certs = {(c["files"][0], c["sha256_fingerprint"], c["status"]) for c in report["certificates"]}
        keyed = {c["files"][0] for c in report["certificates"] if c["private_keys"]}
        return certs, keyed - {"etcd/ca"}  # the state also holds the etcd CA's key, which no output hands out

    certs, keyed = assert_same(each(shapes, run))
    assert {name for name, _, _ in certs} == ROLES and {s for _, _, s in certs} == {"valid"}
    assert keyed == LEAVES_WITH_KEYS | {"kube/ca"}


def test_topology_draws_the_same_graph_in_every_shape(cli, shapes):
    def run(document):
        result = cli("topology", stdin=document)
        assert result.code == 0, result.err
        return result.out

    drawing = assert_same(each(shapes, run))
    assert drawing.count("-->|signs|") == 10  # every leaf, signed by its CA
    assert "ca.crt + ca.key · identity-ca.crt · ingress-ca.crt" in drawing


def test_write_assets_writes_the_same_files_in_every_shape(cli, shapes, tmp_path):
    def run(shape):
        target = tmp_path / shape
        result = cli("write-assets", str(target), stdin=shapes[shape])
        assert result.code == 0, result.err
        return files_written(target)

    files = assert_same({shape: run(shape) for shape in shapes})
    assert len(files) == 25  # Tectonic's 21, and admin and apiserver-kubelet-client with their keys
    assert {mode for name, (_, mode) in files.items() if name.endswith(".key")} == {0o600}
    assert files["identity-ca.crt"][0] == files["ingress-ca.crt"][0] == files["ca.crt"][0]


def test_summary_shows_the_same_rows_in_every_shape(cli, shapes):
    def run(document):
        result = cli("summary", stdin=document)
        assert result.code == 0, result.err
        return result.out

    table = assert_same(each(shapes, run))
    assert {line.split()[0] for line in table.splitlines()[1:]} == ROLES


@pytest.mark.parametrize("command", ["write-assets", "topology", "check-expiration", "inspect", "summary"])
def test_json_without_our_modules_says_what_was_expected_and_how_to_get_it(cli, tmp_path, command):
    args = {"write-assets": [str(tmp_path / "out")], "check-expiration": ["-"], "inspect": ["-"]}.get(
        command, []
    )
    result = cli(command, *args, stdin=json.dumps({"vpc_id": {"value": "vpc-1", "type": "string"}}))
    assert result.code != 0 and "TFEXT-E070" in result.err
    for hint in (
        "terraform output -json",
        "terraform state pull",
        'output "kube" { value = module.kube_certs }',
        "kube/apiserver",
    ):
        assert hint in result.err, command
    assert not (tmp_path / "out").exists()


def test_write_assets_from_a_user_provided_state_reads_the_key_files_it_names(cli, tmp_path):
    from ._helpers import make_cert, state, verify_resource

    ca = make_cert("kube-ca", ca=True)
    pairs = {"ca": ca, "apiserver": make_cert("kube-apiserver", ca), "kubelet": make_cert("kubelet", ca)}
    keys = tmp_path / "keys"
    keys.mkdir()
    document = state(verify_resource("module.kube_certs.module.given", "kube-user-provided", pairs, keys))
    result = cli("write-assets", str(tmp_path / "tls"), stdin=json.dumps(document))
    assert result.code == 0, result.err
    for slot, name in (("ca", "ca"), ("apiserver", "apiserver"), ("kubelet", "kubelet")):
        written = (tmp_path / "tls" / f"{name}.key").read_bytes()
        assert written == (keys / f"{slot}.key").read_bytes(), f"{name}.key is not the user's key file"
        assert (tmp_path / "tls" / f"{name}.crt").read_text() == pairs[slot].cert_pem
    checked = json.loads(
        cli("check-expiration", "-", "--json", stdin=json.dumps(document), now="2030-02-01T00:00:00Z").out
    )
    assert {c["name"] for c in checked["certificates"]} == {"kube/ca", "kube/apiserver", "kube/kubelet"}
