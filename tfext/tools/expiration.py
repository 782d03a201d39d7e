"""`tfext check-expiration SOURCE`: when each certificate expires, as `kubeadm certs check-expiration` shows.

SOURCE is a directory of PEM files (as `tfext write-assets` writes), a PEM file, a Terraform state file
(`terraform.tfstate`), or `-` for JSON on stdin (`terraform state pull`, or `terraform output -json`).
Exit status: 0 when every certificate is valid beyond the renewal window, 1 when one is expired, not yet
valid or expires within the window, 2 when the input cannot be used.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tfext.tools import clock
from tfext.tools.sources import (
    Found,
    InputError,
    certificates_in,
    common_name,
    from_directory,
    from_json,
    is_self_signed,
    issuer_of,
    merge,
)

DEFAULT_WINDOW_HOURS = 720
MAX_STATE_BYTES = 256 << 20  # a state holding every certificate of a large estate is still far below this

OK, RENEW, EXPIRED, NOT_YET_VALID = "ok", "renew", "expired", "not yet valid"


@dataclass(frozen=True)
class Expiry:
    """One certificate's expiry, judged at `now` against the renewal window."""

    name: str
    aliases: tuple[str, ...]
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime
    authority: str  # the name of the CA that signed it; "" for a self-signed CA
    is_ca: bool
    status: str
    residual: dt.timedelta
    serial: str
    sha256_fingerprint: str

    @property
    def needs_attention(self) -> bool:
        return self.status != OK


def status_of(not_before: dt.datetime, not_after: dt.datetime, now: dt.datetime, window: dt.timedelta) -> str:
    """`expired`, `not yet valid`, `renew` (expires within `window`) or `ok`."""
    if now >= not_after:
        return EXPIRED
    if now < not_before:
        return NOT_YET_VALID
    if not_after - now <= window:
        return RENEW
    return OK


def _authority(item: Found, cas: list[Found]) -> str:
    issuer = issuer_of(item, cas)
    if issuer:
        return issuer.name
    if is_self_signed(item.cert):
        return ""
    return f"{common_name(item.cert.issuer)} (not in input)"


def assess(found: list[Found], now: dt.datetime, window: dt.timedelta) -> list[Expiry]:
    """Judge every certificate (already merged, one per fingerprint) at `now`."""
    cas = [f for f in found if f.is_ca]
    out = []
    for item in found:
        cert = item.cert
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        out.append(
            Expiry(
                name=item.name,
                aliases=tuple(item.aliases),
                subject=cert.subject.rfc4514_string(),
                not_before=not_before,
                not_after=not_after,
                authority=_authority(item, cas),
                is_ca=item.is_ca,
                status=status_of(not_before, not_after, now, window),
                residual=not_after - now,
                serial=format(cert.serial_number, "x"),
                sha256_fingerprint=item.fingerprint,
            )
        )
    return out


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]


def render(expiries: list[Expiry], window_hours: float) -> str:
    """Two tables, as kubeadm prints them: certificates, then certificate authorities."""
    leaves = [e for e in expiries if not e.is_ca]
    cas = [e for e in expiries if e.is_ca]
    lines: list[str] = []
    if leaves:
        header = ("CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "STATUS")
        rows = [
            (e.name, clock.human(e.not_after), clock.residual(e.residual), e.authority or "-", e.status)
            for e in leaves
        ]
        lines += _table(header, rows)
    if cas:
        if lines:
            lines.append("")
        header = ("CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "SIGNED BY", "STATUS")
        rows = [
            (e.name, clock.human(e.not_after), clock.residual(e.residual), e.authority or "(self)", e.status)
            for e in cas
        ]
        lines += _table(header, rows)
    attention = [e for e in expiries if e.needs_attention]
    if attention:
        hours = f"{window_hours:g}"
        names = ", ".join(e.name for e in attention)
        lines += [
            "",
            f"{len(attention)} of {len(expiries)} certificates need attention (expired, not yet valid, or "
            f"expiring within {hours} hours): {names}",
        ]
    return "\n".join(lines) + "\n"


def to_json(expiries: list[Expiry], now: dt.datetime, window_hours: float) -> dict:
    """The machine-readable report: every field of the table, with exact times."""
    return {
        "now": clock.rfc3339(now),
        "window_hours": window_hours,
        "ok": not any(e.needs_attention for e in expiries),
        "certificates": [
            {
                "name": e.name,
                "aliases": list(e.aliases),
                "subject": e.subject,
                "is_ca": e.is_ca,
                "certificate_authority": e.authority,
                "not_before": clock.rfc3339(e.not_before),
                "not_after": clock.rfc3339(e.not_after),
                "residual_seconds": int(e.residual.total_seconds()),
                "residual": clock.residual(e.residual),
                "status": e.status,
                "serial": e.serial,
                "sha256_fingerprint": e.sha256_fingerprint,
            }
            for e in expiries
        ],
    }


def load(source: str, stdin: TextIO) -> list[Found]:
    """Every certificate in SOURCE (see the module docstring), one per fingerprint. Raises InputError."""
    if source == "-":
        text = stdin.read(MAX_STATE_BYTES + 1)
        return merge(_json_source(text, "stdin"))
    path = Path(source)
    if path.is_dir():
        return merge(from_directory(path))
    if not path.exists():
        raise InputError(f"{source}: no such file or directory")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_STATE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{source}: cannot be read ({exc.strerror})") from None
    if data.lstrip()[:1] == b"{":
        return merge(_json_source(data.decode("utf-8", "replace"), source))
    try:
        certs = certificates_in(data, der=True)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    return merge(
        [Found(path.name if len(certs) == 1 else f"{path.name}[{i}]", c) for i, c in enumerate(certs)]
    )


def _json_source(text: str, where: str) -> list[Found]:
    if len(text) > MAX_STATE_BYTES:
        raise InputError(f"{where}: larger than {MAX_STATE_BYTES >> 20} MiB")
    if not text.strip():
        raise InputError(f"{where}: empty; pipe `terraform state pull` or `terraform output -json`")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{where}: not JSON ({exc.msg}, line {exc.lineno}); expected a Terraform state"
        ) from None
    return from_json(document)


def main(argv: list[str]) -> int:
    """`tfext check-expiration`: parse `argv`, print the result, return the exit status."""
    parser = argparse.ArgumentParser(
        prog="tfext check-expiration",
        description="Show when each certificate expires, like `kubeadm certs check-expiration`. "
        "Exit status 1 when a certificate is expired, not yet valid or expires within the renewal window.",
        epilog="SOURCE: a directory of PEM files (from `tfext write-assets`), a PEM file, a "
        "terraform.tfstate file, or - for `terraform state pull` (or `terraform output -json`) on stdin. "
        f"Set {clock.ENV_NOW}=2030-01-01T00:00:00Z to judge at another time than now. "
        "Exit status: 0 all fine, 1 something to renew, 2 unusable input.",
    )
    parser.add_argument("source", metavar="SOURCE", help="DIR, PEM file, terraform.tfstate, or - for stdin")
    parser.add_argument(
        "--window-hours",
        type=float,
        default=DEFAULT_WINDOW_HOURS,
        help=f"renewal window in hours: certificates expiring within it need attention "
        f"(default {DEFAULT_WINDOW_HOURS})",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report instead of the tables")
    args = parser.parse_args(argv)
    prog = parser.prog
    if args.window_hours < 0:
        parser.error("--window-hours must not be negative")
    try:
        now = clock.now()
        found = load(args.source, sys.stdin)
    except (InputError, ValueError) as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        return 2
    if not found:
        sys.stderr.write(
            f"{prog}: no certificates found in {'stdin' if args.source == '-' else args.source}\n"
        )
        return 2
    expiries = assess(found, now, dt.timedelta(hours=args.window_hours))
    if args.json:
        sys.stdout.write(json.dumps(to_json(expiries, now, args.window_hours), indent=2) + "\n")
    else:
        sys.stdout.write(render(expiries, args.window_hours))
    return 1 if any(e.needs_attention for e in expiries) else 0
