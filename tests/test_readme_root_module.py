"""The README's root module, followed verbatim by a new user from an empty directory outside the repo:
set-up lines, `main.tf`, first apply with the asset files, a quiet plan; then the README's kube swap, which
is `source` plus paths (the generating inputs left in place only warn), keeping every output."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from harness import REPO, Terraform, cert, require

pytestmark = pytest.mark.terraform

README = REPO / "README.md"


def block(tag: str) -> str:
    """The fenced block that follows `<!-- tag -->` in the README."""
    match = re.search(rf"<!-- {tag} -->\n```\w*\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no <!-- {tag} --> block"
    return match.group(1)


def bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """An empty directory beside a checkout of tfext, set up by the README's lines."""
    require("terraform")
    config = REPO / ".tfext" / "terraformrc"
    if not config.is_file():
        pytest.fail(
            "run through `make test`: it writes .tfext/terraformrc (make provider), which `tfext env` finds"
        )
    home = tmp_path_factory.mktemp("newuser")
    (home / "tfext").symlink_to(REPO)  # the README's `git clone ... && make -C tfext provider`, already done
    setup = block("setup")
    assert "git clone" in setup and "make -C tfext provider" in setup
    lines = [ln for ln in setup.splitlines() if not ln.startswith("git clone")]
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CLI_CONFIG_FILE", "VIRTUAL_ENV")}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # no tfext on PATH: the set-up lines must put it there
    env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
    # Run the set-up lines, then print the environment they leave, so later steps start from it.
    shown = bash("\n".join(lines) + "\nenv -0", home, env).stdout
    env = dict(item.split("=", 1) for item in shown.split("\0") if "=" in item)
    work = home / "mycluster"
    assert work.is_dir() and not any(work.iterdir()), "the set-up lines make an empty directory"
    (work / "main.tf").write_text(block("root-module"))
    return work, env


def test_the_readme_root_module_applies_from_an_empty_directory_and_stays_quiet(user):
    work, env = user
    script = block("first-apply").replace("terraform apply", "terraform apply -auto-approve")
    script = script.replace(
        "terraform plan -detailed-exitcode", "terraform plan -detailed-exitcode; echo QUIET=$?"
    )
    out = bash(script.replace("set -e", ""), work, env).stdout
    assert "QUIET=0" in out
    tls = work / "generated" / "tls"
    for name in ("ca.crt", "apiserver.crt", "etcd/server.crt", "identity-server.crt", "ingress.crt"):
        assert (tls / name).is_file(), name
    for name in ("ca.key", "apiserver.key", "etcd/peer.key", "ingress.key"):
        assert (tls / name).stat().st_mode & 0o777 == 0o600, name


def test_the_readme_kube_swap_is_source_plus_paths_and_keeps_every_output(user):
    work, env = user
    before = outputs(work, env)
    main = (work / "main.tf").read_text()
    swapped = re.sub(r'module "kube_certs" \{.*?\n\}\n', lambda _: block("swap-kube"), main, flags=re.S)
    assert swapped != main
    (work / "main.tf").write_text(swapped)
    init = terraform(work, env, "init", "-input=false", "-no-color")  # a new source, as the README says
    assert init.returncode == 0, init.stderr[-2000:]
    plan = terraform(work, env, "plan", "-detailed-exitcode", "-no-color")
    text = " ".join(plan.stdout.split())
    assert plan.returncode == 2, plan.stdout[-3000:] + plan.stderr[-2000:]
    assert "TFEXT-E054 kube/user-provided ignores key_algorithm" in text
    # The generated kube module's bookkeeping goes; nothing is created or re-issued anywhere.
    assert re.search(r"Plan: 0 to add, 0 to change, \d+ to destroy", text), text[-2000:]
    assert "module.kube_certs." in text and "PRIVATE KEY" not in plan.stdout
    applied = terraform(work, env, "apply", "-auto-approve", "-no-color")
    assert applied.returncode == 0 and "PRIVATE KEY" not in applied.stdout, applied.stderr[-2000:]
    # Every output but those saying where a key is kept (a user-provided key is a file): same keys, same
    # certificates. A bool first: a failing `==` would print the keys.
    same = without_key_places(outputs(work, env)) == without_key_places(before)
    assert same, "an output changed with the swap"
    assert terraform(work, env, "plan", "-detailed-exitcode", "-no-color").returncode == 0


KEY_PLACES = ("key_files", "ca_key_path")


def without_key_places(value):
    """Outputs without `key_files` and `ca_key_path` at any depth (module objects included)."""
    if isinstance(value, dict):
        return {k: without_key_places(v) for k, v in value.items() if k not in KEY_PLACES}
    return value


def terraform(work: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([require("terraform"), *args], cwd=work, env=env, capture_output=True, text=True)


def outputs(work: Path, env: dict) -> dict:
    raw = subprocess.run(
        [require("terraform"), "output", "-json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {name: item["value"] for name, item in json.loads(raw).items()}


def with_per_node_lines(root_module: str, per_node: str) -> str:
    """The README's root module with the lines its per-node block adds to each module ("... as above,
    plus:"), put at the end of that module's block."""
    added = re.findall(r'module "(\w+)" \{\n\s*# \.\.\. as above, plus:\n(.*?)^\}', per_node, re.S | re.M)
    assert [name for name, _ in added] == ["etcd_certs", "kube_certs"]
    for name, lines in added:
        head, sep, rest = root_module.partition(f'module "{name}" {{\n')
        body, end, tail = rest.partition("\n}\n")
        assert sep and end, name
        root_module = head + sep + body + "\n\n" + lines + "}\n" + tail
    return root_module


def test_the_readme_per_node_lines_give_each_member_and_node_its_own_identity(user):
    work, env = user
    pernode = work.parent / "pernode"
    pernode.mkdir()
    main = with_per_node_lines(block("root-module"), block("per-node"))
    code = [line for line in main.splitlines() if not line.strip().startswith("#")]
    assert sum("members" in ln for ln in code) == 1 and sum("kubelet_serving" in ln for ln in code) == 1
    (pernode / "main.tf").write_text(main)
    for args in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-no-color")):
        run = terraform(pernode, env, *args)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert "PRIVATE KEY" not in run.stdout + run.stderr
    out = outputs(pernode, env)
    assert sorted(out["etcd"]["etcd_member_peer_crt_pem"]) == ["etcd-0", "etcd-1", "etcd-2"]
    assert sorted(out["kube"]["node_kubelet_client_cert_pem"]) == ["master-0", "worker-0", "worker-1"]
    assert sorted(out["kube"]["node_kubelet_serving_cert_pem"]) == ["worker-0"]
    assert terraform(pernode, env, "plan", "-detailed-exitcode", "-no-color").returncode == 0


def day_two_block(tag: str) -> str:
    """The fenced block under `<!-- tag -->` in docs/day-two.md."""
    text = (REPO / "docs" / "day-two.md").read_text()
    match = re.search(rf"<!-- {tag} -->\n```sh\n(.*?)```", text, re.S)
    assert match, f"docs/day-two.md has no <!-- {tag} --> block"
    return match.group(1)


def certificates(work: Path, env: dict) -> dict:
    """`terraform output certificates` as the docs run it (`-json`, to read it): module => name => facts."""
    raw = terraform(work, env, "output", "-json", "certificates")
    assert raw.returncode == 0, raw.stderr[-2000:]
    return json.loads(raw.stdout)


def test_the_docs_commands_work_in_the_readme_root_module(user):
    """The commands the README and docs/day-two.md give, verbatim, in the README's root module: the
    certificates output, one certificate and one CA re-issued by -replace, and the three rotation phases
    (each followed by the refresh-only apply the README asks for), every plan after them quiet."""
    home, env = user
    work = home.parent / "docs-commands"  # a root module of its own: another test swaps a flavor in `user`
    work.mkdir()
    (work / "main.tf").write_text(block("root-module"))
    for args in (("init", "-input=false", "-no-color"), ("apply", "-auto-approve", "-no-color")):
        run = terraform(work, env, *args)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    text = terraform(work, env, "output", "-no-color", "certificates")
    assert text.returncode == 0 and "kube_certs" in text.stdout, text.stderr[-2000:]

    def serials() -> dict[str, str]:
        return {
            f"{m}.{n}": c["serial"] for m, certs in certificates(work, env).items() for n, c in certs.items()
        }

    before = serials()
    bash(day_two_block("rotate-one").replace("terraform apply", "terraform apply -auto-approve"), work, env)
    assert {k for k, v in serials().items() if before[k] != v} == {"etcd_certs.server"}
    before = serials()
    bash(day_two_block("rotate-ca").replace("terraform apply", "terraform apply -auto-approve"), work, env)
    changed = {k for k, v in serials().items() if before[k] != v}
    assert changed >= {
        "kube_certs.ca",
        "kube_certs.apiserver",
        "identity_certs.server",
        "ingress_certs.ingress",
    }
    assert not any(k.startswith("etcd_certs.") for k in changed)

    phases = [ln for ln in block("rotate-phases").splitlines() if ln.startswith("terraform apply")]
    assert len(phases) == 3
    for line in phases:
        command = line.split("   #", 1)[0].strip().replace("terraform apply", "terraform apply -auto-approve")
        refresh = command.replace("-auto-approve", "-refresh-only -auto-approve")  # README: after each
        bash(f"{command}\n{refresh}", work, env)
        setting = re.search(r"'kube_ca_rotation=(\{.*?\})'", command).group(1)
        quiet = terraform(
            work, env, "plan", "-detailed-exitcode", "-no-color", "-var", f"kube_ca_rotation={setting}"
        )
        assert quiet.returncode == 0, quiet.stdout[-3000:]
    out = outputs(work, env)
    assert out["kube"]["ca_rotation"]["generation"] == 1 and out["kube"]["ca_rotation"]["phase"] == "finish"


def test_the_readme_pins_this_release_and_its_git_source_form_works(tf_config, tmp_path):
    """The README's clone and its `git::...//...?ref=v<version>` source name this release, and that form,
    on a clone where the release's tag exists (the release makes it: CONTRIBUTING.md), inits and applies."""
    from tfext import __version__

    text = README.read_text()
    tag = f"v{__version__}"
    assert f"git clone --branch {tag} " in block("setup")
    sources = re.findall(
        r'source = "git::TFEXT_REPO//terraform/modules/tls/([a-z/-]+)\?ref=(v[0-9.]+)"', text
    )
    assert sources and {ref for _, ref in sources} == {tag}, sources
    git = require("git")
    clone = tmp_path / "tfext.git"
    subprocess.run([git, "clone", "-q", "--bare", str(REPO), str(clone)], check=True)
    subprocess.run([git, "-C", str(clone), "tag", tag, "HEAD"], check=True)  # what the release does
    work = tmp_path / "pinned"
    work.mkdir()
    (work / "main.tf").write_text(
        f"""module "kube" {{
  source             = "git::file://{clone}//terraform/modules/tls/{sources[0][0]}?ref={tag}"
  kube_apiserver_url = "https://api.example.com"
  service_cidr       = "10.3.0.0/16"
  key_algorithm      = "ECDSA-P256"
}}
output "ca" {{
  value = module.kube.ca_cert_pem
}}
output "apiserver" {{
  value = module.kube.apiserver_cert_pem
}}
"""
    )
    tf = Terraform(work, tf_config)
    tf.init()
    tf.apply()
    out = tf.outputs()
    cert(out["apiserver"]).verify_directly_issued_by(cert(out["ca"]))
