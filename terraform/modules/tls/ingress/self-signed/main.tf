# ingress TLS, self-signed flavor: the Tectonic Ingress default certificate for base_address, signed by
# the CA given (Tectonic passed the kube CA).

locals {
  issuing = {
    validity_period = tostring(var.validity_period)
    key_algorithm   = var.key_algorithm
    key_format      = var.key_format
  }
}

module "certs" {
  source = "../../internal/issue"

  program = concat(var.tfext_command, ["ingress-self-signed"])
  query = merge(local.issuing, {
    base_address = var.base_address
    ca_cert_pem  = var.ca_cert_pem
    ca_key_pem   = var.ca_key_pem
  })
  certs                = { ingress = sha256(jsonencode([local.issuing, var.base_address, sha256(var.ca_cert_pem)])) }
  renewal_window_hours = var.renewal_window_hours
}

locals {
  ca_cert_pem = var.ca_cert_pem
  certs       = module.certs.certs
}
