# A CA rotation's bookkeeping, shared by the CA-owning flavors (docs/ca-rotation.md): which CA
# generations a generating flavor keeps and which one signs, the bundle to trust, which CA each leaf
# chains to, and the order of the phases.
#
#   trust     CAs of generations N-1 (signs) and N (incoming) are trusted; the leaves stay as they are
#   reissue   both are trusted; generation N signs, so every leaf is issued again
#   finish    only generation N is trusted; generation N-1 and its key leave state
#
# Terraform keeps no memory of a variable's last value, so the order of the phases is read from facts
# known at plan time: which CAs and leaves this plan issues (a marker created in this plan), whether the
# rotation setting changed in this plan, whether this module is new, and which of three marks moved:
# the last generation trusted, re-issued and finished. A phase moves its own mark and no other.

locals {
  generation = var.rotation.generation
  phase      = var.rotation.phase
  rotating   = contains(["trust", "reissue"], local.phase)
}

# --- the CA generations a generating flavor keeps -------------------------------------------------------
#
# Its `module "ca"` has one stage per generation this phase keeps (for_each = stages): generation 0 is
# the first CA; a rotation keeps the outgoing and the incoming generation side by side until "finish",
# which drops the outgoing one, and its key, from state. The outgoing CA signs in trust, the incoming one
# from reissue on. No CA is ever copied from one stage to another: an adopted copy would need a hash that
# is stable both before and after, and Terraform keeps no memory to build one.
locals {
  generations = !var.ordered ? [] : local.rotating ? [local.generation - 1, local.generation] : [local.generation]
  signing     = tostring(local.phase == "trust" ? local.generation - 1 : local.generation)
  other_stage = local.rotating ? tostring(local.phase == "trust" ? local.generation : local.generation - 1) : null
  # What a stage's hash adds for its generation: nothing for generation 0, which keeps the hash it had
  # before rotations existed.
  stages = { for g in local.generations : tostring(g) => { signing = tostring(g) == local.signing, salt = g == 0 ? [] : [g] } }
}

locals {
  signing_ca = var.certs.ca
  other      = !var.ordered ? var.other : local.other_stage == null ? null : var.cas[local.other_stage]
  leaves     = { for name, c in var.certs : name => c.info if name != "ca" }
  # Named by role, not by generation: "ca" is always the CA that signs.
  other_name = local.phase == "trust" ? "ca_incoming" : "ca_outgoing"
  cas        = merge({ ca = local.signing_ca }, local.other == null ? {} : { (local.other_name) = local.other })
  bundle_pem = join("", concat([local.signing_ca.cert_pem], local.other == null ? [] : [local.other.cert_pem]))

  # Which CA each leaf chains to: its authority key id against each CA's subject key id. Certificates
  # issued before tfext recorded key ids have neither, and then match the one CA that also has none.
  certificates = merge(
    { for name, c in local.cas : name => merge(c.info, { chains_to = "" }) },
    {
      for name, info in local.leaves : name => merge(info, {
        chains_to = try([
          for ca, c in local.cas : ca
          if lookup(c.info, "subject_key_id", "") == lookup(info, "authority_key_id", "")
        ][0], "")
      })
    },
  )
  fingerprints = { for name, c in local.cas : name => lookup(c.info, "sha256_fingerprint", "") }
}

# --- the order of the phases (generating flavors only) ---------------------------------------------

resource "terraform_data" "lineage" {
  count = var.ordered ? 1 : 0

  # The plan that first applied this module: a first apply issues everything and has nothing to order.
  input = plantimestamp()

  lifecycle {
    ignore_changes = [input]
  }
}

resource "terraform_data" "setting" {
  count = var.ordered ? 1 : 0

  # Replaced whenever ca_rotation changes, so `at` says whether it changed in this plan.
  input            = { generation = local.generation, phase = local.phase, at = plantimestamp() }
  triggers_replace = "${local.generation}/${local.phase}"

  lifecycle {
    ignore_changes = [input]
  }
}

# Where the rotation stands, as three generations: the last one trusted, the last one whose CA re-issued
# every leaf, and the last one finished (the only CA trusted). `trust N` moves the first (from N-1 to N),
# `reissue N` the second, `finish N` the third, and the two steps back move one back; no step moves two. These records are replaced when their
# mark moves, so a plan knows which moved; they do not depend on any CA stage, so a CA stage applied
# alone (-target) still checks them (`order_error`, each stage's guard).
locals {
  marks = {
    trusted  = local.generation
    reissued = contains(["reissue", "finish"], local.phase) ? local.generation : local.generation - 1
    finished = local.phase == "finish" ? local.generation : local.generation - 1
  }
  # The marks a phase may move: its own, going forward, and the one a step back undoes (back from
  # reissue to trust, or out of trust to the finished generation before).
  may_move = {
    trust   = ["trusted", "reissued"]
    reissue = ["reissued"]
    finish  = ["finished", "trusted"]
  }[local.phase]
  follows = {
    trust   = "phase = \"finish\" of generation ${local.generation - 1} (or step back from \"reissue\" of generation ${local.generation})"
    reissue = "phase = \"trust\" of generation ${local.generation}"
    finish  = "phase = \"reissue\" of generation ${local.generation} (or back out of \"trust\" of generation ${local.generation + 1})"
  }[local.phase]
}

resource "terraform_data" "mark" {
  for_each = var.ordered ? local.marks : {}

  input            = { at = plantimestamp() }
  triggers_replace = tostring(each.value)

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  ordered = var.ordered
  fresh   = local.ordered && try(terraform_data.lineage[0].input == plantimestamp(), true)
  changed = local.ordered && try(terraform_data.setting[0].input.at == plantimestamp(), true)
  moved   = [for name, m in terraform_data.mark : name if m.input.at == plantimestamp()]
  order_error = local.changed && !local.fresh && (length(local.moved) > 1 || length(setsubtract(local.moved, local.may_move)) > 0) ? join(" ", [
    "TFEXT-E055 ${var.kind}/ca: ${local.setting} may only follow ${local.follows}, and the rotation in state is elsewhere: this plan would change which generation was last ${join(" and last ", [for m in local.moved : replace(m, "reissued", "re-issued")])}.",
    "Phases go trust, reissue, finish, one apply each, and never back: run the phase that follows the one in state (docs/ca-rotation.md).",
    "If this plan only forgot the rotation variable, pass the ca_rotation the state is at.",
  ]) : ""
  issued_cas = local.ordered ? [for g, c in var.cas : g if c.issued] : []
  issued     = local.ordered ? concat([for g in local.issued_cas : "${var.kind}/ca (generation ${g})"], [for n in var.order.issued_leaves : "${var.kind}/${n}"]) : []
  setting    = "ca_rotation = { generation = ${local.generation}, phase = \"${local.phase}\" }"

  # Each rule: the condition that breaks it (known at plan time), and what to do instead.
  broken = !local.ordered ? [] : compact([
    var.order.given_ca && local.phase != "finish" ? "TFEXT-E058 ${var.kind}/ca: ${local.setting}, but this CA was given (ca_cert_pem): a generating flavor rotates only a CA it generated. Rotate a CA you own with the user-provided flavor and a two-CA file (docs/ca-rotation.md)." : "",
    local.fresh && local.phase != "finish" ? "TFEXT-E055 ${var.kind}/ca: ${local.setting}, but this workspace has no ${var.kind} CA yet (this is its first apply), so there is nothing to rotate. Start with phase = \"finish\" (the default ca_rotation) and rotate once the CA is deployed." : "",
    !local.fresh && contains(["trust", "reissue"], local.phase) && contains(local.issued_cas, tostring(local.generation - 1)) ? "TFEXT-E055 ${var.kind}/ca: ${local.setting}, but the CA to rotate from (generation ${local.generation - 1}) is not in state as it is, so this plan would issue it. A rotation starts at phase \"trust\" with the generation after the one in state, and keeps every other input as it is." : "",
    !local.fresh && local.phase == "reissue" && contains(local.issued_cas, tostring(local.generation)) ? "TFEXT-E055 ${var.kind}/ca: ${local.setting} skips phase \"trust\": the incoming CA would be created in this apply and sign leaves that consumers do not trust yet. Apply phase = \"trust\" first, and restart the consumers as docs/ca-rotation.md says." : "",
    local.phase == "finish" && local.changed && !local.fresh && length(local.issued) > 0 ? "TFEXT-E055 ${var.kind}/ca: ${local.setting} would issue ${join(", ", local.issued)} in the same apply that stops trusting the outgoing CA, so consumers would refuse the certificates they hold. Apply the phases in order: \"trust\", then \"reissue\", then \"finish\"; change no other input in the same apply." : "",
  ])
}
