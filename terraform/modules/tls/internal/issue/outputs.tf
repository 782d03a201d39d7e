output "certs" {
  description = "Slot name => { cert_pem, key_pem (sensitive), key_alg, info }."
  value       = local.certs
}
