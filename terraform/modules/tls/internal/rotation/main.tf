# A CA rotation's bookkeeping, shared by the CA-owning flavors (docs/ca-rotation.md):
#
#   trust     CAs of generations N-1 (signs) and N (incoming) are trusted; the leaves stay as they are
#   reissue   both are trusted; generation N signs, so every leaf is issued again
#   finish    only generation N is trusted; generation N-1 and its key leave state
#
# Terraform keeps no memory of a variable's last value, so the order of the phases is read from facts
# known at plan time: which CAs and leaves this plan issues (a marker created in this plan), whether the
# rotation setting changed in this plan, and whether this module is new.

locals {
  generation = var.rotation.generation
  phase      = var.rotation.phase
  # Named by role, not by generation: "ca" is always the CA that signs.
  other_name = local.phase == "trust" ? "ca_incoming" : "ca_outgoing"
  cas        = merge({ ca = var.signing }, var.other == null ? {} : { (local.other_name) = var.other })
  bundle_pem = join("", concat([var.signing.cert_pem], var.other == null ? [] : [var.other.cert_pem]))

  # Which CA each leaf chains to: its authority key id against each CA's subject key id. Certificates
  # issued before tfext recorded key ids have neither, and then match the one CA that also has none.
  certificates = merge(
    { for name, c in local.cas : name => merge(c.info, { chains_to = "" }) },
    {
      for name, info in var.leaves : name => merge(info, {
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
  count = var.order == null ? 0 : 1

  # The plan that first applied this module: a first apply issues everything and has nothing to order.
  input = plantimestamp()

  lifecycle {
    ignore_changes = [input]
  }
}

resource "terraform_data" "setting" {
  count = var.order == null ? 0 : 1

  # Replaced whenever ca_rotation changes, so `at` says whether it changed in this plan.
  input            = { generation = local.generation, phase = local.phase, at = plantimestamp() }
  triggers_replace = "${local.generation}/${local.phase}"

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  ordered    = var.order != null
  fresh      = local.ordered && try(terraform_data.lineage[0].input == plantimestamp(), true)
  changed    = local.ordered && try(terraform_data.setting[0].input.at == plantimestamp(), true)
  issued_cas = local.ordered ? var.order.issued_cas : []
  issued     = local.ordered ? concat([for g in var.order.issued_cas : "${var.kind}/ca (generation ${g})"], [for n in var.order.issued_leaves : "${var.kind}/${n}"]) : []
  setting    = "ca_rotation = { generation = ${local.generation}, phase = \"${local.phase}\" }"

  # Each rule: the condition that breaks it (known at plan time), and what to do instead.
  broken = !local.ordered ? [] : compact([
    var.order.given_ca && local.phase != "finish" ? "TFEXT-E058 ${var.kind}/ca: ${local.setting}, but this CA was given (ca_cert_pem): a generating flavor rotates only a CA it generated. Rotate a CA you own with the user-provided flavor and a two-CA file (docs/ca-rotation.md)." : "",
    contains(["trust", "reissue"], local.phase) && contains(local.issued_cas, tostring(local.generation - 1)) ? "TFEXT-E055 ${var.kind}/ca: ${local.setting}, but the CA to rotate from (generation ${local.generation - 1}) is not in state as it is, so this plan would issue it. A rotation starts at phase \"trust\" with the generation after the one in state, and keeps every other input as it is." : "",
    local.phase == "reissue" && contains(local.issued_cas, tostring(local.generation)) ? "TFEXT-E055 ${var.kind}/ca: ${local.setting} skips phase \"trust\": the incoming CA would be created in this apply and sign leaves that consumers do not trust yet. Apply phase = \"trust\" first, and restart the consumers as docs/ca-rotation.md says." : "",
    local.phase == "finish" && local.changed && !local.fresh && length(local.issued) > 0 ? "TFEXT-E055 ${var.kind}/ca: ${local.setting} would issue ${join(", ", local.issued)} in the same apply that stops trusting the outgoing CA, so consumers would refuse the certificates they hold. Apply the phases in order: \"trust\", then \"reissue\", then \"finish\"; change no other input in the same apply." : "",
  ])
}
