"""CA bundles and the phases of a CA rotation (docs/ca-rotation.md).

While a CA is rotated, two CAs of the same name are trusted at once: the outgoing one and the incoming
one. A CA bundle is their certificates in one PEM text, the signing CA first. The phases:

- trust:   both CAs are trusted; the outgoing CA still signs, so the leaves stay as they are;
- reissue: both CAs are trusted; the incoming CA signs, and every leaf is issued again by it;
- finish:  only the incoming CA is trusted (and signs). Outside a rotation a module is in "finish".

The generating flavors order their phases with Terraform preconditions (terraform/modules/tls/kube/...);
this module holds what a program checks of a bundle it is given: which CA is which, and whether the
bundle and the leaves fit the phase the user says the rotation is in.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tfext import certinfo, keys
from tfext.errors import Code, TfextError
from tfext.verify import key_id, signed_by

PHASES = ("trust", "reissue", "finish")
MAX_BUNDLE = 2  # the outgoing and the incoming CA


@dataclass(frozen=True)
class Bundle:
    """The CAs of a bundle: `signing` signs now; `other` is the second CA of a rotation (or None)."""

    signing: x509.Certificate
    other: x509.Certificate | None

    @property
    def cas(self) -> list[x509.Certificate]:
        return [self.signing] if self.other is None else [self.signing, self.other]

    def pem(self) -> str:
        """The bundle as the modules output it: the signing CA first."""
        return "".join(c.public_bytes(Encoding.PEM).decode("ascii") for c in self.cas)

    def issuer_of(self, leaf: x509.Certificate) -> x509.Certificate:
        """The CA of the bundle that issued `leaf`: by key id, then by name and signature; else the
        signing CA, against which the leaf's problems are then reported."""
        return issuer_in(self.cas, leaf) or self.signing


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
    """(outgoing, incoming) of a two-CA bundle: the incoming CA is the one that starts later."""
    first, second = cas
    if first.not_valid_before_utc == second.not_valid_before_utc:
        raise TfextError.of(
            Code.BUNDLE_PHASE,
            where,
            "its two CAs start at the same second, so the incoming one cannot be told from the outgoing one",
        )
    return (first, second) if first.not_valid_before_utc < second.not_valid_before_utc else (second, first)


def phase_of(query: dict[str, str]) -> str:
    phase = query.get("ca_rotation_phase") or "finish"
    if phase not in PHASES:  # the schema's enum says the same; kept for direct callers
        raise TfextError.of(
            Code.INVALID_VALUE, "query.ca_rotation_phase", f"expected one of {', '.join(PHASES)}"
        )
    return phase


def given_bundle(cas: list[x509.Certificate], key, phase: str | None, where: str) -> Bundle:
    """Which CA of a user's bundle signs, checked against the phase (None: no phase was said, as for
    identity and ingress, which follow the bundle they are given). The caller has checked its size
    (`check_size`) before checking each CA."""
    if len(cas) == 1:
        if phase in ("trust", "reissue"):
            raise TfextError.of(
                Code.BUNDLE_PHASE,
                where,
                f"holds one CA, but phase {phase} needs a bundle of two: the outgoing and the incoming CA "
                f"(this one has key id {key_id(cas[0])}). Put both in the file (the incoming CA is the one "
                'that starts later), or set ca_rotation.phase = "finish" if no rotation is under way',
            )
        return Bundle(cas[0], None)
    if phase == "finish":
        raise TfextError.of(Code.BUNDLE_PHASE, where, _two_cas_in_finish(cas, key, where))
    if phase is None and key is None:
        # identity and ingress: a bundle from the kube module, signing CA first; its order is kept
        return Bundle(cas[0], cas[1])
    outgoing, incoming = by_age(cas, where)
    if key is not None:
        holder = next((c for c in (outgoing, incoming) if keys.public_key_matches(key, c.public_key())), None)
        if holder is None:
            raise TfextError.of(
                Code.KEY_MISMATCH, where, "the CA private key belongs to neither CA of the bundle"
            )
        wanted = outgoing if phase == "trust" else incoming
        if phase is not None and holder is not wanted:
            which = "outgoing" if wanted is outgoing else "incoming"
            right = "trust" if holder is outgoing else "reissue"
            raise TfextError.of(
                Code.BUNDLE_PHASE,
                where,
                f"the CA key is the {'incoming' if which == 'outgoing' else 'outgoing'} CA's (key id "
                f"{key_id(holder)}), but in phase {phase} the {which} CA signs: give the {which} CA's key "
                f"(key id {key_id(wanted)}), or, if these files are where the rotation is, set "
                f'ca_rotation.phase = "{right}"',
            )
        signing = holder
    else:
        signing = outgoing if phase == "trust" else incoming
    return Bundle(signing, incoming if signing is outgoing else outgoing)


def _two_cas_in_finish(cas: list[x509.Certificate], key, where: str) -> str:
    """Why two CAs do not fit phase finish, and which phase these files are in: the key given says it; with
    no key, the two phases a two-CA file can be in."""
    head = "holds two CAs, but phase finish trusts only the incoming one"
    try:
        outgoing, incoming = by_age(cas, where)
    except TfextError:
        return f"{head}: keep only the CA that signs the leaves"
    ids = f"outgoing CA key id {key_id(outgoing)}, incoming CA key id {key_id(incoming)}"
    holder = None
    if key is not None:
        holder = next((c for c in (outgoing, incoming) if keys.public_key_matches(key, c.public_key())), None)
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


def check_leaf_phase(bundle: Bundle, issuer: x509.Certificate, phase: str | None) -> str:
    """An error detail when a leaf issued by `issuer` (`Bundle.issuer_of`) does not fit the phase, else ""."""
    if phase in ("reissue", "finish") and bundle.other is not None and issuer is bundle.other:
        return (
            f"is signed by the outgoing CA, but in phase {phase} every leaf is signed by the incoming CA: "
            f"issue it again with the incoming CA (key id {key_id(bundle.signing)}; the outgoing CA that "
            f"signed it has key id {key_id(bundle.other)}), or, while any leaf is still the outgoing CA's, "
            'keep ca_rotation.phase = "trust"'
        )
    return ""
