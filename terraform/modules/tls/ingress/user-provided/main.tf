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
  generating_inputs = local.ignored_inputs # variables.tf.json: ingress/self-signed's inputs, accepted and ignored
  ignored_ca_key    = local.ignored_ca_key
  slots             = ["ca", "ingress"]
}

locals {
  ca_cert_pem = module.given.ca_bundle_pem
  certs       = { for name, c in module.given.certs : name => c if name != "ca" }
}
