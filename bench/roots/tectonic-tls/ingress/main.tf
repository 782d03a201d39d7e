# ingress/self-signed: the console's certificate, signed by the CA it is given (the kube CA).
terraform {
  required_providers {
    tls = { source = "hashicorp/tls" }
  }
}

variable "base_address" { type = string }
variable "ca_cert_pem" { type = string }
variable "ca_key_alg" { type = string }
variable "ca_key_pem" {
  type      = string
  sensitive = true
}
variable "validity_period" { type = number }

locals {
  host = split(":", var.base_address)[0]
}

resource "tls_private_key" "ingress" {
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "tls_cert_request" "ingress" {
  private_key_pem = tls_private_key.ingress.private_key_pem
  subject {
    common_name = local.host
  }
  dns_names = [local.host]
}

resource "tls_locally_signed_cert" "ingress" {
  cert_request_pem      = tls_cert_request.ingress.cert_request_pem
  ca_private_key_pem    = var.ca_key_pem
  ca_cert_pem           = var.ca_cert_pem
  validity_period_hours = var.validity_period
  allowed_uses          = ["key_encipherment", "digital_signature", "server_auth", "client_auth"]
}

output "ca_cert_pem" { value = var.ca_cert_pem }
output "cert_pem" { value = tls_locally_signed_cert.ingress.cert_pem }
output "key_pem" {
  value     = tls_private_key.ingress.private_key_pem
  sensitive = true
}
