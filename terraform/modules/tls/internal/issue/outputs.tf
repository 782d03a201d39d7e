output "certs" {
  description = "Slot name => { cert_pem, key_pem (sensitive), key_alg, info }."
  value       = local.certs

  precondition {
    condition     = length(local.key_dir_missing) == 0
    error_message = "TFEXT-E073 ${join(", ", local.key_dir_missing)}: the key is in a key directory (its record names the file, as tfext move-keys or key_dir left it), and this module has no key_dir. Set key_dir on the module to that directory (docs/upgrading.md)."
  }
  precondition {
    condition     = length(local.key_file_problems) == 0
    error_message = "TFEXT-E074 ${join(", ", local.key_file_problems)}: the key file is missing, or is not the one issued with its certificate (its SHA-256 differs). Nothing is issued again on its own: restore the file from your backup of the key directory, or issue that certificate anew with `terraform apply -replace=<its issued marker>` (`terraform state pull | tfext heal` names it)."
  }
  precondition {
    condition     = length(local.incomplete) == 0
    error_message = "TFEXT-E050 ${join(", ", local.incomplete)}: no certificate or no key is kept for it (an apply that issued it was stopped twice, or a key lost under tfext 0.4 or earlier, which kept it apart from its certificate). Run `terraform state pull | tfext heal` and then the one command it prints: it issues that certificate anew."
  }
}

output "co_issued" {
  description = "Stage name => what this stage's run issued for that stage (var.co_issued), when it ran in this plan: pass it as that stage's `upstream`."
  # Each stage gets its own slots' answers only: handing every stage the whole run (every node's
  # certificates to each node's stage) made a first plan quadratic in the nodes.
  value = {
    for stage, slots in var.co_issued : stage => {
      issuing = local.issuing
      public = merge({}, [
        for slot in slots : {
          for field in local.answer_fields : "${slot}_${field}" => local.issue_result["${slot}_${field}"]
          if can(local.issue_result["${slot}_${field}"])
        }
      ]...)
      keys = sensitive({ for slot in slots : slot => lookup(local.issue_result, "${slot}_key_pem", "") })
    }
  }
}

output "issued_now" {
  description = "Slots this plan issues (known at plan time): a new or replaced marker, or a healing run."
  value       = concat(tolist(local.new_slots), tolist(local.heal_slots))
}
