output "stages" {
  description = "The CA stages this phase keeps, for a generating flavor's `module \"ca\"` for_each: generation => { signing (it signs in this phase), salt (what its certificate's hash adds for its generation) }. Known at plan; empty for a flavor given its CAs."
  value       = local.stages
}

output "signing" {
  description = "The generation whose CA signs in this phase: the key of its stage."
  value       = local.signing
}

output "bundle_pem" {
  description = "The CAs to trust, signing CA first: one certificate outside a rotation, two during one."
  value       = local.bundle_pem
}

output "certificates" {
  description = "Certificate name => facts, with chains_to (the name of the CA each leaf chains to: ca, ca_incoming or ca_outgoing). Every CA has an entry."
  # A map: every certificate's facts have one shape (internal/issue), and an object's type would be
  # spelled out in the state beside its value, one attribute per certificate. Made as tfext/catalog.py's
  # as_map() makes the module outputs over the nodes: tomap() of the whole compares every certificate's
  # facts with every other's (~1 s of a 1000-node plan).
  value = tomap(merge([for g in values({ for k, v in local.certificates : substr(sha256(k), 0, 2) => { (k) = v }... }) : tomap(merge(g...))]...))
}

output "state" {
  description = "{ generation, phase, signing_ca, trusted_cas }: the phase and the SHA-256 fingerprints of the CA that signs and of every CA trusted."
  value = {
    generation  = local.generation
    phase       = local.phase
    signing_ca  = local.fingerprints.ca
    trusted_cas = values(local.fingerprints)
  }

  precondition {
    condition     = length(local.broken) == 0
    error_message = join("\n", local.broken)
  }
}

output "order_error" {
  description = "\"\" when the rotation setting follows the one in state; else the message that fails the plan. Known before any CA stage: pass it to each stage's guard."
  value       = local.order_error
}

output "first_plan" {
  description = "Whether this is the plan that first applies this module (its lineage record is new): known at plan, and read from that record alone, so a caller can decide what its for_each depends on without a cycle through the certificates."
  value       = local.fresh
}
