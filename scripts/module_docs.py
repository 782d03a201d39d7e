#!/usr/bin/env python3
"""Write each module flavor's README.md (inputs and outputs) from its HCL, so the docs cannot drift.

python scripts/module_docs.py          # rewrite the READMEs
python scripts/module_docs.py --check  # exit 1 if any README is out of date (the tests run this)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

MODULES = Path(__file__).resolve().parent.parent / "terraform" / "modules" / "tls"
BLOCK = re.compile(r'^(output|variable) "([^"]+)" \{(.*?)^\}', re.S | re.M)
ATTR = re.compile(r"^  (description|type|default|sensitive)\s*=\s*(.*?)\s*$", re.M)


def _attrs(body: str) -> dict[str, str]:
    return {k: v for k, v in ATTR.findall(body)}


def _unquote(text: str) -> str:
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('\\"', '"')
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _summary(main_tf: str) -> str:
    lines = []
    for line in main_tf.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[1:].strip())
    return " ".join(lines)


def render(flavor_dir: Path) -> str:
    name = flavor_dir.relative_to(MODULES).as_posix()
    text = "\n".join(p.read_text() for p in sorted(flavor_dir.glob("*.tf")))
    blocks = BLOCK.findall(text)
    out = [f"# tls/{name}", "", _summary((flavor_dir / "main.tf").read_text()), ""]
    out += [
        "Generated from the HCL by `scripts/module_docs.py`; the project README has the consumer table.",
        "",
        "## Inputs",
        "",
        "| name | type | default | description |",
        "|---|---|---|---|",
    ]
    for kind, var, body in blocks:
        if kind != "variable":
            continue
        a = _attrs(body)
        default = f"`{a['default']}`" if "default" in a else "required"
        description = _cell(_unquote(a.get("description", "")))
        out.append(f"| `{var}` | `{a.get('type', '')}` | {_cell(default)} | {description} |")
    out += ["", "## Outputs", "", "| name | sensitive | description |", "|---|---|---|"]
    for kind, var, body in blocks:
        if kind != "output":
            continue
        a = _attrs(body)
        sensitive = "yes" if a.get("sensitive") == "true" else ""
        out.append(f"| `{var}` | {sensitive} | {_cell(_unquote(a.get('description', '')))} |")
    return "\n".join(out) + "\n"


def flavors() -> list[Path]:
    return sorted(p.parent for p in MODULES.glob("*/*/main.tf") if p.parent.parent.name != "internal")


def main(argv: list[str]) -> int:
    stale = []
    for flavor_dir in flavors():
        readme = flavor_dir / "README.md"
        text = render(flavor_dir)
        if readme.exists() and readme.read_text() == text:
            continue
        if "--check" in argv:
            stale.append(str(readme))
        else:
            readme.write_text(text)
    if stale:
        sys.stderr.write("out of date (run scripts/module_docs.py): " + ", ".join(stale) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
