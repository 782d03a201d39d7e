"""`tfext check-expiration [SOURCE]`: when each certificate expires, as `kubeadm certs check-expiration`
shows.

SOURCE is a directory of PEM files (as `tfext write-assets` writes), a PEM file, a Terraform state file
(`terraform.tfstate`), or `-` for JSON on stdin (`terraform state pull`, or `terraform output -json`).
Without SOURCE, as kubeadm needs none, the state of the root module in the current directory is read
(`tfext.tools.rootstate`): `terraform state pull` there, or `./terraform.tfstate`; stderr says which.
From JSON, each certificate is found by its role (`tfext.tools.roles`) and named by its module and role:
`kube/apiserver`, `etcd/server`; the kube CA that identity and ingress are given is `kube/ca`, with those
names as aliases. Its status is `tfext.verify.time_status`'s: valid, renew, expired or not yet valid.
A CA that expires within the window (either CA of a rotation's bundle) is also a TFEXT-E059 warning:
every certificate it signed ends with it, so it asks for a CA rotation (docs/ca-rotation.md), starting
with phase trust of the next generation, or the next phase when a rotation is already under way.
Exit status: 0 when every certificate is valid beyond the renewal window, 1 when one is expired, not yet
valid or expires within the window, 2 when the input cannot be used.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tfext.errors import Code, Problem, TfextError, echo_path, safe_text
from tfext.profiles import DEFAULT_RENEWAL_WINDOW_HOURS
from tfext.tools import clock, facts, roles
from tfext.tools.bundles import ROTATION_DOC, Rotation
from tfext.tools.cli import Parser, guarded, read_stdin, refuse_content_as_path, say
from tfext.tools.sources import (
    MAX_FILE_BYTES,
    MAX_JSON_BYTES,
    Bad,
    Found,
    InputError,
    Issuers,
    Reading,
    common_name,
    from_directory,
    from_json,
    load_json,
    merge,
)
from tfext.verify import TimeStatus, time_status

DEFAULT_WINDOW_HOURS = DEFAULT_RENEWAL_WINDOW_HOURS
MAX_STATE_BYTES = MAX_JSON_BYTES  # a state holding every certificate of a large estate is far below this


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
    status: TimeStatus
    residual: dt.timedelta
    serial: str
    sha256_fingerprint: str
    warning: str = ""  # TFEXT-E059 for a CA inside the window: the rotation to start

    @property
    def needs_attention(self) -> bool:
        return self.status is not TimeStatus.VALID


def _authority(item: Found, issuers: Issuers) -> str:
    issuer = issuers.issuer_of(item)
    if issuer:
        return issuer.name
    if issuers.is_self_signed(item):
        return ""
    return f"{common_name(item.cert.issuer)} (not in input)"


def ca_warning(item: Found, now: dt.datetime, window: dt.timedelta, rotations: list[Rotation]) -> str:
    """TFEXT-E059 for a CA expiring within the window: what to apply next (docs/ca-rotation.md)."""
    cert = item.cert
    rotation = next((r for r in rotations if r.part(item.fingerprint)), None)
    if rotation is not None:
        step = rotation.next_step(item.fingerprint)
    else:
        step = f'rotate it: ca_rotation = {{ generation = N + 1, phase = "trust" }} ({ROTATION_DOC})'
    return (
        f"{Code.CA_NEEDS_ROTATION.tag} {item.name}: this CA expires at "
        f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, in {clock.residual(cert.not_valid_after_utc - now)} "
        f"(within {window.total_seconds() / 3600:g} hours), and every certificate it signed with it - {step}"
    )


def assess(
    found: list[Found],
    now: dt.datetime,
    window: dt.timedelta,
    issuers: Issuers | None = None,
    rotations: list[Rotation] = (),
) -> list[Expiry]:
    """Judge every certificate (already merged, one per fingerprint) at `now`; a CA within the window gets
    its TFEXT-E059 warning (`rotations`: the phase of each CA role, when the input said)."""
    issuers = issuers or Issuers(found)
    out = []
    for item in found:
        cert = item.cert
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        status = time_status(cert, now, window)
        warning = (
            ca_warning(item, now, window, list(rotations))
            if item.is_ca and status is TimeStatus.RENEW
            else ""
        )
        out.append(
            Expiry(
                name=item.name,
                aliases=tuple(item.aliases),
                subject=cert.subject.rfc4514_string(),
                not_before=not_before,
                not_after=not_after,
                authority=_authority(item, issuers),
                is_ca=item.is_ca,
                status=status,
                residual=not_after - now,
                serial=facts.serial_text(cert.serial_number),  # as `openssl x509 -serial` prints it
                sha256_fingerprint=item.fingerprint,
                warning=warning,
            )
        )
    return out


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    rows = [tuple(safe_text(c) for c in r) for r in rows]  # names and CNs come from the input
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]


def _expiry_table(what: str, authority: str, expiries: list[Expiry], no_authority: str) -> list[str]:
    """One of the two tables (certificates, certificate authorities); none without a row."""
    header = (what, "EXPIRES", "RESIDUAL TIME", authority, "STATUS")
    rows = [
        (e.name, clock.human(e.not_after), clock.residual(e.residual), e.authority or no_authority, e.status)
        for e in expiries
    ]
    return _table(header, rows) if rows else []


def render(expiries: list[Expiry], window_hours: float, bad: list[Bad] = ()) -> str:
    """Two tables, as kubeadm prints them: certificates, then certificate authorities; then the
    certificates that could not be judged, each with its code."""
    cas = [e for e in expiries if e.is_ca]
    sections = [
        _expiry_table("CERTIFICATE", "CERTIFICATE AUTHORITY", [e for e in expiries if not e.is_ca], "-"),
        _expiry_table("CERTIFICATE AUTHORITY", "SIGNED BY", cas, "(self)"),
        _table(("UNUSABLE CERTIFICATE", "PROBLEM"), [(b.name, b.text) for b in bad]) if bad else [],
    ]
    lines: list[str] = []
    for section in sections:
        if section and lines:
            lines.append("")
        lines += section
    attention = [e.name for e in expiries if e.needs_attention] + [b.name for b in bad]
    if attention:
        hours = f"{window_hours:g}"
        names = safe_text(", ".join(attention))
        lines += [
            "",
            f"{len(attention)} of {len(expiries) + len(bad)} certificates need attention (expired, not yet "
            f"valid, expiring within {hours} hours, or unusable): {names}",
        ]
    lines += [safe_text(e.warning) for e in cas if e.warning]
    return "\n".join(lines) + "\n"


def to_json(
    expiries: list[Expiry],
    now: dt.datetime,
    window_hours: float,
    bad: list[Bad] = (),
    problems: list[Problem] = (),
) -> dict:
    """The machine-readable report: every field of the table, with exact times."""
    return {
        "now": clock.rfc3339(now),
        "window_hours": window_hours,
        "ok": not any(e.needs_attention for e in expiries) and not bad,
        "unusable": [{"name": safe_text(b.name), "problem": b.text} for b in bad],
        "problems": [p.render() for p in problems],
        "warnings": [safe_text(e.warning) for e in expiries if e.warning],
        "certificates": [
            {
                "name": safe_text(e.name),
                "aliases": [safe_text(a) for a in e.aliases],
                "subject": safe_text(e.subject),
                "is_ca": e.is_ca,
                "certificate_authority": safe_text(e.authority),
                "not_before": clock.rfc3339(e.not_before),
                "not_after": clock.rfc3339(e.not_after),
                "residual_seconds": int(e.residual.total_seconds()),
                "residual": clock.residual(e.residual),
                "status": str(e.status),
                "serial": e.serial,
                "sha256_fingerprint": e.sha256_fingerprint,
                **(
                    {"code": Code.CA_NEEDS_ROTATION.tag, "warning": safe_text(e.warning)} if e.warning else {}
                ),
            }
            for e in expiries
        ],
    }


def load(source: str, stdin: TextIO | None = None) -> Reading:
    """Every certificate in SOURCE (see the module docstring). Raises InputError when SOURCE is unusable;
    certificates that cannot be used are `Reading.bad` rows."""
    reading = Reading()
    if source == "-":
        _json_source(read_stdin(MAX_STATE_BYTES), "stdin", reading)
        return reading
    refuse_content_as_path(source, "SOURCE")
    path = Path(source)
    if path.is_dir():
        from_directory(path, reading)
        return reading
    if not path.exists() and not path.is_symlink():
        raise InputError.of(Code.FILE_MISSING, echo_path(source), "no such file or directory")
    data = reading.read(path, MAX_STATE_BYTES)
    if data is None:
        raise InputError(reading.problems)
    if data.lstrip()[:1] == b"{":
        _json_source(data, echo_path(source), reading)
        return reading
    if len(data) > MAX_FILE_BYTES:
        raise InputError.of(Code.FILE_TOO_LARGE, echo_path(source), f"larger than {MAX_FILE_BYTES} bytes")
    reading.certificates_in(data, path.name, der=True)
    return reading


def find_here(directory: Path | None = None):
    """The state of the root module in `directory` (the current one), as `tfext.tools.rootstate.Here`:
    `terraform state pull` there, or ./terraform.tfstate. Raises TfextError (E097, E098) when there is
    none."""
    from tfext.tools import rootstate

    def read_file(path: Path) -> bytes:
        reading = Reading()
        data = reading.read(path, MAX_STATE_BYTES)
        if data is None:
            raise InputError(reading.problems)
        return data

    return rootstate.find(Path.cwd() if directory is None else directory, MAX_STATE_BYTES, read_file)


def _json_source(data: bytes, where: str, reading: Reading) -> None:
    """Certificates found by role; JSON that holds none of our modules' is read for any certificate."""
    document = load_json(data, where)
    reading.json = True
    items = roles.locate(document)
    reading.rotations += roles.parse(items, reading)
    if not items:
        from_json(document, reading)


@guarded("tfext check-expiration")
def main(argv: list[str]) -> int:
    """`tfext check-expiration`: parse `argv`, print the result, return the exit status."""
    parser = Parser(
        prog="tfext check-expiration",
        description="Show when each certificate expires, like `kubeadm certs check-expiration`. "
        "Exit status 1 when a certificate is expired, not yet valid or expires within the renewal window.",
        epilog="SOURCE: a directory of PEM files (from `tfext write-assets`), a PEM file, a "
        "terraform.tfstate file, or - for `terraform state pull` (or `terraform output -json`) on stdin. "
        "Without SOURCE, in a root module's directory: `terraform state pull` run there (with terraform on "
        "PATH), else ./terraform.tfstate; stderr says which was read. "
        f"Set {clock.ENV_NOW}=2030-01-01T00:00:00Z to judge at another time than now. "
        "Exit status: 0 all fine, 1 something to renew or unusable, 2 unusable input.",
    )
    parser.add_argument(
        "source",
        metavar="SOURCE",
        nargs="?",
        help="DIR, PEM file, terraform.tfstate, or - for stdin; without it, the state of the root module "
        "in the current directory",
    )
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
    if not 0 <= args.window_hours <= 1e7:  # also refuses nan and inf
        parser.error("--window-hours must not be negative (and at most 10000000)")
    where = "stdin" if args.source == "-" else echo_path(args.source or ".")
    try:
        now = clock.now()
        if args.source is None:
            here = find_here()
            say(prog, here.note)
            where, reading = here.where, Reading()
            _json_source(here.data, here.where, reading)
        else:
            reading = load(args.source, sys.stdin)
    except TfextError as exc:  # InputError, and the E097/E098 of a root module's state
        say(prog, exc.render())
        return 2
    except ValueError as exc:
        say(prog, str(exc))
        return 2
    found = merge(reading.found)
    if not found and not reading.bad:
        for problem in reading.problems:
            say(prog, problem.render())
        if reading.json:
            say(prog, roles.nothing_found(where).render())
        else:
            say(prog, f"no certificates found in {where}")
        return 2
    issuers = Issuers(found)
    expiries = assess(found, now, dt.timedelta(hours=args.window_hours), issuers, reading.rotations)
    problems = reading.problems + [p for p in (issuers.problem(),) if p]
    if args.json:
        report = to_json(expiries, now, args.window_hours, reading.bad, problems)
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        sys.stdout.write(render(expiries, args.window_hours, reading.bad))
    for problem in problems:
        say(prog, problem.render())
    return 1 if any(e.needs_attention for e in expiries) or reading.bad or problems else 0
