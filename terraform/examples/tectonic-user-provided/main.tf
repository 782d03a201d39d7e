# The same wiring as ../tectonic with every module switched to its user-provided flavor: only the
# `source` lines and the flavor-specific inputs (file paths) differ. outputs.tf and cluster.tf are
# symbolic links to ../tectonic's: the outputs are the same by contract, and so are the cluster's names.

terraform {
  required_version = ">= 1.5"
}

locals {
  tls        = var.tls_dir
  api_url    = var.kube_apiserver_url != "" ? var.kube_apiserver_url : "https://${var.cluster_name}-api.${var.base_domain}:443"
  etcd_names = length(var.etcd_dns_names) > 0 ? var.etcd_dns_names : [for i in range(3) : "${var.cluster_name}-etcd-${i}.${var.base_domain}"]
  console    = "${var.cluster_name}.${var.base_domain}"
}

module "kube_certs" {
  source = "../../modules/tls/kube/user-provided"

  ca_cert_pem_path        = "${local.tls}/ca.crt"
  ca_key_pem_path         = "${local.tls}/ca.key"
  apiserver_cert_pem_path = "${local.tls}/apiserver.crt"
  apiserver_key_pem_path  = "${local.tls}/apiserver.key"
  kubelet_cert_pem_path   = "${local.tls}/kubelet.crt"
  kubelet_key_pem_path    = "${local.tls}/kubelet.key"
  # Beyond Tectonic's layout, read when present (`tfext write-assets` writes them).
  apiserver_kubelet_client_cert_pem_path = fileexists("${local.tls}/apiserver-kubelet-client.crt") ? "${local.tls}/apiserver-kubelet-client.crt" : ""
  apiserver_kubelet_client_key_pem_path  = "${local.tls}/apiserver-kubelet-client.key"
  admin_cert_pem_path                    = fileexists("${local.tls}/admin.crt") ? "${local.tls}/admin.crt" : ""
  admin_key_pem_path                     = "${local.tls}/admin.key"
  kube_apiserver_url                     = local.api_url
  service_cidr                           = var.service_cidr
  renewal_window_hours                   = var.renewal_window_hours
  ca_rotation                            = var.kube_ca_rotation
}

module "etcd_certs" {
  source = "../../modules/tls/etcd/user-provided"

  etcd_ca_crt_pem_path     = "${local.tls}/etcd-client-ca.crt"
  etcd_server_crt_pem_path = "${local.tls}/etcd/server.crt"
  etcd_server_key_pem_path = "${local.tls}/etcd/server.key"
  etcd_peer_crt_pem_path   = "${local.tls}/etcd/peer.crt"
  etcd_peer_key_pem_path   = "${local.tls}/etcd/peer.key"
  etcd_client_crt_pem_path = "${local.tls}/etcd-client.crt"
  etcd_client_key_pem_path = "${local.tls}/etcd-client.key"
  etcd_cert_dns_names      = local.etcd_names
  etcd_cert_ip_addresses   = var.etcd_ip_addresses
  service_cidr             = var.service_cidr
  renewal_window_hours     = var.renewal_window_hours
  ca_rotation              = var.etcd_ca_rotation
}

module "identity_certs" {
  source = "../../modules/tls/identity/user-provided"

  ca_cert_pem_path     = "${local.tls}/identity-ca.crt"
  server_cert_pem_path = "${local.tls}/identity-server.crt"
  server_key_pem_path  = "${local.tls}/identity-server.key"
  client_cert_pem_path = "${local.tls}/identity-client.crt"
  client_key_pem_path  = "${local.tls}/identity-client.key"
  renewal_window_hours = var.renewal_window_hours
}

module "ingress_certs" {
  source = "../../modules/tls/ingress/user-provided"

  ca_cert_pem_path     = "${local.tls}/ingress-ca.crt"
  cert_pem_path        = "${local.tls}/ingress.crt"
  key_pem_path         = "${local.tls}/ingress.key"
  base_address         = local.console
  renewal_window_hours = var.renewal_window_hours
}
