# ingress TLS, user-provided flavor: the user's ingress certificate and key, checked against the CA
# (output as ca_cert_pem) and, when base_address is set, its host; then passed through unchanged.

module "given" {
  source = "../../internal/verify"

  program = concat(var.tfext_command, ["ingress-user-provided"])
  query = {
    ca_cert_path         = var.ca_cert_pem_path
    ingress_cert_path    = var.cert_pem_path
    ingress_key_path     = var.key_pem_path
    base_address         = var.base_address
    renewal_window_hours = tostring(var.renewal_window_hours)
  }
  generating_inputs = {
    ca_cert_pem     = var.ca_cert_pem
    ca_key_alg      = var.ca_key_alg
    validity_period = var.validity_period
    key_algorithm   = var.key_algorithm
    key_format      = var.key_format
    key_dir         = var.key_dir
    csr_paths       = var.csr_paths
    ca_key_path     = var.ca_key_path
  }
  ignored_ca_key = var.ca_key_pem != null
  slots          = ["ca", "ingress"]
}

locals {
  ca_cert_pem = module.given.ca_bundle_pem
  certs       = { for name, c in module.given.certs : name => c if name != "ca" }
}
