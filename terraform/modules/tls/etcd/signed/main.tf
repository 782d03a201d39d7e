# etcd TLS, "signed" flavor, in one of three modes. Generate (self_signed = true): the etcd CA and the
# server, peer and client certificates. Sign (self_signed = false with etcd_ca_key_path): the same
# certificates, signed by the given etcd CA. External (self_signed = false, no CA key): an external
# etcd's CA and client pair, checked and passed through; server and peer outputs are empty.

locals {
  not_given   = ["", "/dev/null"]
  ca_cert     = contains(local.not_given, var.etcd_ca_cert_path) ? "" : var.etcd_ca_cert_path
  ca_key      = contains(local.not_given, var.etcd_ca_key_path) ? "" : var.etcd_ca_key_path
  client_cert = contains(local.not_given, var.etcd_client_cert_path) ? "" : var.etcd_client_cert_path
  client_key  = contains(local.not_given, var.etcd_client_key_path) ? "" : var.etcd_client_key_path
  mode        = var.self_signed ? "generate" : (local.ca_key != "" ? "sign" : "external")
  program     = concat(var.tfext_command, ["etcd-signed"])

  # What shapes the certificates; a change re-issues exactly the certificates it shapes.
  issuing = {
    validity_period = tostring(var.validity_period)
    key_algorithm   = var.key_algorithm
    key_format      = var.key_format
  }
  names = {
    dns_names    = jsonencode(var.etcd_cert_dns_names)
    ip_addresses = jsonencode(var.etcd_cert_ip_addresses)
    service_cidr = var.service_cidr
  }
  given_ca = {
    ca_cert_path = local.mode == "sign" ? local.ca_cert : ""
    ca_key_path  = local.mode == "sign" ? local.ca_key : ""
  }
  # A missing file still gets a hash here, so that tfext (not a Terraform function) reports it.
  given_ca_hash = [for p in values(local.given_ca) : try(filesha256(p), "none:${p}")]
}

module "ca" {
  source = "../../internal/issue"
  count  = local.mode == "external" ? 0 : 1

  program              = local.program
  query                = merge(local.issuing, local.names, local.given_ca)
  certs                = { ca = sha256(jsonencode([local.issuing, local.given_ca_hash])) }
  co_issued            = ["server", "peer", "client"]
  renewal_window_hours = var.renewal_window_hours
}

locals {
  ca_hash = local.mode == "external" ? "" : sha256(module.ca[0].certs.ca.cert_pem)
}

module "certs" {
  source = "../../internal/issue"
  count  = local.mode == "external" ? 0 : 1

  program = local.program
  query = merge(local.issuing, local.names, {
    ca_cert_pem = module.ca[0].certs.ca.cert_pem
    ca_key_pem  = module.ca[0].certs.ca.key_pem
  })
  certs = {
    server = sha256(jsonencode([local.issuing, local.names, local.ca_hash]))
    peer   = sha256(jsonencode([local.issuing, local.names, local.ca_hash]))
    client = sha256(jsonencode([local.issuing, local.ca_hash]))
  }
  upstream             = module.ca[0].co_issued
  renewal_window_hours = var.renewal_window_hours
}

module "external" {
  source = "../../internal/verify"
  count  = local.mode == "external" ? 1 : 0

  program = local.program
  query = {
    ca_cert_path         = local.ca_cert
    client_cert_path     = local.client_cert
    client_key_path      = local.client_key
    renewal_window_hours = tostring(var.renewal_window_hours)
  }
  slots = ["ca", "client"]
}

locals {
  certs = merge(
    try(module.ca[0].certs, {}),
    try(module.certs[0].certs, {}),
    try(module.external[0].certs, {}),
  )
}
