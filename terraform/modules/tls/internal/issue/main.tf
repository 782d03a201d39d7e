# One issuing stage (docs/design.md): each certificate is generated once, in the plan that creates or
# replaces its `issued` marker, and kept in state where Terraform never prints its key. Every later plan
# reuses what was kept, and no program runs at all.
#
#   issued[slot]   marker: plantimestamp() of the plan that created it; replaced when the spec changes
#   data.issue     the program, counted in only when some marker (or a stage upstream) is new
#   captured[slot] the certificate's public half, and the plan that captured it
#   data.heal      the program again, only when a capture was made without its certificate (an apply
#                  that failed or was stopped between a marker and its issue: the next apply heals it)
#   sealed[slot]   the certificate, and its key as a sensitive element of triggers_replace, the one
#                  place Terraform keeps its mark in every plan, diff and `terraform show`

resource "terraform_data" "issued" {
  for_each = var.certs

  input            = plantimestamp()
  triggers_replace = each.value

  lifecycle {
    ignore_changes = [input]

    # The program refuses this too, but only when it runs; here it fails every plan, and a variable's
    # validation would print the value (a key pasted into the wrong input) in its message.
    precondition {
      condition     = length(local.pem_misplaced) == 0
      error_message = "TFEXT-E028 ${join(", ", local.pem_misplaced)}: PEM text given where a name, address or setting is expected (not shown). Pass certificates and keys only to the *_pem and *_path inputs."
    }
  }
}

locals {
  kind = split("-", var.program[length(var.program) - 1])[0]

  plain_query   = { for k, v in var.query : k => v if !endswith(k, "_pem") }
  pem_misplaced = sort([for k, v in local.plain_query : k if strcontains(v, "-----BEGIN")])

  # A marker's input equals this plan's timestamp only in the plan that creates or replaces it, and that
  # is known at plan time: on a plan with nothing to issue the program does not even run.
  new_slots = [for name, _ in var.certs : name if terraform_data.issued[name].input == plantimestamp()]
  # Slots a stage upstream already issued in this plan, in its own run (a new CA and its first leaves).
  upstream = var.upstream.issuing
  issuing  = !local.upstream && length(local.new_slots) > 0

  issue_query = merge(
    var.query,
    { plan_time = plantimestamp() },
    { for name, _ in var.certs : "${name}_issued_at" => terraform_data.issued[name].input },
    { for name in var.co_issued : "${name}_issued_at" => plantimestamp() if length(local.new_slots) > 0 },
  )
  issue_result = try(data.external.issue[0].result, {})
  fresh        = local.upstream ? var.upstream.public : local.issue_result
  fresh_keys   = local.upstream ? var.upstream.keys : local.run_keys.issue
}

data "external" "issue" {
  count = local.issuing ? 1 : 0

  program = var.program
  query   = local.issue_query
}

resource "terraform_data" "captured" {
  for_each = var.certs

  input = {
    at       = plantimestamp()
    cert_pem = lookup(local.fresh, "${each.key}_cert_pem", "")
    info     = lookup(local.fresh, "${each.key}_info", "")
    key_alg  = lookup(local.fresh, "${each.key}_key_alg", "")
  }

  # Replaced whenever its marker is (a new marker id is unknown at plan). triggers_replace rather than
  # replace_triggered_by: the latter misses some captures when one apply has several -replace options
  # (hashicorp/terraform#37831).
  triggers_replace = terraform_data.issued[each.key].id

  lifecycle {
    ignore_changes = [input]
  }
}

locals {
  # A capture made in this plan while its marker is old: the apply that made the marker failed or was
  # stopped before the program answered. Known at plan time, so the healing run is counted in exactly
  # then, and the capture holds no certificate to lose.
  heal_slots = [
    for name, _ in var.certs : name
    if try(terraform_data.captured[name].input.at, "") == plantimestamp() && !contains(local.new_slots, name) && !local.upstream
  ]
}

data "external" "heal" {
  count = length(local.heal_slots) > 0 ? 1 : 0

  program = var.program
  query = merge(
    var.query,
    { plan_time = plantimestamp() },
    { for name in local.heal_slots : "${name}_issued_at" => plantimestamp() },
  )
}

locals {
  healed = try(data.external.heal[0].result, {})
  # Each run's keys by slot. A key the program read from a file (a CA to sign with) comes back as the
  # file's path, never as text, and is read here.
  run_keys = sensitive({
    for run, result in { issue = local.issue_result, heal = local.healed } : run => {
      for name, _ in var.certs : name => (
        lookup(result, "${name}_key_path", "") != "" ? file(result["${name}_key_path"]) :
        lookup(result, "${name}_key_pem", "")
      )
    }
  })
}

resource "terraform_data" "sealed" {
  for_each = var.certs

  input = {
    role     = "${local.kind}/${each.key}"
    cert_pem = contains(local.heal_slots, each.key) ? lookup(local.healed, "${each.key}_cert_pem", "") : terraform_data.captured[each.key].input.cert_pem
    info     = contains(local.heal_slots, each.key) ? lookup(local.healed, "${each.key}_info", "") : terraform_data.captured[each.key].input.info
    key_alg  = contains(local.heal_slots, each.key) ? lookup(local.healed, "${each.key}_key_alg", "") : terraform_data.captured[each.key].input.key_alg
  }

  # The key lives here, marked sensitive: a replace, update or destroy diff and `terraform show` print
  # "(sensitive value)", where they print a terraform_data's input and output in clear. tomap, not an
  # object: with an object, ignoring the key element swallowed a marker change too.
  triggers_replace = tomap({
    marker = terraform_data.captured[each.key].id
    key = sensitive(
      contains(local.heal_slots, each.key) ? local.run_keys.heal[each.key] :
      try(terraform_data.captured[each.key].input.at, "") == plantimestamp() ? local.fresh_keys[each.key] :
      # A state written by tfext 0.1 kept the key in the capture; it is sealed here on the first apply.
      try(terraform_data.captured[each.key].input.key_pem, "")
    )
  })

  lifecycle {
    ignore_changes = [input, triggers_replace["key"]]

    postcondition {
      condition     = self.input.cert_pem != ""
      error_message = "TFEXT-E050 ${local.kind}/${each.key}: no certificate was issued, because the apply that should have issued it stopped twice. Run `terraform state pull | tfext heal` and then the one command it prints."
    }
  }
}

locals {
  certs = {
    for name, c in terraform_data.sealed : name => {
      cert_pem = c.input.cert_pem
      key_pem  = c.triggers_replace["key"]
      key_alg  = c.input.key_alg
      info     = jsondecode(c.input.info)
    }
  }
  expiring = {
    for name, c in local.certs : name => "${local.kind}/${name} (${c.info.not_after})"
    if timecmp(c.info.not_after, timeadd(plantimestamp(), "${var.renewal_window_hours}h")) < 0
  }
}

check "certificate_expiry" {
  assert {
    condition     = length([for name, _ in local.expiring : name if !var.certs_are_cas]) == 0
    error_message = "TFEXT-E043 ${local.kind} certificates expire within ${var.renewal_window_hours} hours: ${join(", ", values(local.expiring))}. Rotate them (README: Rotation)."
  }
  # A CA takes every certificate it signed with it: the way out is a CA rotation, not a re-issue.
  assert {
    condition     = length([for name, _ in local.expiring : name if var.certs_are_cas]) == 0
    error_message = "TFEXT-E059 ${local.kind}/ca expires within ${var.renewal_window_hours} hours: ${join(", ", values(local.expiring))}, and every certificate it signed with it. Start a CA rotation: ca_rotation = { generation = N + 1, phase = \"trust\" } (docs/ca-rotation.md)."
  }
}

check "keys_sealed" {
  assert {
    condition     = alltrue([for c in terraform_data.captured : !can(c.input.key_pem)])
    error_message = "TFEXT-E052 this state still holds private keys where Terraform prints them (written by tfext 0.1). They are sealed now; to drop the old copies run `tfext migrate-state` (docs/upgrading.md)."
  }
}
