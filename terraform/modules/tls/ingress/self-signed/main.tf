# ingress TLS, self-signed flavor: the Tectonic Ingress default certificate for base_address, signed by
# the CA given (Tectonic passed the kube CA).

locals {
  issuing = {
    validity_period = tostring(var.validity_period)
    key_algorithm   = var.key_algorithm
    key_format      = var.key_format
  }
  # The CA that signs is the first certificate of ca_cert_pem (a bundle of two while the kube CA is
  # rotated, docs/ca-rotation.md): only a change of it re-issues. One CA keeps its hash from before.
  ca_hash = sha256(length(regexall("-----BEGIN CERTIFICATE-----", var.ca_cert_pem)) > 1 ? regex("(?s)^.*?-----END CERTIFICATE-----\n?", var.ca_cert_pem) : var.ca_cert_pem)
}

module "certs" {
  source = "../../internal/issue"

  plain_inputs = { ca_key_alg = var.ca_key_alg } # accepted for compatibility, never read

  program = concat(var.tfext_command, ["ingress-self-signed"])
  query = merge(local.issuing, {
    base_address = var.base_address
    ca_cert_pem  = var.ca_cert_pem
    ca_key_pem   = var.ca_key_pem
  })
  certs                = { ingress = sha256(jsonencode([local.issuing, var.base_address, local.ca_hash])) }
  renewal_window_hours = var.renewal_window_hours
}

locals {
  ca_cert_pem = var.ca_cert_pem
  certs       = module.certs.certs
}
