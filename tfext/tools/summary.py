"""`tfext summary`: a short table of what was generated, from `terraform output -json certificates`."""

from __future__ import annotations

import argparse
import json
import sys


def rows(certificates: dict) -> list[tuple[str, str, str, str, str]]:
    """Flatten `{module: {name: info}}` (or `{name: info}`) into (name, CN, issuer, expiry, SANs) rows."""
    out = []
    for key, value in certificates.items():
        if isinstance(value, dict) and "subject" not in value:
            out += [(f"{key}.{name}", *_cells(info)) for name, info in value.items()]
        else:
            out.append((key, *_cells(value)))
    return out


def _cells(info: dict) -> tuple[str, str, str, str]:
    subject = info.get("subject", "")
    cn = next((part[3:] for part in subject.split(",") if part.startswith("CN=")), subject)
    issuer = info.get("issuer", "")
    issuer_cn = next((part[3:] for part in issuer.split(",") if part.startswith("CN=")), issuer)
    sans = ", ".join(s.split(":", 1)[1] for s in info.get("sans", [])) or "-"
    issued_by = issuer_cn + (" (self)" if info.get("is_ca") and issuer == subject else "")
    return cn, issued_by, info.get("not_after", ""), sans


def render(table: list[tuple[str, ...]]) -> str:
    header = ("CERTIFICATE", "CN", "ISSUER", "EXPIRES", "SANS")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(4)]
    lines = []
    for r in [header, *table]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tfext summary",
        description="Print each certificate's CN, issuer, expiry and SANs from "
        "`terraform output -json certificates` on stdin.",
    )
    parser.parse_args(argv)
    try:
        certificates = json.load(sys.stdin)
    except json.JSONDecodeError as exc:
        sys.stderr.write(
            f"tfext summary: stdin is not JSON ({exc.msg}); pipe `terraform output -json certificates`\n"
        )
        return 2
    if not isinstance(certificates, dict):
        sys.stderr.write("tfext summary: expected a JSON object of certificates\n")
        return 2
    sys.stdout.write(render(rows(certificates)))
    return 0
