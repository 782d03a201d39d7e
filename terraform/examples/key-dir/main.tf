# The Tectonic wiring of ../tectonic, with its variables (variables.tf is a link to that example's), and
# every generated key in a key directory (docs/design.md): each new key is a 0600 file in `key_dir`, and
# Terraform's state, plan files and logs hold only its name and hash. Create the directory first, then
# apply; write the assets from the outputs, which name the key files and hold no key:
#   install -d -m 0700 keys
#   terraform init && terraform apply
#   terraform output -json | tfext write-assets generated/tls

terraform {
  required_version = ">= 1.5"
}

variable "key_dir" {
  description = "The key directory (0700): every private key the modules generate is a file there."
  type        = string
  default     = "keys"
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

# identity and ingress sign with the kube CA's key file (ca_key_path), so its text never passes through
# a query that Terraform keeps.
module "identity_certs" {
  source = "../../modules/tls/identity/self-signed"

  ca_cert_pem          = module.kube_certs.ca_cert_pem
  ca_key_pem           = module.kube_certs.ca_key_pem
  ca_key_path          = module.kube_certs.ca_key_path
  ca_key_alg           = module.kube_certs.ca_key_alg
  validity_period      = var.validity_period
  key_algorithm        = var.key_algorithm
  renewal_window_hours = var.renewal_window_hours
  key_dir              = var.key_dir
}

module "ingress_certs" {
  source = "../../modules/tls/ingress/self-signed"

  base_address         = local.console
  ca_cert_pem          = module.kube_certs.ca_cert_pem
  ca_key_pem           = module.kube_certs.ca_key_pem
  ca_key_path          = module.kube_certs.ca_key_path
  ca_key_alg           = module.kube_certs.ca_key_alg
  validity_period      = var.validity_period
  key_algorithm        = var.key_algorithm
  renewal_window_hours = var.renewal_window_hours
  key_dir              = var.key_dir
}

# Every module output but the keys: certificates, facts, and the files the keys are in. A root output is
# kept in state (a module's is not), so none of these holds a key; `tfext write-assets` reads each key
# from its file.
output "kube_certs" {
  value = { for name, value in module.kube_certs : name => value if !endswith(name, "key_pem") }
}

output "etcd_certs" {
  value = { for name, value in module.etcd_certs : name => value if !endswith(name, "key_pem") }
}

output "identity_certs" {
  value = { for name, value in module.identity_certs : name => value if !endswith(name, "key_pem") }
}

output "ingress_certs" {
  value = { for name, value in module.ingress_certs : name => value if !endswith(name, "key_pem") }
}

# The certificates' facts, for `tfext summary`, `inspect` and `check-expiration`.
output "certificates" {
  value = {
    kube_certs     = module.kube_certs.certificates
    etcd_certs     = module.etcd_certs.certificates
    identity_certs = module.identity_certs.certificates
    ingress_certs  = module.ingress_certs.certificates
  }
}
