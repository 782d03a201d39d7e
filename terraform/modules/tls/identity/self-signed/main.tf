# identity TLS (Tectonic Identity = dex, gRPC), self-signed flavor: the gRPC server certificate and the
# console's client certificate, signed by the CA given (the kube CA).

module "certs" {
  source = "../../internal/issue"

  settings = {
    plain_inputs = local.plain_inputs # variables.tf.json, as issuing and ca_hash (the CA that signs)

    program = concat(var.tfext_command, ["identity-self-signed"])
    query = merge(local.issuing, {
      identity_dns_names = jsonencode(var.identity_dns_names)
    })
    csr_paths            = var.csr_paths
    key_dir              = var.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  certs = {
    server = sha256(jsonencode([local.issuing, var.identity_dns_names, local.ca_hash]))
    client = sha256(jsonencode([local.issuing, local.ca_hash]))
  }
  signer = { cert_pem = var.ca_cert_pem, key_pem = var.ca_key_pem, key_path = var.ca_key_path }
}

locals {
  ca_cert_pem = var.ca_cert_pem
  certs       = module.certs.stage.certs
}
