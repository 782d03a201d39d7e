"""`tfext summary`: a short table of what was generated: CN, issuer, expiry and SANs of each certificate.

Takes `terraform output -json` or `terraform state pull` of any root module calling the tfext modules: its
certificates are found by role (`tfext.tools.roles`) and named so (`kube/apiserver`), one row each (the
kube CA that identity and ingress are given is the one `kube/ca` row). Without certificates, it takes the
`certificates` facts (`terraform output -json certificates`: `{module: {name: info}}`, or `{name: info}`,
with or without the `{"value": ...}` wrapping). A row whose info is not what the modules write is reported
with its code, and the other rows are still shown.
"""

from __future__ import annotations

import sys

from tfext.errors import Code, Problem, safe_text
from tfext.tools.cli import Parser, guarded, read_stdin, say

# The facts a row shows, as the modules' `certificates` output (tfext.certinfo.describe) writes them.
INFO_FIELDS = {"subject": str, "issuer": str, "not_after": str, "sans": list, "is_ca": bool}


def role_rows(document: object, problems: list[Problem]) -> list[tuple[str, str, str, str, str]] | None:
    """Rows of the certificates found by role in `document`, or None when it holds none."""
    from tfext import certinfo
    from tfext.tools import roles
    from tfext.tools.sources import Reading, merge

    items = roles.locate(document)
    if not items:
        return None
    reading = Reading()
    roles.parse(items, reading)
    if not reading.found:
        return None  # no usable certificate: the `certificates` facts, if any, are shown instead
    problems += reading.problems + [b.problem for b in reading.bad]
    out = []
    for found in merge(reading.found):
        info = certinfo.describe(found.cert)
        out.append(tuple(safe_text(c) for c in (found.name, *_cells(info))))
    return out


def _role_names(certificates: dict) -> dict:
    """`{kube_certs: {ca: info, apiserver: info, ...}}` => `{kube/ca: info, ...}` where a module's names
    tell which module it is; other entries are kept as they are."""
    from tfext.tools.roles import kind_of_slots

    out: dict = {}
    for key, value in certificates.items():
        kind = kind_of_slots(set(value)) if isinstance(value, dict) and not _is_info(value) else None
        if kind:
            out.update({f"{kind}/{name}": info for name, info in value.items()})
        else:
            out[key] = value
    return out


def _unwrap(document: object) -> object:
    """The `certificates` value out of `terraform output -json` (whole, or of that one output)."""
    if isinstance(document, dict) and isinstance(document.get("certificates"), dict):
        inner = document["certificates"]
        if "value" in inner and isinstance(inner.get("value"), dict):
            return inner["value"]  # the whole `terraform output -json`
    wrapped = isinstance(document, dict) and set(document) <= {"value", "type", "sensitive"}
    if wrapped and isinstance(document.get("value"), dict):
        return document["value"]  # one output with its `terraform output -json` wrapping
    return document


def _is_info(value: object) -> bool:
    return isinstance(value, dict) and "subject" in value


def _info_problem(name: str, info: object) -> Problem | None:
    if not isinstance(info, dict):
        return Problem(Code.BAD_JSON_SHAPE, name, "expected an object of certificate facts")
    for key, kind in INFO_FIELDS.items():
        if key in info and not isinstance(info[key], kind):
            return Problem(Code.BAD_JSON_SHAPE, name, f"{key} is not a {kind.__name__}")
    if not all(isinstance(s, str) for s in info.get("sans", [])):
        return Problem(Code.BAD_JSON_SHAPE, name, "sans is not a list of strings")
    return None


def rows(certificates: dict, problems: list[Problem] | None = None) -> list[tuple[str, str, str, str, str]]:
    """Flatten `{module: {name: info}}` (or `{name: info}`) into (name, CN, issuer, expiry, SANs) rows.
    Entries that are not certificate facts are left out, with a problem added to `problems`."""
    problems = [] if problems is None else problems
    entries: list[tuple[str, object]] = []
    for key, value in certificates.items():
        if isinstance(value, dict) and not _is_info(value):
            entries += [(f"{key}.{name}", info) for name, info in value.items()]
        else:
            entries.append((str(key), value))
    out = []
    for name, info in entries:
        problem = _info_problem(name, info)
        if problem:
            problems.append(problem)
        else:
            out.append(tuple(safe_text(c) for c in (name, *_cells(info))))
    return out


def roles_nothing_found() -> str:
    from tfext.tools.roles import nothing_found

    return nothing_found("stdin").render()


def _cn(name: str) -> str:
    return next((part[3:] for part in name.split(",") if part.startswith("CN=")), name)


def _cells(info: dict) -> tuple[str, str, str, str]:
    subject = info.get("subject", "")
    issuer = info.get("issuer", "")
    # a SAN is `DNS:name` or `IP:addr`; one without a type prefix is shown whole
    sans = ", ".join(s.split(":", 1)[-1] for s in info.get("sans", [])) or "-"
    issued_by = _cn(issuer) + (" (self)" if info.get("is_ca") and issuer == subject else "")
    return _cn(subject), issued_by, info.get("not_after", ""), sans


def render(table: list[tuple[str, ...]]) -> str:
    header = ("CERTIFICATE", "CN", "ISSUER", "EXPIRES", "SANS")
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(4)]
    lines = []
    for r in [header, *table]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return "\n".join(lines) + "\n"


@guarded("tfext summary")
def main(argv: list[str]) -> int:
    parser = Parser(
        prog="tfext summary",
        description="Print each certificate's CN, issuer, expiry and SANs from `terraform output -json`, "
        "`terraform state pull` or `terraform output -json certificates` on stdin.",
    )
    parser.parse_args(argv)
    from tfext.tools.sources import InputError, load_json

    try:
        document = load_json(read_stdin(), "stdin")
    except InputError as exc:
        say(parser.prog, exc.render())
        return 2
    problems: list[Problem] = []
    table = role_rows(document, problems)
    whole_outputs = isinstance(document, dict) and all(
        isinstance(v, dict) and {"value", "type"} <= set(v) for v in document.values()
    )
    if table is None and whole_outputs and "certificates" not in document:
        say(parser.prog, roles_nothing_found())  # `terraform output -json` of no tfext module
        return 2
    if table is None:
        certificates = _unwrap(document)
        if not isinstance(certificates, dict):
            say(parser.prog, f"{Code.NOT_AN_OBJECT.tag} stdin: expected a JSON object of certificates")
            return 2
        table = rows(_role_names(certificates), problems)
        if not table and not problems:
            say(parser.prog, roles_nothing_found())
            return 2
    sys.stdout.write(render(table))
    for problem in problems:
        say(parser.prog, problem.render())
    return 1 if problems else 0
