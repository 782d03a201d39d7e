"""The cryptographic half of the engine: issue, adopt and verify. Imported only when there is work.

A key read from a user's file is never returned: the result names the file (`<slot>_key_path`, made
absolute) and the module reads it with `file()` into a sensitive value. Terraform keeps a data source's
result in state unmarked, so a returned key would show in `terraform show`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tfext import certinfo, keys
from tfext.errors import Code, TfextError
from tfext.files import read_file, show_path
from tfext.issue import KeyPair, issue
from tfext.profiles import Inputs
from tfext.programs.inputs import Options, path
from tfext.programs.slots import Module, Slot
from tfext.rotation import Bundle, check_leaf_phase, check_size, given_bundle, issuer_of, phase_of
from tfext.verify import (
    Given,
    Report,
    check_ca,
    check_leaf,
    key_id,
    load_given,
    parse_certificates,
)


@dataclass
class Work:
    """One run's work for a module: the slots to issue (`issue_ca`, `issue_leaves`), the CA to adopt
    (`adopt_ca`), the files to verify (`verify_ca`, `verify_leaves`)."""

    module: Module
    query: dict[str, str]
    inputs: Inputs
    opts: Options
    now: dt.datetime

    def produce(self, issuing: list[Slot], given: list[Slot]) -> dict[str, str]:
        """The result for the slots to issue (the CA adopted instead where the query gives one) and the slots
        whose files to verify. Every problem of the files is reported at once; issuing stops at the first."""
        report = Report()
        result: dict[str, str] = {}
        ca_slot = self.module.ca
        signer: KeyPair | None = None
        trust: Bundle | None = None
        ca_unusable = False
        if ca_slot in issuing:
            signer, result = self.adopt_ca(report) if self._adopts_ca else self.issue_ca()
            trust = Bundle(signer.cert)
        elif ca_slot in given:
            trust, result = self.verify_ca(report)
            ca_unusable = trust is None
        leaves = [s for s in issuing if s is not ca_slot]
        if leaves:
            result |= self.issue_leaves(leaves, signer if signer is not None else self._inline_signer(report))
        leaves = [s for s in given if s is not ca_slot]
        if leaves:
            if trust is None and not ca_unusable:
                trust = self._inline_trust()
            result |= self.verify_leaves(leaves, trust, report)
        report.raise_errors()
        if given:
            result["warnings"] = json_text([w.render() for w in report.warnings])
        return result

    # --- issue --------------------------------------------------------------------------------------

    def issue_ca(self) -> tuple[KeyPair, dict[str, str]]:
        """A new self-signed CA for the module."""
        slot = self.module.ca
        pair, cert_text, key_text = self._issue(slot, None)
        return pair, self._emit(slot, pair.cert, cert_text, key_text, pair.key)

    def issue_leaves(self, slots: list[Slot], signer: KeyPair) -> dict[str, str]:
        """A new key and certificate for each slot (a certificate alone for a slot given a CSR)."""
        result: dict[str, str] = {}
        for slot in slots:
            pair, cert_text, key_text = self._issue(slot, signer)
            result |= self._emit(slot, pair.cert, cert_text, key_text)
        return result

    def _issue(self, slot: Slot, issuer: KeyPair | None) -> tuple[KeyPair, str, str]:
        """A new key and certificate for `slot` (self-signed without an issuer), with their PEM texts; for a
        slot given a CSR (`<slot>_csr_path`), a certificate for the CSR's key, and no key text."""
        csr_path = path(self.query, f"{slot.name}_csr_path")
        if csr_path and issuer is not None:
            from tfext.csr import load_request
            from tfext.issue import sign

            public_key = load_request(csr_path, f"{slot.name} CSR ({show_path(csr_path)})")
            cert = sign(
                slot.profile,
                slot.inputs(self.inputs),
                public_key,
                validity_hours=self.opts.validity_hours,
                issuer=issuer,
                now=self.now,
            )
            return KeyPair(cert, None), _cert_pem(cert), ""
        pair = issue(
            slot.profile,
            slot.inputs(self.inputs),
            key_algorithm=self.opts.key_algorithm,
            validity_hours=self.opts.validity_hours,
            issuer=issuer,
            now=self.now,
        )
        return pair, _cert_pem(pair.cert), keys.to_pem(pair.key, self.opts.key_format)

    # --- adopt --------------------------------------------------------------------------------------

    @property
    def _adopts_ca(self) -> bool:
        """The query gives the module's CA (inline PEM, or files): it is adopted, not issued."""
        return bool(self.query.get("ca_cert_pem") or path(self.query, "ca_cert_path"))

    def adopt_ca(self, report: Report) -> tuple[KeyPair, dict[str, str]]:
        """Take the CA the user gave, after checking it: inline PEM (its key given or in a key file), or files
        (the result names the key file instead of holding the key)."""
        slot = self.module.ca
        if self.query.get("ca_cert_pem"):
            pair = self._inline_signer(report)
            if self._inline_trust().other is not None:
                raise TfextError.of(
                    Code.TOO_MANY_CERTS,
                    "ca_cert_pem",
                    "holds two CAs; the CA this module adopts is one certificate (a rotation's bundle "
                    "goes to the modules that sign with the kube CA, not back into it)",
                )
            key_text = self.query.get("ca_key_pem", "")
            return pair, self._emit(slot, pair.cert, self.query["ca_cert_pem"], key_text, pair.key)
        ca = self._load(slot, chain_allowed=False)
        if ca.key is None:
            raise TfextError.of(
                Code.MISSING_KEY,
                "query.ca_key_path",
                "signing needs the CA key as well as its certificate",
            )
        pair = KeyPair(ca.cert, ca.key)
        check_ca(pair, self._where(slot), report, self.now, self.opts.renewal_window)
        report.raise_errors()
        return pair, self._emit(slot, pair.cert, ca.cert_text, "", pair.key, self._key_file(slot))

    # --- verify -------------------------------------------------------------------------------------

    def verify_ca(self, report: Report) -> tuple[Bundle | None, dict[str, str]]:
        """The user's CA file, checked, and its result; the bundle is None when the CA cannot be used to judge
        the leaves (their own problems are still reported: judging them against a broken CA would only add
        noise). Every file is read even when one fails, so that one run reports every problem."""
        slot = self.module.ca
        ca = self._gather(report, slot, chain_allowed=True)
        trust = self._given_bundle(report, ca) if ca is not None else None
        if trust is None:
            return None, {}
        # One CA passes through as given; the two of a rotation are re-encoded, signing CA first.
        text = ca.cert_text if trust.other is None else _cert_pem(trust.signing)
        result = self._emit(slot, trust.signing, text, "", ca.key, self._key_file(slot))
        result |= self._bundle_facts(trust)
        return (None if report.errors else trust), result

    def verify_leaves(self, slots: list[Slot], trust: Bundle | None, report: Report) -> dict[str, str]:
        """Each slot's files checked against its profile and the CA that issued it (of `trust`), and passed
        through unchanged."""
        result: dict[str, str] = {}
        for slot in slots:
            leaf = self._gather(report, slot, chain_allowed=True)
            if leaf is None:
                continue
            issuer = issuer_of(trust, leaf.cert) if trust is not None else None
            check_leaf(
                slot.profile,
                slot.inputs(self.inputs),
                leaf,
                issuer,
                report,
                self.now,
                self.opts.renewal_window,
            )
            if trust is not None and (detail := check_leaf_phase(trust, issuer, self.phase)):
                report.error(Code.BUNDLE_PHASE, slot.name, detail)
            result |= self._emit(slot, leaf.cert, leaf.cert_text, "", key_file=self._key_file(slot))
        return result

    # --- the CA to sign with or to check against ----------------------------------------------------

    def _inline_signer(self, report: Report) -> KeyPair:
        """The CA to sign with, given inline: the first certificate of `ca_cert_pem` (a CA bundle while a
        CA is rotated, signing CA first) and `ca_key_pem`."""
        bundle = self._inline_trust()
        key_pem = self.query.get("ca_key_pem", "")
        key_path = path(self.query, "ca_key_path")
        if not key_pem and key_path:  # the CA's key file in a key directory: never its text in the query
            where = f"CA key ({show_path(key_path)})"
            key_pem = read_file(key_path, where).decode("ascii", "replace")
        if not key_pem:
            raise TfextError.of(
                Code.MISSING_KEY,
                "query.ca_key_pem",
                f"the CA to sign with ('{bundle.signing.subject.rfc4514_string()}', key id "
                f"{key_id(bundle.signing)}) came without its private key, given or kept in state, and "
                "signing needs it: pass the CA's key as ca_key_pem beside its certificate "
                "(module.kube_certs.ca_key_pem, or kube/user-provided's ca_key_pem_path); if this module "
                "generated the CA, its key is missing from state, and `terraform state pull | tfext heal` "
                "names what to issue again",
            )
        key = keys.load_private_key(key_pem, "ca_key_pem")
        pair = KeyPair(bundle.signing, key)
        if (
            bundle.other is not None
            and not keys.public_key_matches(key, bundle.signing.public_key())
            and keys.public_key_matches(key, bundle.other.public_key())
        ):
            raise TfextError.of(
                Code.SIGNING_CA_NOT_FIRST,
                "ca_cert_pem",
                "the CA key belongs to the second CA of the bundle; the CA that signs comes first",
            )
        check_ca(pair, "ca_cert_pem", report, self.now, self.opts.renewal_window)
        report.raise_errors()
        return pair

    def _inline_trust(self) -> Bundle:
        pem = self.query.get("ca_cert_pem", "")
        if not pem:
            raise TfextError.of(
                Code.MISSING_KEY,
                "query.ca_cert_pem",
                "a CA certificate is needed to sign or to check against",
            )
        cas = parse_certificates(pem.encode("ascii", "replace"), "ca_cert_pem", chain_allowed=True)
        check_size(cas, "ca_cert_pem")
        return Bundle(cas[0], cas[1] if len(cas) > 1 else None)

    def _given_bundle(self, report: Report, ca: Given) -> Bundle | None:
        """The user's CA file: one CA, or the two of a rotation, each checked as a CA; the key (when
        given) must belong to the one that signs in this phase. None when the CA cannot be used."""
        where = self._where(self.module.ca)
        before = len(report.errors)
        try:
            check_size(ca.chain, where)
        except TfextError as exc:
            report.errors.extend(exc.problems)
            return None
        for i, cert in enumerate(ca.chain, 1):
            if len(ca.chain) == 1:
                pair = KeyPair(cert, ca.key) if ca.key is not None else cert
                check_ca(pair, where, report, self.now, self.opts.renewal_window)
            else:  # the key is matched against the bundle below
                check_ca(cert, f"{where} certificate #{i}", report, self.now, self.opts.renewal_window)
        if len(report.errors) > before:
            return None
        try:
            return given_bundle(ca.chain, ca.key, self.phase, where)
        except TfextError as exc:
            report.errors.extend(exc.problems)
            return None

    @property
    def phase(self) -> str | None:
        """The rotation phase the user says (kube and etcd user-provided); None where the module follows
        the bundle it is given."""
        return phase_of(self.query) if "ca_rotation_phase" in self.query else None

    def _bundle_facts(self, bundle: Bundle) -> dict[str, str]:
        """The second CA of a rotation's bundle (empty outside one): `ca_cert_pem` is the signing CA."""
        other = bundle.other
        return {
            "ca_other_cert_pem": _cert_pem(other) if other is not None else "",
            "ca_other_info": self._facts(certinfo.describe(other)) if other is not None else "",
        }

    # --- helpers ----------------------------------------------------------------------------------

    def _where(self, slot: Slot) -> str:
        return f"{slot.name} certificate ({path(self.query, f'{slot.name}_cert_path')})"

    def _gather(self, report: Report, slot: Slot, *, chain_allowed: bool) -> Given | None:
        """Load a slot's files; on failure, add the problems to `report` and return None."""
        try:
            return self._load(slot, chain_allowed=chain_allowed)
        except TfextError as exc:
            report.errors.extend(exc.problems)
            return None

    def _load(self, slot: Slot, *, chain_allowed: bool) -> Given:
        key_path = path(self.query, f"{slot.name}_key_path")
        return load_given(
            slot.name,
            path(self.query, f"{slot.name}_cert_path"),
            key_path or None,
            chain_allowed=chain_allowed,
        )

    def _key_file(self, slot: Slot) -> str:
        """The absolute path of a slot's key file, or "" when none was given."""
        key_path = path(self.query, f"{slot.name}_key_path")
        return os.path.realpath(key_path) if key_path else ""

    def _facts(self, facts: dict[str, object]) -> str:
        """`<slot>_info`: the list the modules of 0.5.0 on ask for (`facts_as`), ~230 bytes of state a
        certificate less; the object otherwise (modules of an earlier release, run by this program)."""
        return certinfo.info_text(facts) if self.query.get("facts_as") == "list" else json_text(facts)

    def _emit(
        self,
        slot: Slot,
        cert: x509.Certificate,
        cert_text: str,
        key_text: str,
        key=None,
        key_file: str = "",
    ) -> dict[str, str]:
        out = {
            f"{slot.name}_cert_pem": cert_text,
            f"{slot.name}_key_pem": key_text,
            f"{slot.name}_key_path": key_file,
            f"{slot.name}_info": self._facts(certinfo.describe(cert)),
        }
        key_dir = path(self.query, "key_dir")
        if key_text and key_dir:  # a key we hold: to its own file, never into the result
            from tfext.keydir import write_key

            name, digest = write_key(key_dir, self.module.name, slot.name, cert.serial_number, key_text)
            out |= {
                f"{slot.name}_key_pem": "",
                f"{slot.name}_key_file": name,
                f"{slot.name}_key_sha256": digest,
            }
        if path(self.query, f"{slot.name}_csr_path") and not key_text and slot is not self.module.ca:
            # Issued for a CSR: its key is the requester's, never ours. The facts say so too (the modules'
            # `certificates` output), so that a tool reading outputs expects no key for it.
            out[f"{slot.name}_csr"] = "1"
            out[f"{slot.name}_info"] = self._facts(certinfo.describe(cert) | {"key_from_csr": True})
        if slot is self.module.ca:
            out["ca_key_alg"] = keys.family(key) if key is not None else ""
        return out


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(Encoding.PEM).decode("ascii")


def json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
