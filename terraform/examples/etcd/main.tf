# The etcd TLS module on its own: an etcd CA, server, peer and client certificates.
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.5"
}

variable "etcd_dns_names" {
  description = "DNS names of the etcd members."
  type        = list(string)
  default     = ["etcd-0.example.com", "etcd-1.example.com", "etcd-2.example.com"]
}

variable "etcd_ip_addresses" {
  description = "IP addresses of the etcd members."
  type        = list(string)
  default     = ["10.0.0.10", "10.0.0.11", "10.0.0.12"]
}

variable "service_cidr" {
  description = "Kubernetes service CIDR (hosts 15 and 20 are the self-hosted etcd service IPs)."
  type        = string
  default     = "10.3.0.0/16"
}

variable "key_algorithm" {
  description = "Algorithm of generated keys."
  type        = string
  default     = "RSA-2048"
}

module "etcd_certs" {
  source = "../../modules/tls/etcd/signed"

  self_signed            = true
  etcd_cert_dns_names    = var.etcd_dns_names
  etcd_cert_ip_addresses = var.etcd_ip_addresses
  service_cidr           = var.service_cidr
  key_algorithm          = var.key_algorithm
}

output "etcd_ca_crt_pem" {
  value = module.etcd_certs.etcd_ca_crt_pem
}

output "etcd_server_crt_pem" {
  value = module.etcd_certs.etcd_server_crt_pem
}

output "etcd_server_key_pem" {
  value     = module.etcd_certs.etcd_server_key_pem
  sensitive = true
}

output "etcd_peer_crt_pem" {
  value = module.etcd_certs.etcd_peer_crt_pem
}

output "etcd_peer_key_pem" {
  value     = module.etcd_certs.etcd_peer_key_pem
  sensitive = true
}

output "etcd_client_crt_pem" {
  value = module.etcd_certs.etcd_client_crt_pem
}

output "etcd_client_key_pem" {
  value     = module.etcd_certs.etcd_client_key_pem
  sensitive = true
}

output "certificates" {
  value = { etcd = module.etcd_certs.certificates }
}
