"""`tfext move-keys` and the tools reading a key directory (issue 21), on states shaped as the issuing stages
write them (no Terraform here; tests/daytwo/test_move_keys_terraform.py does it on real states).

- `--to-dir DIR` writes each key a record holds (`kept`, `healed`, `sealed`) to `<kind>/<slot>.<serial>.key`
  (0600), leaves its name and hash in the record, drops the tfext modules' data sources, bumps the serial;
  `--to-state --key-dir DIR` is the exact reverse. Nothing is printed or left behind when anything would be
  lost: a tfext 0.1 capture holding a key (E052), a key that is not its certificate's (E030), root outputs
  holding keys (E077), a key anywhere else (E078), a key directory that is missing or open (E073), a key file
  missing or changed (E074).
- write-assets, inspect and heal read a key-directory state with `--key-dir`, say once that the keys are in a
  key directory without it (E076), and read keys from a `key_files` output (module objects or flat
  outputs), a missing file named (E074) and never a key.

No key reaches stdout or stderr (but the state `--to-state` prints, which is what it is for, never shown).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from pathlib import Path

import pytest

from tfext.keydir import key_file_name
from tfext.tools import state as states

from ._helpers import (
    Secret,
    capture_resource,
    files_written,
    kept_stage,
    key_body_lines,
    make_cert,
    marker_resource,
    seal_resource,
    state,
    tfext,
)

CA = 'module.kube_certs.module.ca["0"]'
CERTS = "module.kube_certs.module.certs"
NODE = 'module.kube_certs.module.node["w1"]'
NOTHING = "# every certificate is sealed; nothing to heal (a plain `terraform apply` finishes the rest)\n"


@pytest.fixture(scope="module")
def pki() -> Secret:
    ca = make_cert("kube-ca", ca=True, days=3650)
    return Secret(
        ca=ca,
        apiserver=make_cert("kube-apiserver", ca, sans=("kubernetes",)),
        kubelet=make_cert("kubelet", ca, server=False),
        admin=make_cert("kubernetes-admin", ca, server=False),
        node=make_cert("system:node:w1", ca, server=False),
    )


def issue_data_source(module: str, program: str, result: dict) -> dict:
    """`data.external.issue` of an issuing stage right after an apply that issued: its result holds keys."""
    return {
        "module": module,
        "mode": "data",
        "type": "external",
        "name": "issue",
        "provider": 'provider["registry.terraform.io/hashicorp/external"]',
        "instances": [
            {
                "index_key": 0,
                "schema_version": 0,
                "attributes": {"id": "-", "program": ["tfext", program], "query": {}, "result": result},
            }
        ],
    }


def every_layout(pki) -> dict:
    """A kube module keeping keys in every layout that holds one: a CA sealed by tfext 0.2-0.4, leaves in
    `kept` (one healed), a node's stage of its own; and the data source of the apply that issued them."""
    return state(
        marker_resource(CA, ["ca"], legacy=True),
        seal_resource(CA, "kube", {"ca": pki["ca"]}),
        *kept_stage(
            CERTS,
            "kube",
            {"apiserver": pki["apiserver"], "kubelet": pki["kubelet"], "admin": pki["admin"]},
            healed=("kubelet",),
        ),
        *kept_stage(NODE, "kube", {"kubelet:w1": pki["node"]}),
        issue_data_source(CERTS, "kube-self-signed", {"apiserver_key_pem": pki["apiserver"].key_pem}),
    )


def key_lines(pki) -> set[str]:
    return {line for pair in pki.values() for line in key_body_lines(pair.key_pem)}


def assert_no_key(text: str, pki) -> None:
    assert "PRIVATE KEY" not in text
    assert sum(line in text for line in key_lines(pki)) == 0  # a count: never the lines themselves


@pytest.fixture
def keys(tmp_path) -> Path:
    directory = tmp_path / "keys"
    directory.mkdir(mode=0o700)
    return directory


def move(*args: str, document: dict, pki, cwd: Path | None = None, secret_out: bool = False):
    proc = tfext("move-keys", *args, stdin=json.dumps(document), cwd=cwd)
    assert_no_key(proc.stderr, pki)
    if not secret_out:
        assert_no_key(proc.stdout, pki)
    return proc


def key_files(directory: Path) -> dict[str, tuple[str, int]]:
    return {name: value for name, value in files_written(directory).items() if name.endswith(".key")}


def expected_name(kind: str, slot: str, pair) -> str:
    return key_file_name(kind, slot, pair.cert.serial_number)


# --- move-keys --to-dir, and back ------------------------------------------------------------------------


def test_to_dir_moves_every_key_and_to_state_puts_each_back_as_it_was(pki, keys, tmp_path):
    before = every_layout(pki)
    proc = move("--to-dir", str(keys), document=before, pki=pki)
    assert proc.returncode == 0, proc.stderr
    moved = json.loads(proc.stdout)
    assert "moved 5 keys" in proc.stderr and "5 files written" in proc.stderr
    assert "dropped 1 data sources" in proc.stderr and 'key_dir = "' in proc.stderr
    assert moved["serial"] == before["serial"] + 1 and moved["lineage"] == before["lineage"]
    assert not [r for r in moved["resources"] if r["mode"] == "data"]
    # each key in its own file, named as the program names a key it writes, 0600, its text unchanged
    wanted = {
        expected_name("kube", "ca", pki["ca"]): pki["ca"],
        expected_name("kube", "apiserver", pki["apiserver"]): pki["apiserver"],
        expected_name("kube", "kubelet", pki["kubelet"]): pki["kubelet"],
        expected_name("kube", "admin", pki["admin"]): pki["admin"],
        expected_name("kube", "kubelet:w1", pki["node"]): pki["node"],
    }
    found = key_files(keys)
    assert sorted(found) == sorted(wanted) and {mode for _, mode in found.values()} == {0o600}
    assert all((keys / name).read_text() == pair.key_pem for name, pair in wanted.items())
    assert os.stat(keys).st_mode & 0o777 == 0o700 and (keys / ".tfext-key-dir").is_file()
    # the records name their file and its hash, as a module with key_dir records a key it generated
    by_slot = {r.slot: r for r in states.records(moved)}
    for slot, pair in (("ca", pki["ca"]), ("kubelet", pki["kubelet"]), ("kubelet:w1", pki["node"])):
        record = by_slot[slot]
        assert record.key_pem == "" and record.key_file == expected_name("kube", slot, pair)
        assert record.key_sha256 == hashlib.sha256(pair.key_pem.encode()).hexdigest()
    assert by_slot["kubelet"].layout == states.HEALED and by_slot["ca"].layout == states.SEALED

    back = move("--to-state", "--key-dir", str(keys), document=moved, pki=pki, secret_out=True)
    assert back.returncode == 0, back.stderr
    assert "moved 5 keys into the state" in back.stderr
    restored = json.loads(back.stdout)
    assert restored["serial"] == before["serial"] + 2
    expected = copy.deepcopy(before)
    expected["resources"] = [r for r in expected["resources"] if r["mode"] != "data"]
    expected["serial"] = restored["serial"]
    for resource in expected["resources"]:  # kept and healed name no file now; a seal is as it was
        if resource["name"] in ("kept", "healed"):
            for instance in resource["instances"]:
                held = instance["attributes"]["triggers_replace"]["value"]
                if held["key_pem"]:  # not the empty `kept` of the healed slot: nothing moved there
                    held.update(key_file="", key_sha256="")
        if (
            resource["name"] == "sealed"
        ):  # its key marked sensitive, as Terraform marks it (the helper does not)
            resource["instances"][0]["sensitive_attributes"].append(
                [
                    {"type": "get_attr", "value": "triggers_replace"},
                    {"type": "index", "value": {"value": "key", "type": "string"}},
                ]
            )
    assert restored == expected, "the state after the round trip differs (keys not shown)"


def test_moving_again_keeps_the_files_already_there(pki, keys):
    first = move("--to-dir", str(keys), document=every_layout(pki), pki=pki)
    back = move(
        "--to-state", "--key-dir", str(keys), document=json.loads(first.stdout), pki=pki, secret_out=True
    )
    again = move("--to-dir", str(keys), document=json.loads(back.stdout), pki=pki)
    assert again.returncode == 0, again.stderr
    assert "moved 5 keys" in again.stderr and "(0 files written)" in again.stderr
    files = [(r.slot, r.key_file, r.key_sha256, r.key_pem) for r in states.records(json.loads(again.stdout))]
    assert files == [
        (r.slot, r.key_file, r.key_sha256, r.key_pem) for r in states.records(json.loads(first.stdout))
    ]


def test_a_relative_key_directory_is_the_one_under_the_directory_tfext_runs_in(pki, keys, tmp_path):
    proc = move("--to-dir", "keys", document=every_layout(pki), pki=pki, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(key_files(keys)) == 5 and 'key_dir = "keys"' in proc.stderr


def refusal_cases(pki) -> dict[str, tuple[dict, str]]:
    """name => (a state move-keys must refuse, the code and words that say why)."""
    legacy = state(
        marker_resource(CERTS, ["apiserver"], legacy=True),
        capture_resource(CERTS, {"apiserver": pki["apiserver"]}),
        seal_resource(CERTS, "kube", {"apiserver": pki["apiserver"]}),
    )
    mismatch = every_layout(pki)
    for resource in mismatch["resources"]:
        if resource["name"] == "kept" and resource["module"] == CERTS:
            resource["instances"][0]["attributes"]["triggers_replace"]["value"]["key_pem"] = pki[
                "admin"
            ].key_pem
    outputs = state(
        *kept_stage(CERTS, "kube", {"apiserver": pki["apiserver"]}),
        outputs={
            "kube_certs_apiserver_key_pem": {
                "value": pki["apiserver"].key_pem,
                "type": "string",
                "sensitive": True,
            },
            "kube": {
                "value": {"admin_key_pem": pki["admin"].key_pem},
                "type": ["object", {}],
                "sensitive": True,
            },
        },
    )
    foreign = every_layout(pki)
    foreign["resources"].append(
        {
            "mode": "managed",
            "type": "terraform_data",
            "name": "copy",
            "provider": 'provider["terraform.io/builtin/terraform"]',
            "instances": [
                {"schema_version": 0, "attributes": {"id": "x", "input": {"value": pki["ca"].key_pem}}}
            ],
        }
    )
    return Secret(
        legacy=(legacy, 'TFEXT-E052 module.kube_certs.module.certs.terraform_data.captured["apiserver"]'),
        mismatch=(mismatch, "TFEXT-E030 kube/apiserver (module.kube_certs.module.certs.terraform_data.kept"),
        outputs=(outputs, "TFEXT-E077 outputs: the root outputs kube, kube_certs_apiserver_key_pem hold"),
        foreign=(foreign, "TFEXT-E078 terraform_data.copy: holds a private key that is no tfext record's"),
    )


@pytest.mark.parametrize("case", ["legacy", "mismatch", "outputs", "foreign"])
def test_to_dir_refuses_while_a_key_would_be_lost_and_writes_nothing(pki, keys, case):
    document, says = refusal_cases(pki)[case]
    proc = move("--to-dir", str(keys), document=document, pki=pki)
    assert proc.returncode == 2 and proc.stdout == ""
    assert says in proc.stderr, proc.stderr
    assert list(keys.iterdir()) == []  # no key file, not even the directory's mark


def test_the_legacy_refusal_says_to_migrate_and_the_outputs_refusal_how_to_drop_them(pki, keys):
    cases = refusal_cases(pki)
    legacy = move("--to-dir", str(keys), document=cases["legacy"][0], pki=pki).stderr
    assert "`terraform apply`" in legacy and "tfext migrate-state" in legacy and "docs/upgrading.md" in legacy
    outputs = move("--to-dir", str(keys), document=cases["outputs"][0], pki=pki).stderr
    assert "remove them from the root module" in outputs and 'endswith(name, "key_pem")' in outputs


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: d / "absent", "TFEXT-E073 key_dir: "),
        (lambda d: d, "TFEXT-E073"),  # open to others (made 0755 below)
    ],
    ids=["missing", "open-to-others"],
)
def test_to_dir_refuses_a_key_directory_it_must_not_use(pki, tmp_path, make, says):
    directory = make(tmp_path / "keys")
    if directory.name == "keys":
        directory.mkdir(mode=0o755)
        directory.chmod(0o755)
    proc = move("--to-dir", str(directory), document=every_layout(pki), pki=pki)
    assert proc.returncode == 2 and proc.stdout == "" and says in proc.stderr, proc.stderr
    assert not list(tmp_path.rglob("*.key"))


def test_to_state_refuses_a_key_file_missing_changed_or_named_outside_the_directory(pki, keys):
    moved = json.loads(move("--to-dir", str(keys), document=every_layout(pki), pki=pki).stdout)
    apiserver = keys / expected_name("kube", "apiserver", pki["apiserver"])
    apiserver.write_text(pki["admin"].key_pem)  # changed: another key
    admin = keys / expected_name("kube", "admin", pki["admin"])
    admin.unlink()
    proc = move("--to-state", "--key-dir", str(keys), document=moved, pki=pki)
    assert proc.returncode == 2 and proc.stdout == ""
    shown = expected_name("kube", "apiserver", pki["apiserver"]).split(".")[1][:12]
    assert f"TFEXT-E074 kube/apiserver ({keys}/kube/apiserver.{shown}*.key)" in proc.stderr
    assert "its SHA-256 differs" in proc.stderr and "restore it from the backup" in proc.stderr
    assert "TFEXT-E074 kube/admin (" in proc.stderr and "the key file is missing" in proc.stderr
    escaping = copy.deepcopy(moved)
    for resource in escaping["resources"]:
        if resource["name"] == "kept" and resource["module"] == NODE:
            resource["instances"][0]["attributes"]["triggers_replace"]["value"]["key_file"] = (
                "../../etc/x.key"
            )
    proc = move("--to-state", "--key-dir", str(keys), document=escaping, pki=pki)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "TFEXT-E064" in proc.stderr and "not a file name of a key directory" in proc.stderr


def test_move_keys_usage_is_refused_without_a_direction_or_a_key_directory(pki):
    for args in ((), ("--to-state",), ("--to-dir", "k", "--to-state"), ("--to-dir", "k", "--key-dir", "k")):
        proc = move(*args, document=every_layout(pki), pki=pki)
        assert proc.returncode == 2 and proc.stdout == "", args
    proc = move("--to-dir", pki["ca"].key_pem, document=every_layout(pki), pki=pki)
    assert proc.returncode == 2 and "TFEXT-E028" in proc.stderr


# --- the tools reading a key-directory state -------------------------------------------------------------


@pytest.fixture
def moved(pki, keys) -> dict:
    proc = move("--to-dir", str(keys), document=every_layout(pki), pki=pki)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_write_assets_reads_a_key_directory_state_with_key_dir_and_says_where_the_keys_are_without(
    pki, keys, moved, tmp_path
):
    proc = tfext("write-assets", str(tmp_path / "tls"), stdin=json.dumps(moved))
    assert_no_key(proc.stdout + proc.stderr, pki)
    assert proc.returncode == 2 and not (tmp_path / "tls").exists()
    assert proc.stderr.count("TFEXT-E076") == 1, proc.stderr  # said once, for every key
    assert "the private keys of 5 certificates are in a key directory" in proc.stderr
    assert "Pass --key-dir DIR" in proc.stderr and "kube/ca (kube/ca." in proc.stderr

    proc = tfext("write-assets", "--key-dir", str(keys), str(tmp_path / "tls"), stdin=json.dumps(moved))
    assert proc.returncode == 0, proc.stderr
    assert_no_key(proc.stdout + proc.stderr, pki)
    written = files_written(tmp_path / "tls")
    assert written["ca.key"][1] == written["apiserver.key"][1] == 0o600
    assert (tmp_path / "tls" / "kube/nodes/w1/kubelet-client.key").read_text() == pki["node"].key_pem
    assert (tmp_path / "tls" / "kubelet.key").read_text() == pki["kubelet"].key_pem
    assert (tmp_path / "tls" / "ca.key").read_text() == pki["ca"].key_pem


def test_inspect_and_heal_read_a_key_directory_state(pki, keys, moved):
    proc = tfext("inspect", "-", stdin=json.dumps(moved))
    assert_no_key(proc.stdout + proc.stderr, pki)
    assert proc.returncode == 1 and proc.stderr.count("TFEXT-E076") == 1 and "TFEXT-E068" not in proc.stderr
    proc = tfext("inspect", "--key-dir", str(keys), "-", stdin=json.dumps(moved))
    assert_no_key(proc.stdout + proc.stderr, pki)
    assert proc.returncode == 0, proc.stderr
    assert "kube/kubelet:w1 key: private key (not shown)" in proc.stdout

    proc = tfext("heal", stdin=json.dumps(moved))
    assert proc.returncode == 0 and proc.stdout == NOTHING
    assert "TFEXT-E076 5 certificates keep their private key in a key directory" in proc.stderr
    proc = tfext("heal", "--key-dir", str(keys), stdin=json.dumps(moved))
    assert proc.returncode == 0 and proc.stdout == NOTHING and proc.stderr == ""

    (keys / expected_name("kube", "admin", pki["admin"])).unlink()
    (keys / expected_name("kube", "kubelet:w1", pki["node"])).write_text(pki["apiserver"].key_pem)
    proc = tfext("heal", "--key-dir", str(keys), stdin=json.dumps(moved))
    assert_no_key(proc.stdout + proc.stderr, pki)
    assert (
        'TFEXT-E074 kube/admin (module.kube_certs.module.certs.terraform_data.kept["admin"])' in proc.stderr
    )
    assert "TFEXT-E074 kube/kubelet:w1" in proc.stderr  # its hash is not the record's
    assert proc.stdout == (
        "terraform apply -replace='module.kube_certs.module.certs.terraform_data.issued[\"admin\"]' "
        '-replace=\'module.kube_certs.module.node["w1"].terraform_data.issued["kubelet:w1"]\'\n'
    )
    proc = tfext("write-assets", "--key-dir", str(keys), str(keys.parent / "tls"), stdin=json.dumps(moved))
    assert (
        proc.returncode == 2
        and "TFEXT-E074 kube/admin" in proc.stderr
        and "nothing was written" in proc.stderr
    )


def test_a_certificate_issued_for_a_csr_has_no_key_of_ours_and_is_no_loss(pki, tmp_path):
    document = state(*kept_stage(CERTS, "kube", {"apiserver": pki["apiserver"], "admin": pki["admin"]}))
    for resource in document["resources"]:
        if resource["name"] == "kept":
            held = resource["instances"][0]["attributes"]["triggers_replace"]["value"]
            held.update(
                key_pem="", csr="-----BEGIN CERTIFICATE REQUEST-----\nx\n-----END CERTIFICATE REQUEST-----\n"
            )
    proc = tfext("heal", stdin=json.dumps(document))
    assert proc.returncode == 0 and proc.stdout == NOTHING, proc.stderr
    proc = tfext("write-assets", str(tmp_path / "tls"), stdin=json.dumps(document))
    assert proc.returncode == 0, proc.stderr
    assert set(files_written(tmp_path / "tls")) == {"apiserver.crt", "admin.crt", "admin.key"}


# --- keys named by a module's key_files output ----------------------------------------------------------


def key_dir_outputs(pki, keys: Path, root: Path, flat: bool) -> dict:
    """`terraform output -json` of a root module that outputs no key, only each module's `key_files`
    (relative to `root`, as Terraform gives `${key_dir}/...` for a relative key_dir), per-node entries too."""
    files = {}
    for slot, pair in (("ca", pki["ca"]), ("apiserver", pki["apiserver"]), ("kubelet:w1", pki["node"])):
        path = keys / expected_name("kube", slot, pair)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.write_text(pair.key_pem)
        path.chmod(0o600)
        files[slot] = os.path.relpath(path, root)
    kube = {
        "ca_cert_pem": pki["ca"].cert_pem,
        "apiserver_cert_pem": pki["apiserver"].cert_pem,
        "node_kubelet_client_cert_pem": {"w1": pki["node"].cert_pem},
        "key_files": files,
        "ca_key_path": files["ca"],
    }
    if flat:
        return {f"kube_certs_{name}": {"value": value, "type": "string"} for name, value in kube.items()}
    return {"kube_certs": {"value": kube, "type": ["object", {}]}}


@pytest.mark.parametrize("flat", [False, True], ids=["module-object", "flat"])
def test_write_assets_takes_each_key_from_the_file_key_files_names(pki, keys, tmp_path, flat):
    outputs = json.dumps(key_dir_outputs(pki, keys, tmp_path, flat))
    assert "PRIVATE KEY" not in outputs
    proc = tfext("write-assets", "generated/tls", stdin=outputs, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_no_key(proc.stdout + proc.stderr, pki)
    tls = tmp_path / "generated" / "tls"
    written = files_written(tls)
    assert {name for name in written if name.endswith(".key")} == {
        "ca.key",
        "apiserver.key",
        "kube/nodes/w1/kubelet-client.key",
    }
    assert {mode for name, (_, mode) in written.items() if name.endswith(".key")} == {0o600}
    assert (tls / "kube/nodes/w1/kubelet-client.key").read_text() == pki["node"].key_pem
    assert (tls / "apiserver.key").read_text() == pki["apiserver"].key_pem
    proc = tfext("inspect", "-", stdin=outputs, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kube/apiserver key: private key (not shown)" in proc.stdout


def test_a_key_file_key_files_names_that_is_not_there_is_named_with_where_it_was_looked_for(
    pki, keys, tmp_path
):
    outputs = json.dumps(key_dir_outputs(pki, keys, tmp_path, flat=False))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = tfext("write-assets", "tls", stdin=outputs, cwd=elsewhere)
    assert_no_key(proc.stdout + proc.stderr, pki)
    assert proc.returncode == 2 and not (elsewhere / "tls").exists()
    serial = expected_name("kube", "apiserver", pki["apiserver"]).split(".")[1][:12]
    assert (
        f"TFEXT-E074 kube/apiserver (keys/kube/apiserver.{serial}*.key): the key file is missing"
        in proc.stderr
    )
    assert "a relative path is read from the directory tfext runs in" in proc.stderr
    assert "nothing was written" in proc.stderr

    (keys / expected_name("kube", "apiserver", pki["apiserver"])).write_text(pki["ca"].key_pem)
    proc = tfext("write-assets", "tls", stdin=outputs, cwd=tmp_path)
    assert_no_key(proc.stdout + proc.stderr, pki)
    assert proc.returncode == 2 and "TFEXT-E030 kube/apiserver" in proc.stderr
    assert "restore it from the backup of the key directory" in proc.stderr
