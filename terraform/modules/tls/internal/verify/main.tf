# User-provided material: checked by the program on every plan (so a bad file fails the plan before
# anything is deployed), then passed through unchanged. The program returns certificates and the paths
# of key files it checked, never key text: a data source's result sits in state unmarked, so the keys
# are read here, with file(), straight into sensitive values.

locals {
  # Run as given, but the default `tfext` through a shell that says what to do when it is not on PATH
  # (TFEXT-E094): Terraform's own error for that is 30 lines that never name the fix.
  run = var.program[0] != "tfext" ? var.program : concat(
    ["sh", "-c", "command -v tfext >/dev/null 2>&1 || { echo \"tfext $1: TFEXT-E094 the tfext command is not on PATH, so Terraform cannot run its programs. In the shell that runs terraform: eval \\\"\\$(<your tfext checkout>/.venv/bin/tfext env)\\\" (README: Your own root module), or set the module's tfext_command to the command's full path.\" >&2; exit 127; }; exec tfext \"$@\"", "tfext"], slice(var.program, 1, length(var.program)),
  )
}

data "external" "verify" {
  program = local.run
  query   = var.query
}

locals {
  result = data.external.verify.result
  certs = {
    for name in var.slots : name => {
      cert_pem = local.result["${name}_cert_pem"]
      key_pem  = lookup(local.result, "${name}_key_path", "") != "" ? sensitive(file(local.result["${name}_key_path"])) : sensitive("")
      key_path = lookup(local.result, "${name}_key_path", "")
      key_alg  = lookup(local.result, "${name}_key_alg", "")
      # The generating flavors' facts (internal/issue): given files are never issued for a node's CSR.
      info = merge({ key_from_csr = false }, jsondecode(local.result["${name}_info"]))
    }
  }
  # The second CA of a rotation's bundle, when the CA file holds two (certs.ca is the one that signs).
  ca_other = lookup(local.result, "ca_other_info", "") == "" ? null : {
    cert_pem = local.result.ca_other_cert_pem
    info     = merge({ key_from_csr = false }, jsondecode(local.result.ca_other_info))
  }
  ca_bundle_pem = contains(var.slots, "ca") ? join("", concat([local.certs.ca.cert_pem], local.ca_other == null ? [] : [local.ca_other.cert_pem])) : ""
  # Each warning names its certificate by module and role: "TFEXT-E043 kube/apiserver certificate ...".
  kind     = split("-", var.program[length(var.program) - 1])[0]
  warnings = [for w in jsondecode(local.result.warnings) : replace(w, "/^(TFEXT-E[0-9]+) /", "$1 ${local.kind}/")]
  ignored  = sort([for name, value in var.generating_inputs : name if value != null])
}

check "provided_certificates" {
  assert {
    condition     = length(local.warnings) == 0
    error_message = join("\n", local.warnings)
  }
}

# Swapping a generating flavor for this one is `source` plus the *_path inputs: the generating inputs
# are accepted and ignored, and said so here, at plan time, without failing. Two asserts, because a
# message may not name anything derived from the sensitive ca_key_pem.
check "ignored_inputs" {
  assert {
    condition     = length(local.ignored) == 0
    error_message = "TFEXT-E054 ${local.kind}/user-provided ignores ${join(", ", local.ignored)}: the given files decide what they set. Delete those lines to silence this."
  }
  assert {
    condition     = !var.ignored_ca_key
    error_message = "TFEXT-E054 ${local.kind}/user-provided ignores ca_key_pem: it signs nothing (the given files are checked against ca_cert_pem_path). Delete that line to silence this."
  }
}
