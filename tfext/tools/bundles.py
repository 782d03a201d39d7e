"""CA bundles and rotation phases as the human tools see them (docs/ca-rotation.md).

While a CA is rotated, a module's CA output (`ca_cert_pem`, `etcd_ca_crt_pem`) is a bundle of two CAs, the
signing CA first, and a state holds one CA seal per generation. `resolve` turns the CA certificates found
for each role into a `Rotation`: which CA signs, which is the other one ("incoming" in phase trust,
"outgoing" in reissue) and the phase, read from the module's `ca_rotation` output when the input has it,
else inferred from the certificates:

- one CA: finish;
- two CAs: the incoming one is the one that starts later (notBefore); leaves signed by the incoming CA mean
  reissue, leaves only on the outgoing one mean trust; without leaves, the bundle's order says (the signing
  CA first), and a state's seals, which have no order, are taken to be in trust.

Which CA signed a leaf is always checked on the certificates (`Issuers`: key identifiers, then the
signature), never assumed. The CAs are renamed as the `certificates` output names them: `kube/ca` (the
signing CA), `kube/ca_incoming` or `kube/ca_outgoing` (the other one). Which CA signs and which one is the
incoming one in each phase is `tfext.rotation`'s rule, the programs' too; a `Rotation` is a
`tfext.rotation.Bundle` of the certificates found, with what the tools show of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tfext.errors import Code, Problem
from tfext.rotation import (
    INCOMING,
    OUTGOING,
    PHASES,
    Bundle,
    next_phase,
    oldest_first,
    phase_signed_by,
    signer,
)
from tfext.tools.sources import Found, Issuers

FINGERPRINT_SHOWN = 8  # hex digits of a fingerprint shown beside a CA's part ("signing CA a119ae16")
ROTATION_DOC = "docs/ca-rotation.md"


def _start(found: Found) -> dt.datetime:
    """When a CA starts: the incoming CA of a rotation is the one that starts later."""
    return found.cert.not_valid_before_utc


@dataclass(kw_only=True)
class Rotation(Bundle[Found]):
    """The CAs of one CA role (shared by the modules given the same CAs) and its phase (always known here:
    trust, reissue or finish)."""

    names: list[str]  # the CA roles holding these CAs: kube/ca first, then identity/ca, ingress/ca
    source: str  # "ca_rotation output" or "inferred from the certificates"
    generation: int | None = None
    leaves: dict[str, str] = field(default_factory=dict)  # leaf fingerprint => part of the CA that signed it

    @property
    def name(self) -> str:
        return self.names[0]

    def part(self, fingerprint: str) -> str:
        """ "signing", "incoming" or "outgoing" for a CA of this rotation, else ""."""
        if fingerprint == self.signing.fingerprint:
            return "signing"
        if self.other is not None and fingerprint == self.other.fingerprint:
            return self.other_part
        return ""

    def label(self, fingerprint: str) -> str:
        """`signing CA a119ae16`: the part a CA plays, with the start of its fingerprint."""
        return f"{self.part(fingerprint)} CA {fingerprint[:FINGERPRINT_SHOWN]}"

    def age(self, fingerprint: str) -> str:
        """ "outgoing"/"incoming" by age for the signing CA too (the one the part does not say), else ""."""
        if self.other is None:
            return ""
        older = oldest_first(self.cas, _start)[0]
        return OUTGOING if fingerprint == older.fingerprint else INCOMING

    def describe(self) -> str:
        """`phase trust (generation 1, ca_rotation output): signing CA a119ae16 (outgoing), incoming CA
        ae92f898; leaves: 3 on the signing CA, 0 on the incoming CA`."""
        generation = "" if self.generation is None else f"generation {self.generation}, "
        head = f"phase {self.phase} ({generation}{self.source})"
        cas = self.label(self.signing.fingerprint)
        if self.other is not None:
            cas += f" ({self.age(self.signing.fingerprint)}), {self.label(self.other.fingerprint)}"
        counts = [sum(1 for p in self.leaves.values() if p == "signing")]
        text = f"{head}: {cas}; leaves: {counts[0]} on the signing CA"
        if self.other is not None:
            on_other = sum(1 for p in self.leaves.values() if p == self.other_part)
            text += f", {on_other} on the {self.other_part} CA"
        return text

    def to_json(self) -> dict:
        return {
            "ca": self.name,
            "aliases": self.names[1:],
            "phase": self.phase,
            "generation": self.generation,
            "source": self.source,
            "signing_ca": self.signing.fingerprint,
            "other_ca": self.other.fingerprint if self.other is not None else None,
            "other_ca_part": self.other_part or None,
            "trusted_cas": [f.fingerprint for f in self.cas],
            "leaves": dict(sorted(self.leaves.items())),
        }

    def next_step(self, fingerprint: str) -> str:
        """What to apply when the CA `fingerprint` of this rotation expires soon (TFEXT-E059)."""
        generation = "N" if self.generation is None else str(self.generation)
        if self.other is not None and self.age(fingerprint) == OUTGOING:
            following = next_phase(self.phase) or "finish"
            return (
                f"a rotation is under way (phase {self.phase}): go on with ca_rotation = "
                f'{{ generation = {generation}, phase = "{following}" }}'
                + (', then phase = "finish"' if following == "reissue" else "")
                + f" ({ROTATION_DOC})"
            )
        after = "N + 1" if self.generation is None else str(self.generation + 1)
        start = f'ca_rotation = {{ generation = {after}, phase = "trust" }} ({ROTATION_DOC})'
        if self.other is not None:  # the incoming CA: one rotation at a time
            return f"finish the rotation under way (phase {self.phase}) first, then rotate it: {start}"
        return f"rotate it: {start}"


@dataclass
class Candidate:
    """The CA certificates one CA role holds, before its phase is known."""

    name: str
    cas: list[Found]
    ordered: bool  # `cas` lists the signing CA first (an output); a state's seals have no order
    rotation: dict | None  # the module's `ca_rotation` output (or the state's record of it)
    given: bool = False  # identity's or ingress's copy of the kube CA


def _generation(rotation: dict | None) -> int | None:
    value = rotation.get("generation") if isinstance(rotation, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 31 else None


def _said_phase(rotation: dict | None) -> str | None:
    value = rotation.get("phase") if isinstance(rotation, dict) else None
    return value if value in PHASES else None


def resolve(
    candidates: list[Candidate], found: list[Found], issuers: Issuers
) -> tuple[list[Rotation], list[Problem]]:
    """One Rotation per set of CAs (kube/ca, identity/ca and ingress/ca share one); `found` are the input's
    certificates, whose leaves tell the phase when no `ca_rotation` output does."""
    problems: list[Problem] = []
    groups: list[list[Candidate]] = []
    # the largest sets first, so that a copy holding one CA of a bundle joins the bundle
    for candidate in sorted(candidates, key=lambda c: (-len(c.cas), c.given, c.name)):
        fingerprints = {f.fingerprint for f in candidate.cas}
        home = next((g for g in groups if fingerprints <= {f.fingerprint for f in g[0].cas}), None)
        if home is None:
            groups.append([candidate])
        else:
            home.append(candidate)
    leaves = [f for f in found if not f.is_ca]
    out = []
    for group in groups:
        head = group[0]
        cas = list({f.fingerprint: f for f in head.cas}.values())
        if len(cas) > 2:  # noqa: PLR2004 - the outgoing and the incoming CA
            problems.append(
                Problem(
                    Code.TOO_MANY_CERTS,
                    head.name,
                    f"holds {len(cas)} CAs; a CA bundle holds one, or two while a CA is rotated",
                )
            )
            continue
        rotation = next((c.rotation for c in group if _said_phase(c.rotation)), None)
        rotation = rotation or next((c.rotation for c in group if c.rotation), None)
        by_fp = {f.fingerprint: f for f in cas}
        on: dict[str, str] = {}
        for leaf in leaves:
            issuer = issuers.issuer_of(leaf)
            if issuer is not None and issuer.fingerprint in by_fp:
                on[leaf.fingerprint] = issuer.fingerprint
        said = _said_phase(rotation)
        names = [c.name for c in group]
        generation = _generation(rotation)
        if len(cas) == 1:
            phase, source = (said or "finish"), ("ca_rotation output" if said else "inferred: one CA")
            result = Rotation(cas[0], None, phase, names=names, source=source, generation=generation)
        else:
            older, newer = oldest_first(cas, _start)
            part = {OUTGOING: older, INCOMING: newer}
            signing_fp = rotation.get("signing_ca") if isinstance(rotation, dict) else None
            if said in ("trust", "reissue"):
                phase, source = said, "ca_rotation output"
                signing = by_fp.get(signing_fp) or part[signer(said)]
            elif newer.fingerprint in on.values():
                phase, source, signing = phase_signed_by(INCOMING), "inferred: leaves on the newer CA", newer
            elif older.fingerprint in on.values():
                phase, source, signing = phase_signed_by(OUTGOING), "inferred: leaves on the older CA", older
            elif head.ordered:
                signing = cas[0]
                phase = phase_signed_by(OUTGOING if signing is older else INCOMING)
                source = "inferred: the bundle's order"
            else:
                phase, source, signing = "trust", "inferred: no leaf, taken as trust", older
            if said == "finish":
                problems.append(
                    Problem(
                        Code.BUNDLE_PHASE,
                        head.name,
                        "holds two CAs, but its ca_rotation output says phase finish; shown as "
                        f"{phase} ({source})",
                    )
                )
            other = newer if signing is older else older
            result = Rotation(signing, other, phase, names=names, source=source, generation=generation)
        result.leaves = {leaf: result.part(ca) for leaf, ca in on.items()}
        out.append(result)
    return out, problems
