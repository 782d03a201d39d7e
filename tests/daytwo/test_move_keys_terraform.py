"""`tfext move-keys` and write-assets from a key directory, with real Terraform (issue 21, deliver 1 and 4).

- The tectonic example applied in state mode: `move-keys` first refuses while its root outputs hold keys
  (E077); with those outputs removed and applied, the commands of docs/day-two.md move every key into
  `keys/`, the plan after `key_dir` is set exits 0 and runs no program, every serial is the same, and
  `terraform state pull` holds no key header and no key line; `write-assets --key-dir` writes the keys the
  state held; and back, `--to-state` restores every key in its record, the plan is quiet again.
- The same on a state written by the modules of the release before key directories (5cd1bf3: markers of
  bare timestamps, certificates in `captured`, keys in `sealed`), upgraded to these modules first.
- terraform/examples/key-dir, with members and nodes: `terraform output -json | tfext write-assets`
  writes the files the tectonic example writes, each member's and node's too, every key 0600 and the one
  in its key file; run from another directory, it names the missing file (E074) and writes nothing.

Every command's output is scanned for each key's header and body lines: none may appear (the state
`--to-state` prints goes straight into `terraform state push`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from harness import TECTONIC_CERTS, Terraform, copy_example, modules_source
from test_state_layer import RELEASE_0_4, faulty_terraform, release_0_1_modules

from tfext.tools import state as states

from ._helpers import DAY_TWO, Secret, files_written, key_body_lines

pytestmark = pytest.mark.terraform

KEY_HEADER = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
MODULES = ("kube_certs", "etcd_certs", "identity_certs", "ingress_certs")


def doc_commands(tag: str) -> str:
    """The shell block under `<!-- tag -->` in docs/day-two.md (in a list item too), as written."""
    found = re.search(rf"<!-- {tag} -->\n[ ]*```sh\n(.*?)\n[ ]*```", DAY_TWO.read_text(), re.S)
    assert found, f"docs/day-two.md lost its <!-- {tag} --> block"
    return textwrap.dedent(found.group(1)) + "\n"


class Workspace:
    """A root module applied with real Terraform, the key lines it ever held, and a scan of every output."""

    def __init__(self, tf: Terraform) -> None:
        self.tf = tf
        self.lines: set[str] = set()

    def __repr__(self) -> str:
        return f"<workspace {self.tf.workdir.name}, keys not shown>"

    @property
    def keys(self) -> Path:
        return self.tf.workdir / "keys"

    def clean(self, where: str, text: str) -> None:
        found = len(KEY_HEADER.findall(text)) + sum(line in text for line in self.lines)
        assert found == 0, f"{where}: {found} private-key lines"  # a count: never the lines themselves

    def pull(self) -> str:
        return self.tf.run("state", "pull").stdout

    def learn(self) -> Secret:
        """Every key the state holds now (by record address), learnt for the scans."""
        records = states.records(json.loads(self.pull()))
        held = Secret({r.where: r.key_pem for r in records if r.key_pem})
        self.learn_lines(held.values(), "".join(r.cert_pem for r in records))
        return held

    def learn_lines(self, keys, certificates: str) -> None:
        """The body lines of `keys` to scan for, but those a certificate holds too: an RSA key's lines that
        encode its modulus can be, byte for byte, lines of its certificate (public, and in every output)."""
        for key in keys:
            self.lines |= {line for line in key_body_lines(key) if line not in certificates}

    def sh(self, where: str, script: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", script],
            cwd=self.tf.workdir,
            env=self.tf.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.clean(where, proc.stdout + proc.stderr)
        if check:
            assert proc.returncode == 0, f"{where}:\n{proc.stderr[-3000:]}"
        return proc

    def runs(self) -> list[str]:
        log = self.tf.workdir / "runs"
        return log.read_text().split() if log.exists() else []

    def quiet_plan(self, where: str) -> None:
        done = len(self.runs())
        plan = self.tf.plan()
        self.clean(where, plan.output)
        assert plan.returncode == 0, f"{where}: not quiet:\n{plan.output[-3000:]}"
        assert self.runs()[done:] == [], f"{where}: the quiet plan ran a program"

    def serials(self) -> dict[str, str]:
        out = self.tf.outputs()["certificates"]
        return {f"{m}.{n}": c["serial"] for m, certs in out.items() for n, c in certs.items()}


def drop_key_outputs(work: Path) -> None:
    """The tectonic example's outputs without its `*_key_pem` ones: a root output is kept in state."""
    outputs = work / "outputs.tf"
    blocks = re.split(r"(?=^output \")", outputs.read_text(), flags=re.M)
    outputs.write_text("".join(b for b in blocks if not re.match(r'output "[^"]*key_pem"', b)))


def set_key_dir(work: Path, on: bool) -> None:
    """docs/day-two.md's step 3: `key_dir = "keys"` on every generating module, identity and ingress
    signing with the kube CA's key file; or, with `on` false, the root module as it was."""
    main = work / "main.tf"
    if re.search(r"key_dir +\= var\.key_dir", main.read_text()):  # the tectonic example: its variable
        tfvars = work / "terraform.tfvars"
        tfvars.write_text('key_dir = "keys"\n') if on else tfvars.unlink(missing_ok=True)
        return
    text = re.sub(
        r'\n  key_dir = "keys"\n(  ca_key_path = module.kube_certs.ca_key_path\n)?', "\n", main.read_text()
    )
    if on:
        for module in MODULES:
            extra = "  ca_key_path = module.kube_certs.ca_key_path\n" if module in MODULES[2:] else ""
            text = text.replace(
                f'module "{module}" {{\n', f'module "{module}" {{\n  key_dir = "keys"\n{extra}', 1
            )
    main.write_text(text)
    assert text.count('key_dir = "keys"') == (4 if on else 0)


def moved_and_back(ws: Workspace, held: Secret, legacy: bool) -> None:
    """docs/day-two.md's move, on an applied workspace whose root outputs hold no key, and back."""
    work = ws.tf.workdir
    before = ws.serials()
    ws.sh("move-keys --to-dir", doc_commands("move-keys-to-dir"))
    files = sorted(ws.keys.rglob("*.key"))
    assert len(files) == len(TECTONIC_CERTS) == len(held)
    assert {f.stat().st_mode & 0o777 for f in files} == {0o600}
    assert {f.read_text() for f in files} == set(held.values())  # each key, as the state held it
    set_key_dir(work, on=True)
    ws.quiet_plan("plan after the move")
    assert ws.serials() == before
    pulled = ws.pull()
    ws.clean("state pull after the move", pulled)
    records = states.records(json.loads(pulled))
    assert all(r.key_file and r.key_sha256 and not r.key_pem for r in records if r.cert_pem)
    if legacy:  # the certificates of the old release stay in their seals, read from the key files now
        assert {r.layout for r in records if r.cert_pem} == {states.SEALED}
    assert not [line for line in pulled.splitlines() if '"external"' in line]
    ws.clean("show", ws.tf.run("show", "-no-color").output)

    written = ws.sh("write-assets --key-dir", doc_commands("write-assets-key-dir-state"))
    assert written.stdout.count("600  generated/tls/") == 11  # every key of the layout (etcd's CA has none)
    keys_written = {p.read_text() for p in (work / "generated" / "tls").rglob("*.key")}
    assert keys_written <= set(held.values()) and len(keys_written) == 11
    heal = ws.sh("heal --key-dir", "terraform state pull | tfext heal --key-dir keys")
    assert heal.stdout.startswith("# every certificate is sealed") and heal.stderr == ""

    ws.sh("move-keys --to-state", doc_commands("move-keys-to-state"))
    set_key_dir(work, on=False)
    ws.quiet_plan("plan after the way back")
    assert ws.serials() == before
    back = Secret({r.where: r.key_pem for r in states.records(json.loads(ws.pull())) if r.key_pem})
    assert back == held, "the keys back in state are not the keys it held (not shown)"


def test_move_keys_on_the_tectonic_example_applied_in_state_mode(tf_config, tmp_path):
    work = copy_example("tectonic", tmp_path / "tectonic")
    ws = Workspace(faulty_terraform(tf_config, work))  # no fault: it only logs each program run
    ws.tf.init()
    ws.tf.apply()
    held = ws.learn()
    assert len(held) == len(TECTONIC_CERTS)
    serial = json.loads(ws.pull())["serial"]

    # The example's root outputs hold every key: nothing moves, nothing is written, the state is as it was.
    refused = ws.sh("move-keys refused", doc_commands("move-keys-to-dir"), check=False)
    assert refused.returncode != 0 and "TFEXT-E077 outputs: the root outputs " in refused.stderr
    assert "kube_certs_ca_key_pem" in refused.stderr and "remove them from the root module" in refused.stderr
    assert ws.keys.is_dir() and list(ws.keys.iterdir()) == []
    assert json.loads(ws.pull())["serial"] == serial

    drop_key_outputs(work)
    applied = ws.tf.apply()
    assert "Resources: 0 added, 0 changed, 0 destroyed." in applied.output
    ws.clean("apply dropping the key outputs", applied.output)
    moved_and_back(ws, held, legacy=False)


def test_move_keys_on_a_state_of_the_release_before_key_directories(tf_config, tmp_path):
    old = release_0_1_modules(tmp_path / "release", RELEASE_0_4)
    work = tmp_path / "work"
    shutil.copytree(old / "examples" / "tectonic", work)
    work.chmod(0o755)  # as git archive made it, 0775: a key directory's parent must not be group-writable
    for tf_file in work.glob("*.tf"):  # that release's example, calling that release's modules
        tf_file.write_text(
            tf_file.read_text().replace('"../../modules/', f'"{modules_source(work, old / "modules")}/')
        )
    ws = Workspace(faulty_terraform(tf_config, work))
    ws.tf.init()
    ws.tf.apply()
    held = ws.learn()
    assert {r.layout for r in states.records(json.loads(ws.pull()))} == {states.SEALED}
    before = ws.serials()

    for tf_file in work.glob("*.tf"):  # the same root module on these modules, without key outputs
        tf_file.unlink()
    copy_example("tectonic", work)
    drop_key_outputs(work)
    ws.tf.init()
    upgrade = ws.tf.apply()
    ws.clean("upgrade apply", upgrade.output)
    # the CA rotation's marks (3 per CA-owning module) and kube's node_layout (issue 22), nothing else: no
    # certificate is issued again
    assert "Plan: 7 to add, 0 to change, 0 to destroy." in upgrade.output, upgrade.output[-3000:]
    assert ws.serials() == before and ws.learn() == held
    moved_and_back(ws, held, legacy=True)


def with_members_and_nodes(work: Path) -> None:
    main = work / "main.tf"
    text = main.read_text()
    text = text.replace(
        'module "kube_certs" {\n',
        'module "kube_certs" {\n  nodes           = ["w1", "w2"]\n'
        '  kubelet_serving = { w1 = { ip_addresses = ["10.0.1.1"] } }\n',
        1,
    )
    text = text.replace(
        'module "etcd_certs" {\n',
        'module "etcd_certs" {\n  members = { "etcd-0" = { ip_addresses = ["10.0.0.10"] } }\n',
        1,
    )
    main.write_text(text)


def test_write_assets_from_the_key_dir_example_writes_the_tectonic_layout_with_every_key(tf_config, tmp_path):
    tectonic = Terraform(copy_example("tectonic", tmp_path / "tectonic"), tf_config)
    tectonic.init()
    tectonic.apply()
    subprocess.run(
        ["bash", "-o", "pipefail", "-c", "terraform output -json | tfext write-assets generated/tls"],
        cwd=tectonic.workdir,
        env=tectonic.env,
        check=True,
        capture_output=True,
    )
    tectonic_files = files_written(tectonic.workdir / "generated" / "tls")

    work = copy_example("key-dir", tmp_path / "key-dir")
    with_members_and_nodes(work)
    (work / "keys").mkdir(mode=0o700)
    ws = Workspace(Terraform(work, tf_config))
    ws.tf.init()
    ws.tf.apply()
    outputs = ws.tf.run("output", "-json").stdout
    public = "".join(
        re.findall(
            r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", outputs.replace("\\n", "\n"), re.S
        )
    )
    ws.learn_lines((path.read_text() for path in ws.keys.rglob("*.key")), public)
    assert len(ws.lines) > 200  # the scan looks for something
    ws.clean("output -json", outputs)

    written = ws.sh("write-assets from key_files", doc_commands("write-assets-key-dir"))
    tls = work / "generated" / "tls"
    files = files_written(tls)
    nodes = {
        "etcd/members/etcd-0/server.crt": 0o644,
        "etcd/members/etcd-0/server.key": 0o600,
        "etcd/members/etcd-0/peer.crt": 0o644,
        "etcd/members/etcd-0/peer.key": 0o600,
        "kube/nodes/w1/kubelet-client.crt": 0o644,
        "kube/nodes/w1/kubelet-client.key": 0o600,
        "kube/nodes/w1/kubelet-serving.crt": 0o644,
        "kube/nodes/w1/kubelet-serving.key": 0o600,
        "kube/nodes/w2/kubelet-client.crt": 0o644,
        "kube/nodes/w2/kubelet-client.key": 0o600,
    }
    assert {name: mode for name, (_, mode) in files.items()} == {
        **{name: mode for name, (_, mode) in tectonic_files.items()},
        **nodes,
    }
    assert written.stdout.count("\n") == len(files)
    # each key is the one in the file the module's key_files output names
    values = {name: item["value"] for name, item in json.loads(outputs).items()}
    key_files = values["kube_certs"]["key_files"]
    assert (tls / "ca.key").read_text() == (work / key_files["ca"]).read_text()
    assert (tls / "kube/nodes/w2/kubelet-client.key").read_text() == (
        work / key_files["kubelet:w2"]
    ).read_text()
    member = values["etcd_certs"]["key_files"]["peer:etcd-0"]
    assert (tls / "etcd/members/etcd-0/peer.key").read_text() == (work / member).read_text()

    # The state's own outputs name the files too: `terraform state pull` needs no --key-dir here.
    again = ws.sh("write-assets from the state", "terraform state pull | tfext write-assets from-state")
    assert again.returncode == 0 and files_written(work / "from-state") == files

    # Run elsewhere, the relative paths lead nowhere: the file is named, nothing written, no key shown.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.run(
        [str(Path(shutil.which("tfext", path=ws.tf.env["PATH"]))), "write-assets", "tls"],
        input=outputs,
        cwd=elsewhere,
        env=ws.tf.env,
        capture_output=True,
        text=True,
    )
    ws.clean("write-assets elsewhere", proc.stdout + proc.stderr)
    assert proc.returncode == 2 and not (elsewhere / "tls").exists()
    assert "TFEXT-E074 kube/apiserver (keys/kube/apiserver." in proc.stderr
    assert "a relative path is read from the directory tfext runs in" in proc.stderr
