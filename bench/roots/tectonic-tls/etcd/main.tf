# etcd/signed with self_signed = true: the etcd CA, and the server, peer and client certificates.
terraform {
  required_providers {
    tls = { source = "hashicorp/tls" }
  }
}

variable "self_signed" { type = bool }
variable "etcd_cert_dns_names" { type = list(string) }
variable "service_cidr" { type = string }
variable "validity_period" { type = number }

locals {
  kube_etcd = ["*.kube-etcd.kube-system.svc.cluster.local", "kube-etcd-client.kube-system.svc.cluster.local"]
  hosts     = [cidrhost(var.service_cidr, 15), cidrhost(var.service_cidr, 20)]
  leaves = var.self_signed ? {
    server = {
      dns   = concat(var.etcd_cert_dns_names, ["localhost"], local.kube_etcd)
      ips   = concat(["127.0.0.1"], local.hosts)
      usage = ["key_encipherment", "server_auth"]
    }
    peer = {
      dns   = concat(var.etcd_cert_dns_names, local.kube_etcd)
      ips   = local.hosts
      usage = ["key_encipherment", "server_auth", "client_auth"]
    }
    client = {
      dns   = []
      ips   = []
      usage = ["key_encipherment", "client_auth"]
    }
  } : {}
}

resource "tls_private_key" "ca" {
  count     = var.self_signed ? 1 : 0
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "tls_self_signed_cert" "ca" {
  count           = var.self_signed ? 1 : 0
  private_key_pem = tls_private_key.ca[0].private_key_pem
  subject {
    common_name  = "etcd-ca"
    organization = "etcd"
  }
  is_ca_certificate     = true
  validity_period_hours = var.validity_period
  allowed_uses          = ["key_encipherment", "digital_signature", "cert_signing"]
}

resource "tls_private_key" "leaf" {
  for_each  = local.leaves
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "tls_cert_request" "leaf" {
  for_each        = local.leaves
  private_key_pem = tls_private_key.leaf[each.key].private_key_pem
  subject {
    common_name  = "etcd"
    organization = "etcd"
  }
  dns_names    = each.value.dns
  ip_addresses = each.value.ips
}

resource "tls_locally_signed_cert" "leaf" {
  for_each              = local.leaves
  cert_request_pem      = tls_cert_request.leaf[each.key].cert_request_pem
  ca_private_key_pem    = tls_private_key.ca[0].private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca[0].cert_pem
  validity_period_hours = var.validity_period
  allowed_uses          = each.value.usage
}

output "etcd_ca_crt_pem" { value = tls_self_signed_cert.ca[0].cert_pem }
output "etcd_server_crt_pem" { value = tls_locally_signed_cert.leaf["server"].cert_pem }
output "etcd_server_key_pem" {
  value     = tls_private_key.leaf["server"].private_key_pem
  sensitive = true
}
output "etcd_peer_crt_pem" { value = tls_locally_signed_cert.leaf["peer"].cert_pem }
output "etcd_peer_key_pem" {
  value     = tls_private_key.leaf["peer"].private_key_pem
  sensitive = true
}
output "etcd_client_crt_pem" { value = tls_locally_signed_cert.leaf["client"].cert_pem }
output "etcd_client_key_pem" {
  value     = tls_private_key.leaf["client"].private_key_pem
  sensitive = true
}
output "id" {
  value = sha256(join("", [for c in tls_locally_signed_cert.leaf : c.cert_pem]))
}
