"""CA bundles and the phases of a CA rotation (docs/ca-rotation.md): the phase rule, stated once for the
programs and the tools.

While a CA is rotated, two CAs of the same name are trusted at once: the outgoing one and the incoming
one (the one that starts later). A CA bundle is their certificates in one PEM text, the signing CA first.
The phases:

- trust:   both CAs are trusted; the outgoing CA still signs, so the leaves stay as they are;
- reissue: both CAs are trusted; the incoming CA signs, and every leaf is issued again by it;
- finish:  only the incoming CA is trusted (and signs). Outside a rotation a module is in "finish".

`signer` and `trusted` say which CA signs and which are trusted in a phase, `phase_signed_by` which phase
a two-CA bundle is in when the CA that signs is known, `oldest_first` which CA is the outgoing one.
`Bundle` is a bundle's model: the programs fill it with the certificates they are given, the tools
(`tfext.tools.bundles.Rotation`) with the certificates they found. The generating flavors order their
phases with Terraform preconditions (terraform/modules/tls/internal/rotation). The rest of this module is
what a program checks of a bundle it is given: which CA is which, and whether the bundle and the leaves
fit the phase the user says the rotation is in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from cryptography import x509

from tfext import certinfo, keys
from tfext.errors import Code, TfextError
from tfext.verify import key_id, signed_by

PHASES = ("trust", "reissue", "finish")
OUTGOING, INCOMING = "outgoing", "incoming"  # the parts the two CAs of a rotation play
MAX_BUNDLE = 2  # the outgoing and the incoming CA

CA = TypeVar("CA")


# --- the phase rule -----------------------------------------------------------------------------------


def signer(phase: str) -> str:
    """Which CA signs in `phase`: the outgoing one in trust, the incoming one from reissue on."""
    return OUTGOING if phase == "trust" else INCOMING


def trusted(phase: str) -> tuple[str, ...]:
    """The CAs `phase` trusts: both in trust and reissue, the incoming one alone in finish."""
    return (INCOMING,) if phase == "finish" else (OUTGOING, INCOMING)


def phase_signed_by(part: str) -> str:
    """The phase of a bundle of two CAs whose `part` CA signs: trust (outgoing) or reissue (incoming)."""
    return next(p for p in PHASES if len(trusted(p)) == MAX_BUNDLE and signer(p) == part)


def next_phase(phase: str) -> str | None:
    """The phase that follows `phase` (trust, reissue, finish); None after finish."""
    following = PHASES[PHASES.index(phase) + 1 :]
    return following[0] if following else None


def other_part(part: str) -> str:
    """The part the other CA of a rotation plays: incoming beside the outgoing CA, and the reverse."""
    return INCOMING if part == OUTGOING else OUTGOING


def oldest_first(cas: list[CA], start: Callable[[CA], dt.datetime]) -> list[CA]:
    """`cas` by the time each starts (`start`): the outgoing CA first, the incoming one (it starts later)
    last; CAs that start at the same second keep their order."""
    return sorted(cas, key=start)


@dataclass
class Bundle(Generic[CA]):
    """A bundle's model: the CA that signs now, the other CA of a rotation (None outside one) and the phase,
    where it is known. A CA is an `x509.Certificate` in the programs, a `tfext.tools.sources.Found` in the
    tools."""

    signing: CA
    other: CA | None = None
    phase: str | None = None

    @property
    def cas(self) -> list[CA]:
        """The CAs the bundle trusts, the signing CA first (as the modules output a bundle)."""
        return [self.signing] if self.other is None else [self.signing, self.other]

    @property
    def other_part(self) -> str:
        """ "incoming" (trust), "outgoing" (reissue), or "" outside a rotation or where the phase is not
        known."""
        if self.other is None or self.phase is None:
            return ""
        return other_part(signer(self.phase))


# --- a bundle a program is given ----------------------------------------------------------------------


def issuer_of(bundle: Bundle[x509.Certificate], leaf: x509.Certificate) -> x509.Certificate:
    """The CA of the bundle that issued `leaf`: by key id, then by name and signature; else the signing CA,
    against which the leaf's problems are then reported."""
    return issuer_in(bundle.cas, leaf) or bundle.signing


def issuer_in(cas: list[x509.Certificate], leaf: x509.Certificate) -> x509.Certificate | None:
    _, aki = certinfo.key_ids(leaf)
    if aki:
        for ca in cas:
            if certinfo.key_ids(ca)[0] == aki:
                return ca
    # the same judgement of a signature as the leaf's own check (verify.check_issued_by) makes
    return next((ca for ca in cas if ca.subject == leaf.issuer and signed_by(leaf, ca)), None)


def check_size(cas: list[x509.Certificate], where: str) -> None:
    if len(cas) == MAX_BUNDLE and cas[0] == cas[1]:
        raise TfextError.of(Code.TOO_MANY_CERTS, where, "holds the same CA twice; expected one")
    if len(cas) > MAX_BUNDLE:
        raise TfextError.of(
            Code.TOO_MANY_CERTS,
            where,
            f"holds {len(cas)} certificates; a CA bundle holds one CA, or two while a CA is rotated "
            "(the outgoing and the incoming one)",
        )


def by_age(cas: list[x509.Certificate], where: str) -> tuple[x509.Certificate, x509.Certificate]:
    """(outgoing, incoming) of a two-CA bundle; refused when the two start at the same second."""
    first, second = cas
    if first.not_valid_before_utc == second.not_valid_before_utc:
        raise TfextError.of(
            Code.BUNDLE_PHASE,
            where,
            "its two CAs start at the same second, so the incoming one cannot be told from the outgoing one",
        )
    outgoing, incoming = oldest_first(cas, lambda c: c.not_valid_before_utc)
    return outgoing, incoming


def phase_of(query: dict[str, str]) -> str:
    phase = query.get("ca_rotation_phase") or "finish"
    if phase not in PHASES:  # the schema's enum says the same; kept for direct callers
        raise TfextError.of(
            Code.INVALID_VALUE, "query.ca_rotation_phase", f"expected one of {', '.join(PHASES)}"
        )
    return phase


def _holder(key, cas: tuple[x509.Certificate, ...]) -> x509.Certificate | None:
    """The CA of `cas` whose key `key` is, or None."""
    return next((c for c in cas if keys.public_key_matches(key, c.public_key())), None)


def given_bundle(cas: list[x509.Certificate], key, phase: str | None, where: str) -> Bundle[x509.Certificate]:
    """Which CA of a user's bundle signs, checked against the phase (None: no phase was said, as for
    identity and ingress, which follow the bundle they are given). The caller has checked its size
    (`check_size`) before checking each CA."""
    if len(cas) == 1:
        if phase is not None and len(trusted(phase)) == MAX_BUNDLE:
            raise TfextError.of(
                Code.BUNDLE_PHASE,
                where,
                f"holds one CA, but phase {phase} needs a bundle of two: the outgoing and the incoming CA "
                f"(this one has key id {key_id(cas[0])}). Put both in the file (the incoming CA is the one "
                'that starts later), or set ca_rotation.phase = "finish" if no rotation is under way',
            )
        return Bundle(cas[0], None, phase)
    if phase is not None and len(trusted(phase)) == 1:
        raise TfextError.of(Code.BUNDLE_PHASE, where, _two_cas_in_finish(cas, key, where))
    if phase is None and key is None:
        # identity and ingress: a bundle from the kube module, signing CA first; its order is kept
        return Bundle(cas[0], cas[1])
    outgoing, incoming = by_age(cas, where)
    part = {OUTGOING: outgoing, INCOMING: incoming}
    if key is not None:
        holder = _holder(key, (outgoing, incoming))
        if holder is None:
            raise TfextError.of(
                Code.KEY_MISMATCH, where, "the CA private key belongs to neither CA of the bundle"
            )
        if phase is not None and holder is not part[signer(phase)]:
            which = signer(phase)
            held = other_part(which)
            raise TfextError.of(
                Code.BUNDLE_PHASE,
                where,
                f"the CA key is the {held} CA's (key id {key_id(holder)}), but in phase {phase} the {which} "
                f"CA signs: give the {which} CA's key (key id {key_id(part[which])}), or, if these files "
                f'are where the rotation is, set ca_rotation.phase = "{phase_signed_by(held)}"',
            )
        signing = holder
    else:
        signing = part[signer(phase)]
    return Bundle(signing, incoming if signing is outgoing else outgoing, phase)


def _two_cas_in_finish(cas: list[x509.Certificate], key, where: str) -> str:
    """Why two CAs do not fit phase finish, and which phase these files are in: the key given says it; with
    no key, the two phases a two-CA file can be in."""
    head = "holds two CAs, but phase finish trusts only the incoming one"
    try:
        outgoing, incoming = by_age(cas, where)
    except TfextError:
        return f"{head}: keep only the CA that signs the leaves"
    ids = f"outgoing CA key id {key_id(outgoing)}, incoming CA key id {key_id(incoming)}"
    holder = _holder(key, (outgoing, incoming)) if key is not None else None
    if holder is outgoing:
        return (
            f"{head} ({ids}). The CA key is the outgoing CA's, so a rotation is starting: set "
            'ca_rotation.phase = "trust" (in "reissue" the incoming CA signs, with its own key)'
        )
    if holder is incoming:
        return (
            f"{head} ({ids}). The CA key is the incoming CA's: set ca_rotation.phase = "
            '"reissue" while leaves are issued again by it, and to finish, drop the outgoing CA from the file'
        )
    return (
        f'{head} ({ids}). Set ca_rotation.phase = "trust" while the leaves are still signed by the outgoing '
        'CA, "reissue" once every leaf is signed by the incoming CA; to finish, drop the outgoing CA from '
        "the file"
    )


def check_leaf_phase(bundle: Bundle[x509.Certificate], issuer: x509.Certificate, phase: str | None) -> str:
    """An error detail when a leaf issued by `issuer` (`issuer_of`) does not fit the phase, else "": once the
    incoming CA signs, a leaf of the other CA is still to be issued again."""
    incoming_signs = phase is not None and signer(phase) == INCOMING
    if incoming_signs and bundle.other is not None and issuer is bundle.other:
        return (
            f"is signed by the outgoing CA, but in phase {phase} every leaf is signed by the incoming CA: "
            f"issue it again with the incoming CA (key id {key_id(bundle.signing)}; the outgoing CA that "
            f"signed it has key id {key_id(bundle.other)}), or, while any leaf is still the outgoing CA's, "
            'keep ca_rotation.phase = "trust"'
        )
    return ""
