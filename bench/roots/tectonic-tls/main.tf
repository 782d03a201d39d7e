terraform {
  required_providers {
    tls = { source = "hashicorp/tls" }
  }
}

variable "validity_period" {
  type    = number
  default = 26280
}

locals {
  api_url    = "https://demo-api.example.com:443"
  etcd_names = [for i in range(3) : "demo-etcd-${i}.example.com"]
}

module "kube_certs" {
  source             = "./kube"
  ca_cert_pem        = ""
  ca_key_alg         = ""
  ca_key_pem         = ""
  kube_apiserver_url = local.api_url
  service_cidr       = "10.3.0.0/16"
  validity_period    = var.validity_period
}

module "etcd_certs" {
  source              = "./etcd"
  self_signed         = true
  etcd_cert_dns_names = local.etcd_names
  service_cidr        = "10.3.0.0/16"
  validity_period     = var.validity_period
}

module "identity_certs" {
  source          = "./identity"
  ca_cert_pem     = module.kube_certs.ca_cert_pem
  ca_key_alg      = module.kube_certs.ca_key_alg
  ca_key_pem      = module.kube_certs.ca_key_pem
  validity_period = var.validity_period
}

module "ingress_certs" {
  source          = "./ingress"
  base_address    = "demo.example.com"
  ca_cert_pem     = module.kube_certs.ca_cert_pem
  ca_key_alg      = module.kube_certs.ca_key_alg
  ca_key_pem      = module.kube_certs.ca_key_pem
  validity_period = var.validity_period
}

output "kube_certs" {
  value     = module.kube_certs
  sensitive = true
}

output "etcd_certs" {
  value     = module.etcd_certs
  sensitive = true
}

output "identity_certs" {
  value     = module.identity_certs
  sensitive = true
}

output "ingress_certs" {
  value     = module.ingress_certs
  sensitive = true
}
