# Tectonic's cluster TLS, wired as Tectonic's platforms wired it: three CAs - etcd, kube and the ingress
# CA, which (as in Tectonic) is the kube CA - and the four TLS modules. Swap any flavor by changing its
# `source` alone (see ../tectonic-user-provided).

terraform {
  required_version = ">= 1.5"
}

locals {
  api_url    = var.kube_apiserver_url != "" ? var.kube_apiserver_url : "https://${var.cluster_name}-api.${var.base_domain}:443"
  etcd_names = length(var.etcd_dns_names) > 0 ? var.etcd_dns_names : [for i in range(3) : "${var.cluster_name}-etcd-${i}.${var.base_domain}"]
  console    = "${var.cluster_name}.${var.base_domain}"
}

module "kube_certs" {
  source = "../../modules/tls/kube/self-signed"

  kube_apiserver_url   = local.api_url
  service_cidr         = var.service_cidr
  validity_period      = var.validity_period
  key_algorithm        = var.key_algorithm
  renewal_window_hours = var.renewal_window_hours
  ca_rotation          = var.kube_ca_rotation
  key_dir              = var.key_dir
}

module "etcd_certs" {
  source = "../../modules/tls/etcd/signed"

  self_signed            = true
  etcd_cert_dns_names    = local.etcd_names
  etcd_cert_ip_addresses = var.etcd_ip_addresses
  service_cidr           = var.service_cidr
  validity_period        = var.validity_period
  key_algorithm          = var.key_algorithm
  renewal_window_hours   = var.renewal_window_hours
  ca_rotation            = var.etcd_ca_rotation
  key_dir                = var.key_dir
}

module "identity_certs" {
  source = "../../modules/tls/identity/self-signed"

  ca_cert_pem          = module.kube_certs.ca_cert_pem
  ca_key_pem           = module.kube_certs.ca_key_pem
  ca_key_alg           = module.kube_certs.ca_key_alg
  validity_period      = var.validity_period
  key_algorithm        = var.key_algorithm
  renewal_window_hours = var.renewal_window_hours
  ca_key_path          = module.kube_certs.ca_key_path # its file, where the kube module keeps its keys in one
  key_dir              = var.key_dir
}

module "ingress_certs" {
  source = "../../modules/tls/ingress/self-signed"

  base_address         = local.console
  ca_cert_pem          = module.kube_certs.ca_cert_pem
  ca_key_pem           = module.kube_certs.ca_key_pem
  ca_key_alg           = module.kube_certs.ca_key_alg
  validity_period      = var.validity_period
  key_algorithm        = var.key_algorithm
  renewal_window_hours = var.renewal_window_hours
  ca_key_path          = module.kube_certs.ca_key_path # its file, where the kube module keeps its keys in one
  key_dir              = var.key_dir
}
