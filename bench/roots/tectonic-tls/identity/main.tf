# identity/self-signed: dex's gRPC server and the console's client certificate, signed by the kube CA.
terraform {
  required_providers {
    tls = { source = "hashicorp/tls" }
  }
}

variable "ca_cert_pem" { type = string }
variable "ca_key_alg" { type = string }
variable "ca_key_pem" {
  type      = string
  sensitive = true
}
variable "validity_period" { type = number }

locals {
  usage = { server = ["server_auth"], client = ["client_auth"] }
}

resource "tls_private_key" "leaf" {
  for_each  = local.usage
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "tls_cert_request" "leaf" {
  for_each        = local.usage
  private_key_pem = tls_private_key.leaf[each.key].private_key_pem
  subject {
    common_name = "tectonic-identity-api.tectonic-system.svc.cluster.local"
  }
}

resource "tls_locally_signed_cert" "leaf" {
  for_each              = local.usage
  cert_request_pem      = tls_cert_request.leaf[each.key].cert_request_pem
  ca_private_key_pem    = var.ca_key_pem
  ca_cert_pem           = var.ca_cert_pem
  validity_period_hours = var.validity_period
  allowed_uses          = each.value
}

output "server_cert_pem" { value = tls_locally_signed_cert.leaf["server"].cert_pem }
output "server_key_pem" {
  value     = tls_private_key.leaf["server"].private_key_pem
  sensitive = true
}
output "client_cert_pem" { value = tls_locally_signed_cert.leaf["client"].cert_pem }
output "client_key_pem" {
  value     = tls_private_key.leaf["client"].private_key_pem
  sensitive = true
}
