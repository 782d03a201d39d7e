"""`tfext write-assets DIR`: keys 0600 and certificates 0644 whatever the umask, never a key readable by
others even for a moment, each file replaced atomically, and a failed run leaves the old set untouched."""

from __future__ import annotations

import errno
import json
import os
import stat
from types import SimpleNamespace

import pytest

from tfext.programs import MODULES, engine
from tfext.programs.inputs import certificate_inputs
from tfext.tools import assets
from tfext.tools.assets import ENTRY, FILES, NODE_LAYOUT, entry_name, in_order, layout_file, write_assets

from ._helpers import MEMBERS, NODES, Secret, files_written, key_body_lines, make_cert, module_object


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    """A value for every file of the layout (certificates and keys of made-up pairs, each key beside its
    own certificate), each member's and node's too, by layout name
    (`kube_certs_node_kubelet_client_cert_pem["w1"]`)."""
    ca = make_cert("ca", ca=True)
    names = [*FILES] + [
        entry_name(output, node)
        for output in NODE_LAYOUT
        for node in (MEMBERS if output.startswith("etcd") else NODES)
    ]
    out, pairs = {}, {}
    for name in names:
        stem = layout_file(name).rsplit(".", 1)[0]  # `apiserver.crt` and `apiserver.key` are one pair
        if "ca_" not in name and stem not in pairs:
            pairs[stem] = make_cert(stem, ca)
        pair = ca if "ca_" in name else pairs[stem]
        out[name] = pair.key_pem if layout_file(name).endswith(".key") else pair.cert_pem
    return Secret(out)


def as_terraform_outputs(outputs: dict[str, str]) -> dict[str, dict]:
    """`terraform output -json` of flat outputs holding `outputs`: a per-node entry goes into its map."""
    values: dict[str, object] = {}
    for name, value in outputs.items():
        entry = ENTRY.fullmatch(name)
        if entry:
            values.setdefault(entry["output"], {})[entry["name"]] = value
        else:
            values[name] = value
    return {
        name: {
            "sensitive": "key_pem" in name,
            "type": "string" if isinstance(v, str) else ["map", "string"],
            "value": v,
        }
        for name, v in values.items()
    }


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_keys_are_0600_and_certificates_0644_whatever_the_umask(tmp_path, outputs, umask):
    old = os.umask(umask)
    try:
        written = write_assets(outputs, tmp_path / "tls")
    finally:
        os.umask(old)
    assert sorted(p.relative_to(tmp_path / "tls").as_posix() for p in written) == sorted(
        [*FILES.values(), *(layout_file(name) for name in outputs if name not in FILES)]
    )
    for path in written:
        assert mode(path) == (0o600 if path.suffix == ".key" else 0o644), path


def test_a_key_is_never_readable_by_others_while_being_written(tmp_path, outputs, monkeypatch):
    seen = {}
    real_fdopen = os.fdopen

    def spying_fdopen(fd, *args, **kwargs):
        seen[len(seen)] = stat.S_IMODE(os.fstat(fd).st_mode)  # the mode before the first byte
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", spying_fdopen)
    write_assets(outputs, tmp_path)
    expected = [0o600 if f.endswith(".key") else 0o644 for _, f in in_order(outputs)]
    assert len(expected) == len(outputs)
    assert list(seen.values()) == expected


def test_rewriting_replaces_files_and_tightens_a_loose_key(tmp_path, outputs):
    key = tmp_path / "apiserver.key"
    key.write_text("old")
    key.chmod(0o644)
    inode = key.stat().st_ino
    write_assets(outputs, tmp_path)
    assert mode(key) == 0o600 and key.read_text() == outputs["kube_certs_apiserver_key_pem"]
    assert key.stat().st_ino != inode, "a new file is renamed over the old one, never rewritten in place"
    assert not [p for p in tmp_path.rglob(".*")], "no temporary file is left behind"


def test_a_failure_while_writing_leaves_every_old_file_and_no_temporary_file(tmp_path, outputs, monkeypatch):
    write_assets({name: f"old {name}" for name in outputs}, tmp_path)
    before = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    calls = {"fsync": 0, "replace": 0}
    real_fsync, real_replace = os.fsync, os.replace

    def failing_fsync(fd):
        calls["fsync"] += 1
        if calls["fsync"] == 7:  # the disk fills up in the middle of the set
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    def counting_replace(src, dst):
        calls["replace"] += 1
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    monkeypatch.setattr(os, "replace", counting_replace)
    with pytest.raises(OSError):
        write_assets(outputs, tmp_path)
    assert calls["replace"] == 0, "no file is replaced before every new one is safely written"
    after = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_cli_reports_a_full_disk_in_one_line(cli, tmp_path, outputs, monkeypatch):
    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(assets.os, "fsync", no_space)
    run = cli("write-assets", str(tmp_path / "tls"), stdin=json.dumps(as_terraform_outputs(outputs)))
    assert run.code == 1
    assert run.err == f"tfext write-assets: cannot write under {tmp_path / 'tls'}: No space left on device\n"


def test_cli_prints_modes_and_paths_only(cli, tmp_path, outputs):
    run = cli("write-assets", str(tmp_path), stdin=json.dumps(as_terraform_outputs(outputs)))
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert len(lines) == len(outputs)
    assert f"600  {tmp_path / 'etcd/server.key'}" in lines and f"644  {tmp_path / 'ca.crt'}" in lines
    assert f"600  {tmp_path / 'kube/nodes/w2/kubelet-serving.key'}" in lines
    assert f"644  {tmp_path / 'etcd/members/etcd-1/peer.crt'}" in lines
    for name, value in outputs.items():
        if "key_pem" in name:
            assert not any(line in run.out for line in key_body_lines(value))


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("not json", "TFEXT-E002 stdin: not JSON"),
        ("[]", "expected the JSON object of `terraform output -json`"),
        (
            '{"kube_certs": {"ca": {"subject": "CN=kube-ca"}}}',
            "TFEXT-E070 stdin: no certificate of a tfext module found",
        ),
        (
            '{"kube_certs_ca_cert_pem": "just text"}',
            "output kube_certs_ca_cert_pem is not PEM text; nothing was",
        ),
    ],
)
def test_cli_refuses_wrong_input_before_writing_anything(cli, tmp_path, stdin, message):
    run = cli("write-assets", str(tmp_path / "tls"), stdin=stdin)
    assert run.code == 2 and message in run.err and "Traceback" not in run.err
    assert not (tmp_path / "tls").exists()


# --- each member's and node's own files (docs/per-node.md) ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ('kube_certs_node_kubelet_client_cert_pem["w1"]', "kube/nodes/w1/kubelet-client.crt"),
        (
            'kube_certs_node_kubelet_serving_key_pem["node-1.example.com"]',
            "kube/nodes/node-1.example.com/kubelet-serving.key",
        ),
        ('etcd_certs_etcd_member_peer_crt_pem["etcd-0"]', "etcd/members/etcd-0/peer.crt"),
        ('kube_certs_node_kubelet_client_cert_pem["../w1"]', None),
        ('kube_certs_node_kubelet_client_cert_pem["w1/x"]', None),
        ('kube_certs_node_kubelet_client_cert_pem[".."]', None),
        ('kube_certs_node_kubelet_client_cert_pem["W1"]', None),
        ('kube_certs_node_kubelet_client_cert_pem[""]', None),
        ('kube_certs_apiserver_cert_pem["w1"]', None),
        ("kube_certs_node_kubelet_client_cert_pem", None),
    ],
)
def test_a_per_node_file_is_one_directory_named_as_a_node_never_a_path(name, file):
    assert layout_file(name) == file


def _map_outputs(**maps: dict) -> str:
    return json.dumps(
        {name: {"value": value, "type": ["map", "string"], "sensitive": True} for name, value in maps.items()}
    )


def test_a_map_keyed_by_something_other_than_a_node_name_writes_nothing(cli, tmp_path):
    ca = make_cert("kube-ca", ca=True)
    leaf = make_cert("system:node:w1", ca, server=False)
    for bad in ("../../etc", "w1/..", "W1", "a b"):
        document = _map_outputs(
            kube_certs_ca_cert_pem=ca.cert_pem,
            kube_certs_node_kubelet_client_cert_pem={bad: leaf.cert_pem},
            kube_certs_node_kubelet_client_key_pem={bad: leaf.key_pem},
        )
        run = cli("write-assets", str(tmp_path / "tls"), stdin=document)
        assert run.code == 2 and "TFEXT-E084 output kube_certs_node_kubelet_client_cert_pem" in run.err, bad
        assert "is not a node name" in run.err and "nothing was written" in run.err
        assert not (tmp_path / "tls").exists()
        assert not any(line in run.err for line in key_body_lines(leaf.key_pem))


def test_a_node_key_without_its_certificate_writes_nothing(cli, tmp_path):
    ca = make_cert("kube-ca", ca=True)
    leaf = make_cert("system:node:w1", ca, server=False)
    document = _map_outputs(
        kube_certs_ca_cert_pem=ca.cert_pem,
        kube_certs_node_kubelet_client_cert_pem={"w1": leaf.cert_pem, "w2": ""},
        kube_certs_node_kubelet_client_key_pem={"w1": leaf.key_pem, "w2": leaf.key_pem},
    )
    run = cli("write-assets", str(tmp_path / "tls"), stdin=document)
    assert run.code == 2
    where = 'output kube_certs_node_kubelet_client_key_pem["w2"]'
    assert f"TFEXT-E064 {where}: a private key without its certificate" in run.err
    assert not (tmp_path / "tls").exists()


def test_a_member_missing_from_a_map_of_empty_entries_is_skipped_like_an_empty_output(cli, tmp_path):
    ca = make_cert("etcd-ca", ca=True)
    document = _map_outputs(
        etcd_certs_etcd_ca_crt_pem=ca.cert_pem,
        etcd_certs_etcd_member_server_crt_pem={"etcd-0": ""},  # external etcd: the module fills none
        etcd_certs_etcd_member_server_key_pem={"etcd-0": ""},
    )
    run = cli("write-assets", str(tmp_path / "tls"), stdin=document)
    assert run.code == 0, run.err
    assert not (tmp_path / "tls" / "etcd").exists()


@pytest.mark.parametrize("link", ["kube", "kube/nodes", "kube/nodes/w1"])
def test_a_link_anywhere_on_the_way_to_a_node_directory_is_refused_before_anything_is_written(
    cli, tmp_path, outputs, link
):
    target, elsewhere = tmp_path / "tls", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (target / link).parent.mkdir(parents=True, exist_ok=True)
    (target / link).symlink_to(elsewhere, target_is_directory=True)
    run = cli("write-assets", str(target), stdin=json.dumps(as_terraform_outputs(outputs)))
    assert run.code == 1 and "TFEXT-E065" in run.err and link in run.err
    assert list(elsewhere.iterdir()) == [], "nothing is written through the link"
    assert not (target / "ca.crt").exists(), "nothing at all is written"


SERVING = {"w1": {"ip_addresses": ["10.0.1.1"]}}
QUERIES = {  # what shapes the certificates, the same for the generating and the user-provided program
    "kube": {
        "kube_apiserver_url": "https://api.example.com",
        "nodes": json.dumps(list(NODES)),
        "kubelet_serving": json.dumps(SERVING),
    },
    "etcd": {"members": json.dumps({m: {"ip_addresses": [f"10.0.0.{i}"]} for i, m in enumerate(MEMBERS)})},
}
# The files the user-provided modules read (their main.tf), slot => path under one write-assets DIR
# without .crt/.key: node_certs_dir = DIR/kube/nodes, member_certs_dir = DIR/etcd/members.
USER_PROVIDED_FILES = {
    "kube": {
        "apiserver": "apiserver",
        "kubelet": "kubelet",
        "apiserver_kubelet_client": "apiserver-kubelet-client",
        "admin": "admin",
        **{f"kubelet:{n}": f"kube/nodes/{n}/kubelet-client" for n in NODES},
        **{f"serving:{n}": f"kube/nodes/{n}/kubelet-serving" for n in SERVING},
    },
    "etcd": {
        "server": "etcd/server",
        "peer": "etcd/peer",
        "client": "etcd-client",
        **{f"{role}:{m}": f"etcd/members/{m}/{role}" for m in MEMBERS for role in ("server", "peer")},
    },
}
CA_FILES = {"kube": "ca.crt", "etcd": "etcd-client-ca.crt"}


@pytest.fixture(scope="module")
def issued() -> dict[str, dict[str, str]]:
    """kube and etcd issued by their programs with nodes and members: what the modules' outputs hold."""
    t = "2030-01-01T00:00:00Z"
    out = Secret()
    for kind, inputs in QUERIES.items():
        query = {**inputs, "plan_time": t, "key_algorithm": "ECDSA-P256"}
        for slot in MODULES[kind].slots_for(certificate_inputs(query, MODULES[kind].service_hosts)):
            query[f"{slot.name}_issued_at"] = t
        out[kind] = engine.run(MODULES[kind], query)
    return out


def test_the_directory_written_is_what_the_user_provided_flavors_read(cli, tmp_path, issued):
    """write-assets of the generating programs' certificates (as module outputs), then the user-provided
    programs on that directory, with the paths their modules build: every file passes, unchanged."""
    objects = {}
    for kind, result in issued.items():
        slots = {k.removesuffix("_cert_pem") for k in result if k.endswith("_cert_pem")}
        texts = {
            f"{kind}/{slot}": SimpleNamespace(
                cert_pem=result[f"{slot}_cert_pem"], key_pem=result[f"{slot}_key_pem"]
            )
            for slot in slots
        }
        objects[kind] = {"value": module_object(kind, texts), "sensitive": True}
    tls = tmp_path / "tls"
    run = cli("write-assets", str(tls), stdin=json.dumps(objects))
    assert run.code == 0, run.err
    for kind, files in USER_PROVIDED_FILES.items():
        query = {**QUERIES[kind], "ca_cert_path": str(tls / CA_FILES[kind])}
        for slot, stem in files.items():
            query |= {
                f"{slot}_cert_path": str(tls / f"{stem}.crt"),
                f"{slot}_key_path": str(tls / f"{stem}.key"),
            }
        checked = engine.run(MODULES[kind], query)
        assert json.loads(checked["warnings"]) == []
        for slot in files:
            assert checked[f"{slot}_cert_pem"] == issued[kind][f"{slot}_cert_pem"], slot


# --- pairs that do not belong together, and a CA that would replace the deployed one (issue 19) --------


def _kube_outputs(ca, leaf, key_of_leaf=None) -> str:
    """`terraform output -json` of a kube module's flat outputs: the CA and its key, the apiserver pair
    (its key replaced by `key_of_leaf` when given)."""
    values = {
        "kube_certs_ca_cert_pem": ca.cert_pem,
        "kube_certs_ca_key_pem": ca.key_pem,
        "kube_certs_apiserver_cert_pem": leaf.cert_pem,
        "kube_certs_apiserver_key_pem": leaf.key_pem if key_of_leaf is None else key_of_leaf,
    }
    return json.dumps({k: {"value": v, "type": "string", "sensitive": "key" in k} for k, v in values.items()})


@pytest.fixture(scope="module")
def kube():
    ca = make_cert("kube-ca", ca=True)
    return Secret(
        ca=ca,
        apiserver=make_cert("kube-apiserver", ca),
        other=make_cert("kube-apiserver", ca),
        new_ca=make_cert("kube-ca", ca=True),
    )


def test_a_key_of_another_certificate_is_refused_naming_the_file(cli, tmp_path, kube):
    document = _kube_outputs(kube["ca"], kube["apiserver"], key_of_leaf=kube["other"].key_pem)
    run = cli("write-assets", str(tmp_path / "tls"), stdin=document)
    assert run.code == 2 and not (tmp_path / "tls").exists()
    assert run.err == (
        "tfext write-assets: TFEXT-E030 kube/apiserver: apiserver.key: the private key does not belong to "
        "the certificate (apiserver.crt); `terraform state pull | tfext heal` names it and prints the "
        "command that issues it again; nothing was written\n"
    )
    assert not any(line in run.err for line in key_body_lines(kube["other"].key_pem))


@pytest.mark.parametrize("key", ["", None])
def test_a_certificate_without_its_key_is_refused(cli, tmp_path, kube, key):
    values = json.loads(_kube_outputs(kube["ca"], kube["apiserver"], key_of_leaf=key or ""))
    if key is None:  # no key output at all: apiserver.crt would land beside an older apiserver.key
        del values["kube_certs_apiserver_key_pem"]
    run = cli("write-assets", str(tmp_path / "tls"), stdin=json.dumps(values))
    assert run.code == 2 and not (tmp_path / "tls").exists()
    assert "TFEXT-E068 kube/apiserver: apiserver.crt would be written without apiserver.key" in run.err
    assert ("tfext heal" in run.err) is (key == "")  # an empty key output is a key lost


def test_a_ca_given_without_its_key_is_written_alone(cli, tmp_path, kube):
    """kube/user-provided without ca_key_pem_path: `ca_key_pem` is "", and that is no loss."""
    values = json.loads(_kube_outputs(kube["ca"], kube["apiserver"]))
    values["kube_certs_ca_key_pem"]["value"] = ""
    run = cli("write-assets", str(tmp_path / "tls"), stdin=json.dumps(values))
    assert run.code == 0, run.err
    assert sorted(files_written(tmp_path / "tls")) == ["apiserver.crt", "apiserver.key", "ca.crt"]


def _fingerprint(pair) -> str:
    digest = pair.fingerprint
    return " ".join(digest[i : i + 16] for i in range(0, 64, 16))


def test_a_different_ca_in_the_target_is_not_replaced_without_replace_ca(cli, tmp_path, kube):
    target = tmp_path / "tls"
    first = cli("write-assets", str(target), stdin=_kube_outputs(kube["ca"], kube["apiserver"]))
    assert first.code == 0, first.err
    deployed = files_written(target)
    # a new CA, as an apply on an emptied state issues one (same subject, another key)
    leaf = make_cert("kube-apiserver", kube["new_ca"])
    run = cli("write-assets", str(target), stdin=_kube_outputs(kube["new_ca"], leaf))
    assert run.code == 2 and files_written(target) == deployed, "nothing was written"
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"tfext write-assets: TFEXT-E067 {target / 'ca.crt'}: ")
    assert f"holds the CA kube-ca (SHA-256 {_fingerprint(kube['ca'])})" in run.err
    assert f"the input's is another CA, kube-ca (SHA-256 {_fingerprint(kube['new_ca'])})" in run.err
    assert "restore the state from its backup" in run.err and "--replace-ca" in run.err
    replaced = cli("write-assets", "--replace-ca", str(target), stdin=_kube_outputs(kube["new_ca"], leaf))
    assert replaced.code == 0, replaced.err
    assert (target / "ca.crt").read_text() == kube["new_ca"].cert_pem


def test_a_rotation_bundle_holding_the_deployed_ca_is_no_replacement(cli, tmp_path, kube):
    """trust writes [deployed, incoming], reissue [incoming, deployed], finish the incoming CA alone: each
    holds a CA the directory holds, so none is refused; skipping from the first CA to finish is."""
    target = tmp_path / "tls"
    old, new = kube["ca"], kube["new_ca"]
    steps = [
        (old, kube["apiserver"]),
        (SimpleNamespace(cert_pem=old.cert_pem + new.cert_pem, key_pem=old.key_pem), kube["apiserver"]),
        (
            SimpleNamespace(cert_pem=new.cert_pem + old.cert_pem, key_pem=new.key_pem),
            leaf := make_cert("a", new),
        ),
        (new, leaf),
    ]
    for ca, apiserver in steps:
        run = cli("write-assets", str(target), stdin=_kube_outputs(ca, apiserver))
        assert run.code == 0, run.err
    skipped = tmp_path / "skipped"
    assert cli("write-assets", str(skipped), stdin=_kube_outputs(*steps[0])).code == 0
    run = cli("write-assets", str(skipped), stdin=_kube_outputs(*steps[3]))
    assert run.code == 2 and "TFEXT-E067" in run.err


def test_a_ca_file_that_holds_no_certificate_is_replaced(cli, tmp_path, kube):
    target = tmp_path / "tls"
    target.mkdir()
    (target / "ca.crt").write_text("not a certificate\n")
    run = cli("write-assets", str(target), stdin=_kube_outputs(kube["ca"], kube["apiserver"]))
    assert run.code == 0, run.err
