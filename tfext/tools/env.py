"""`tfext env`: the shell lines that let Terraform, run from any directory, find tfext and the provider.

    eval "$(/path/to/tfext/.venv/bin/tfext env)"

prints `export PATH=...` with the absolute directory of this `tfext` (the modules run `tfext` from PATH)
and, when an offline provider configuration exists, `export TF_CLI_CONFIG_FILE=...`: the one named by
`--cli-config`, else `$TF_CLI_CONFIG_FILE`, else the `.tfext/terraformrc` that `make provider` writes
into a checkout. Without one it says how to make one; it never installs anything itself.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from tfext.tools.cli import Parser, guarded, refuse_content_as_path


def checkout_config() -> Path:
    """Where `make provider` writes the CLI config, for a tfext installed from a checkout (editable)."""
    return Path(__file__).resolve().parents[2] / ".tfext" / "terraformrc"


def lines(bin_dir: Path, config: Path | None) -> list[str]:
    out = [f'export PATH={shlex.quote(str(bin_dir))}:"$PATH"']
    if config is not None:
        out.append(f"export TF_CLI_CONFIG_FILE={shlex.quote(str(config))}")
    else:
        out.append(
            "# no offline provider configuration found: `tfext install-provider DIR --cli-config FILE` "
            "makes one (or use the registry's hashicorp/external)"
        )
    return out


@guarded("tfext env")
def main(argv: list[str]) -> int:
    parser = Parser(prog="tfext env", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli-config", type=Path, help="the Terraform CLI configuration to export")
    args = parser.parse_args(argv)
    bin_dir = Path(os.path.abspath(sys.executable)).parent  # the venv's bin (not resolved: that leaves it)
    if args.cli_config is not None:
        refuse_content_as_path(args.cli_config, "--cli-config")
        candidates = [args.cli_config]
    else:
        candidates = [Path(p) for p in [os.environ.get("TF_CLI_CONFIG_FILE", "")] if p] + [checkout_config()]
    config = next((c.resolve() for c in candidates if c.is_file()), None)
    sys.stdout.write("\n".join(lines(bin_dir, config)) + "\n")
    return 0
