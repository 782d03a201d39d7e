# etcd TLS, user-provided flavor: the user's files, checked against the same role profiles that the
# signed flavor issues with (key matches, chains to the CA, EKUs, required SANs, validity, strength),
# then passed through unchanged.

module "given" {
  source = "../../internal/verify"

  program = concat(var.tfext_command, ["etcd-user-provided"])
  query = {
    ca_cert_path         = var.etcd_ca_crt_pem_path
    server_cert_path     = var.etcd_server_crt_pem_path
    server_key_path      = var.etcd_server_key_pem_path
    peer_cert_path       = var.etcd_peer_crt_pem_path
    peer_key_path        = var.etcd_peer_key_pem_path
    client_cert_path     = var.etcd_client_crt_pem_path
    client_key_path      = var.etcd_client_key_pem_path
    dns_names            = jsonencode(var.etcd_cert_dns_names)
    ip_addresses         = jsonencode(var.etcd_cert_ip_addresses)
    service_cidr         = var.service_cidr
    renewal_window_hours = tostring(var.renewal_window_hours)
    ca_rotation_phase    = var.ca_rotation.phase
  }
  generating_inputs = {
    self_signed           = var.self_signed
    validity_period       = var.validity_period
    key_algorithm         = var.key_algorithm
    key_format            = var.key_format
    etcd_ca_cert_path     = var.etcd_ca_cert_path
    etcd_ca_key_path      = var.etcd_ca_key_path
    etcd_client_cert_path = var.etcd_client_cert_path
    etcd_client_key_path  = var.etcd_client_key_path
  }
  slots = ["ca", "server", "peer", "client"]
}

module "rotation" {
  source = "../../internal/rotation"

  kind     = "etcd"
  rotation = var.ca_rotation
  signing  = { cert_pem = module.given.certs.ca.cert_pem, info = module.given.certs.ca.info }
  other    = module.given.ca_other
  leaves   = { for name, c in module.given.certs : name => c.info if name != "ca" }
}

locals {
  certs         = module.given.certs
  ca_bundle_pem = module.rotation.bundle_pem
  ca_rotation   = module.rotation.state
  certificates  = module.rotation.certificates
}
