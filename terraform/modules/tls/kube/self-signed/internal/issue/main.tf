# The issue-time gate (docs/design.md): each certificate is generated once, in the plan that creates or
# replaces its `issued` marker, and captured in state; every later plan reuses the capture and the
# program answers without generating keys.

resource "terraform_data" "issued" {
  for_each = var.certs

  input            = plantimestamp()
  triggers_replace = each.value

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  # A marker's input equals this plan's timestamp only in the plan that creates or replaces it, and that
  # is known at plan time: on a plan with nothing to issue the program does not even run.
  issuing = anytrue([for name, _ in var.certs : terraform_data.issued[name].input == plantimestamp()])
  result  = try(data.external.issue[0].result, {})
}

data "external" "issue" {
  count = local.issuing ? 1 : 0

  program = var.program
  query = merge(
    var.query,
    { plan_time = plantimestamp() },
    { for name, _ in var.certs : "${name}_issued_at" => terraform_data.issued[name].input },
  )
}

resource "terraform_data" "captured" {
  for_each = var.certs

  input = {
    cert_pem = lookup(local.result, "${each.key}_cert_pem", "")
    key_pem  = sensitive(lookup(local.result, "${each.key}_key_pem", ""))
    info     = lookup(local.result, "${each.key}_info", "")
    key_alg  = lookup(local.result, "${each.key}_key_alg", "")
  }

  # Replaced whenever its marker is (a new marker id is unknown at plan). triggers_replace rather than
  # replace_triggered_by: the latter misses some captures when one apply has several -replace options
  # (hashicorp/terraform#37831).
  triggers_replace = terraform_data.issued[each.key].id

  lifecycle {
    ignore_changes = [input]

    postcondition {
      condition     = self.input.cert_pem != ""
      error_message = "TFEXT-E050 ${each.key}: the capture holds a placeholder, not a certificate. Rotate by replacing the certificate's marker, not its capture: terraform apply -replace='MODULE.terraform_data.issued[\"${each.key}\"]' (README: Rotation)."
    }
  }
}

locals {
  certs = {
    for name, c in terraform_data.captured : name => {
      cert_pem = c.input.cert_pem
      key_pem  = c.input.key_pem
      key_alg  = c.input.key_alg
      info     = jsondecode(c.input.info)
    }
  }
  expiring = [
    for name, c in local.certs : "${name} (${c.info.not_after})"
    if timecmp(c.info.not_after, timeadd(plantimestamp(), "${var.renewal_window_hours}h")) < 0
  ]
}

check "certificate_expiry" {
  assert {
    condition     = length(local.expiring) == 0
    error_message = "TFEXT-E043 certificates expire within ${var.renewal_window_hours} hours: ${join(", ", local.expiring)}. Rotate them (README: Rotation)."
  }
}
