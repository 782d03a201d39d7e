output "certs" {
  description = "Slot name => { cert_pem, key_pem (sensitive), key_alg, info }."
  value       = local.certs
}

output "warnings" {
  description = "Non-fatal findings (e.g. a certificate inside the renewal window)."
  value       = local.warnings
}
