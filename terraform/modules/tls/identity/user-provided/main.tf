# identity TLS, user-provided flavor: the user's gRPC server and client pairs, checked against the CA
# they must chain to (which becomes the ca_cert_pem output), then passed through unchanged.

module "given" {
  source = "../../internal/verify"

  program = concat(var.tfext_command, ["identity-user-provided"])
  query = {
    ca_cert_path         = var.ca_cert_pem_path
    server_cert_path     = var.server_cert_pem_path
    server_key_path      = var.server_key_pem_path
    client_cert_path     = var.client_cert_pem_path
    client_key_path      = var.client_key_pem_path
    identity_dns_names   = jsonencode(var.identity_dns_names)
    renewal_window_hours = tostring(var.renewal_window_hours)
  }
  generating_inputs = local.ignored_inputs # variables.tf.json: identity/self-signed's inputs, accepted and ignored
  ignored_ca_key    = local.ignored_ca_key
  slots             = ["ca", "server", "client"]
}

locals {
  ca_cert_pem = module.given.ca_bundle_pem
  certs       = { for name, c in module.given.certs : name => c if name != "ca" }
}
