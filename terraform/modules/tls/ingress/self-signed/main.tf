# ingress TLS, self-signed flavor: the Tectonic Ingress default certificate for base_address, signed by
# the CA given (Tectonic passed the kube CA).

module "certs" {
  source = "../../internal/issue"

  settings = {
    plain_inputs = local.plain_inputs # variables.tf.json, as issuing and ca_hash (the CA that signs)

    program = concat(var.tfext_command, ["ingress-self-signed"])
    query = merge(local.issuing, {
      base_address = var.base_address
    })
    csr_paths            = var.csr_paths
    key_dir              = var.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  certs  = { ingress = sha256(jsonencode([local.issuing, var.base_address, local.ca_hash])) }
  signer = { cert_pem = var.ca_cert_pem, key_pem = var.ca_key_pem, key_path = var.ca_key_path }
}

locals {
  ca_cert_pem = var.ca_cert_pem
  certs       = module.certs.stage.certs
}
