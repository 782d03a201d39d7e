output "certs" {
  description = "Slot name => { cert_pem, key_pem (sensitive), key_alg, info }."
  value       = local.certs
}

output "warnings" {
  description = "Non-fatal findings (e.g. a certificate inside the renewal window)."
  value       = local.warnings
}

output "ca_other" {
  description = "The second CA of a rotation's two-CA file ({ cert_pem, info }: the incoming CA in trust, the outgoing one in reissue), else null."
  value       = local.ca_other
}

output "ca_bundle_pem" {
  description = "The CAs to trust, as the generating flavors give them: the CA file's CA, or its two CAs with the signing one first."
  value       = local.ca_bundle_pem
}
