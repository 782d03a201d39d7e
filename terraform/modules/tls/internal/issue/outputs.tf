# One output, not one for each of its parts: Terraform matches each instance's outputs against every
# planned output of the module call's instances, so with one stage per node each extra output cost a
# plan a term in the square of the nodes (docs/performance.md).
output "stage" {
  description = <<-EOT
    certs: slot => { cert_pem, key_pem (sensitive), key_path, key_alg, info }.
    co_issued: stage name => what this stage's run issued for that stage (var.settings.co_issued), when it ran in
    this plan (else empty): pass it as that stage's `upstream`, or the variable's default where it has no entry.
    issued_now: slots this plan issues (known at plan time): a new or replaced marker, or a healing run.
  EOT
  value = {
    certs = local.checked.certs
    # Each stage gets its own slots' answers only: handing every stage the whole run (every node's
    # certificates to each node's stage) made a first plan quadratic in the nodes. Only in a plan that
    # issues: every reference to this module builds this output again, sensitive maps and all (with one
    # entry per node, ~0.5 s of a 1000-node quiet plan); a stage finds no entry: nothing was issued for it.
    co_issued = {
      for stage, slots in var.settings.co_issued : stage => {
        issuing = local.this_plan.issuing
        public = merge({}, [
          for slot in slots : {
            # What the program answers for each slot besides its key (`<slot>_<field>`), as the records read it.
            for field in ["cert_pem", "info", "key_alg", "key_file", "key_path", "key_sha256", "csr"] : "${slot}_${field}" => local.answer.public["${slot}_${field}"]
            if can(local.answer.public["${slot}_${field}"])
          }
        ]...)
        keys = sensitive({ for slot in slots : slot => lookup(local.answer.public, "${slot}_key_pem", "") })
      } if local.this_plan.issuing
    }
    issued_now = concat(tolist(local.markers.new), tolist(local.heal.slots))
  }

  precondition {
    condition = length(local.found.key_dir_missing) == 0 && length(local.checked.key_file_problems) == 0 && length(local.checked.incomplete) == 0
    error_message = join("\n", compact([
      length(local.found.key_dir_missing) == 0 ? "" : "TFEXT-E073 ${join(", ", local.found.key_dir_missing)}: the key is in a key directory (its record names the file, as tfext move-keys or key_dir left it), and this module has no key_dir. Set key_dir on the module to that directory (docs/upgrading.md).",
      length(local.checked.key_file_problems) == 0 ? "" : "TFEXT-E074 ${join(", ", local.checked.key_file_problems)}: the key file is missing, or is not the one issued with its certificate (its SHA-256 differs). Nothing is issued again on its own: restore the file from your backup of the key directory, or issue that certificate anew with `terraform apply -replace=<its issued marker>` (`terraform state pull | tfext heal` names it).",
      length(local.checked.incomplete) == 0 ? "" : "TFEXT-E050 ${join(", ", local.checked.incomplete)}: no certificate or no key is kept for it (an apply that issued it was stopped twice, or a key lost under tfext 0.4 or earlier, which kept it apart from its certificate). Run `terraform state pull | tfext heal` and then the one command it prints: it issues that certificate anew.",
    ]))
  }
}
