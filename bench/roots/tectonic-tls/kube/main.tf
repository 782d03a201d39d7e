# kube/self-signed: the kube CA (unless one is given), the apiserver and the shared kubelet client.
terraform {
  required_providers {
    tls = { source = "hashicorp/tls" }
  }
}

variable "ca_cert_pem" { type = string }
variable "ca_key_alg" { type = string }
variable "ca_key_pem" { type = string }
variable "kube_apiserver_url" { type = string }
variable "service_cidr" { type = string }
variable "validity_period" { type = number }

locals {
  generate_ca = var.ca_cert_pem == ""
  ca_cert_pem = local.generate_ca ? tls_self_signed_cert.ca[0].cert_pem : var.ca_cert_pem
  ca_key_pem  = local.generate_ca ? tls_private_key.ca[0].private_key_pem : var.ca_key_pem
  ca_key_alg  = local.generate_ca ? tls_private_key.ca[0].algorithm : var.ca_key_alg
  leaves = {
    apiserver = {
      cn    = "kube-apiserver"
      o     = "kube-master"
      dns   = [regex("^https?://([^:/]+)", var.kube_apiserver_url)[0], "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"]
      ips   = [cidrhost(var.service_cidr, 1)]
      usage = ["key_encipherment", "digital_signature", "server_auth", "client_auth"]
    }
    kubelet = {
      cn    = "kubelet"
      o     = "system:masters"
      dns   = []
      ips   = []
      usage = ["key_encipherment", "digital_signature", "server_auth", "client_auth"]
    }
  }
}

resource "tls_private_key" "ca" {
  count     = local.generate_ca ? 1 : 0
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "tls_self_signed_cert" "ca" {
  count           = local.generate_ca ? 1 : 0
  private_key_pem = tls_private_key.ca[0].private_key_pem
  subject {
    common_name  = "kube-ca"
    organization = "bootkube"
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
    common_name  = each.value.cn
    organization = each.value.o
  }
  dns_names    = each.value.dns
  ip_addresses = each.value.ips
}

resource "tls_locally_signed_cert" "leaf" {
  for_each              = local.leaves
  cert_request_pem      = tls_cert_request.leaf[each.key].cert_request_pem
  ca_private_key_pem    = local.ca_key_pem
  ca_cert_pem           = local.ca_cert_pem
  validity_period_hours = var.validity_period
  allowed_uses          = each.value.usage
}

output "ca_cert_pem" { value = local.ca_cert_pem }
output "ca_key_alg" { value = local.ca_key_alg }
output "ca_key_pem" {
  value     = local.ca_key_pem
  sensitive = true
}
output "apiserver_cert_pem" { value = tls_locally_signed_cert.leaf["apiserver"].cert_pem }
output "apiserver_key_pem" {
  value     = tls_private_key.leaf["apiserver"].private_key_pem
  sensitive = true
}
output "kubelet_cert_pem" { value = tls_locally_signed_cert.leaf["kubelet"].cert_pem }
output "kubelet_key_pem" {
  value     = tls_private_key.leaf["kubelet"].private_key_pem
  sensitive = true
}
output "id" {
  value = sha256(join("", [local.ca_cert_pem, tls_locally_signed_cert.leaf["apiserver"].cert_pem, tls_locally_signed_cert.leaf["kubelet"].cert_pem]))
}
