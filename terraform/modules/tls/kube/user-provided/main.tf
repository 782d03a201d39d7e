# kube TLS, user-provided flavor: the user's files, checked against the same role profiles that the
# self-signed flavor issues with, then passed through unchanged. Without ca_key_pem_path the CA key
# outputs exist and are empty (Tectonic's flavor lacked them, so swapping it in broke every caller).

module "given" {
  source = "../../internal/verify"

  program = concat(var.tfext_command, ["kube-user-provided"])
  query = {
    ca_cert_path         = var.ca_cert_pem_path
    ca_key_path          = var.ca_key_pem_path
    apiserver_cert_path  = var.apiserver_cert_pem_path
    apiserver_key_path   = var.apiserver_key_pem_path
    kubelet_cert_path    = var.kubelet_cert_pem_path
    kubelet_key_path     = var.kubelet_key_pem_path
    kube_apiserver_url   = var.kube_apiserver_url
    service_cidr         = var.service_cidr
    cluster_domain       = var.cluster_domain
    dns_names            = jsonencode(var.apiserver_extra_dns_names)
    ip_addresses         = jsonencode(var.apiserver_extra_ip_addresses)
    renewal_window_hours = tostring(var.renewal_window_hours)
    ca_rotation_phase    = var.ca_rotation.phase
  }
  generating_inputs = {
    ca_cert_pem     = var.ca_cert_pem
    ca_key_alg      = var.ca_key_alg
    validity_period = var.validity_period
    key_algorithm   = var.key_algorithm
    key_format      = var.key_format
  }
  ignored_ca_key = var.ca_key_pem != null
  slots          = ["ca", "apiserver", "kubelet"]
}

module "rotation" {
  source = "../../internal/rotation"

  kind     = "kube"
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
