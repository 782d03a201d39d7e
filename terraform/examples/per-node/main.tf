# One identity per node (docs/per-node.md): each etcd member its own server and peer certificate, each
# Kubernetes node its own kubelet client (and serving) certificate, and the apiserver's kubelet client
# and the admin each a client of their own.
#   terraform init && terraform apply
#   terraform output -json | tfext write-assets generated/tls   # etcd/members/<m>/, kube/nodes/<n>/

terraform {
  required_version = ">= 1.5"
}

variable "etcd_members" {
  description = "etcd members: name => addresses. Each gets its own server and peer certificate."
  type = map(object({
    ip_addresses = optional(list(string), [])
    dns_names    = optional(list(string), [])
  }))
  default = {
    "etcd-0" = { ip_addresses = ["10.0.0.10"], dns_names = ["etcd-0.example.com"] }
    "etcd-1" = { ip_addresses = ["10.0.0.11"], dns_names = ["etcd-1.example.com"] }
    "etcd-2" = { ip_addresses = ["10.0.0.12"], dns_names = ["etcd-2.example.com"] }
  }
}

variable "etcd_service_names" {
  description = "DNS names of the etcd service, for Tectonic's shared server and peer certificates."
  type        = list(string)
  default     = ["etcd.example.com"]
}

variable "nodes" {
  description = "Kubernetes node names. Each gets its own kubelet client certificate (system:node:<name>)."
  type        = list(string)
  default     = ["master-0", "worker-0", "worker-1", "worker-2", "worker-3"]
}

variable "kubelet_serving" {
  description = "Nodes that get their own kubelet serving certificate: name => addresses."
  type = map(object({
    ip_addresses = optional(list(string), [])
    dns_names    = optional(list(string), [])
  }))
  default = {
    "worker-0" = { ip_addresses = ["10.0.1.10"] }
    "worker-1" = { ip_addresses = ["10.0.1.11"] }
    "worker-2" = { ip_addresses = ["10.0.1.12"] }
  }
}

variable "key_algorithm" {
  description = "Algorithm of generated keys."
  type        = string
  default     = "ECDSA-P256"
}

module "etcd_certs" {
  source = "../../modules/tls/etcd/signed"

  self_signed = true
  # Tectonic's shared server and peer certificates name the etcd service, not each member: every member
  # has its own (members), so adding or removing one issues or drops its two certificates and nothing else.
  etcd_cert_dns_names = var.etcd_service_names
  members             = var.etcd_members
  key_algorithm       = var.key_algorithm
}

module "kube_certs" {
  source = "../../modules/tls/kube/self-signed"

  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
  nodes              = var.nodes
  kubelet_serving    = var.kubelet_serving
  key_algorithm      = var.key_algorithm
}

# Who each certificate says it is: certificate => subject (CN, O) and names.
output "identities" {
  value = merge(
    { for name, c in module.etcd_certs.certificates : "etcd/${name}" => { subject = c.subject, sans = c.sans } },
    { for name, c in module.kube_certs.certificates : "kube/${name}" => { subject = c.subject, sans = c.sans } },
  )
}

# Read by `terraform output -json | tfext write-assets DIR` (and summary, inspect, check-expiration).
output "etcd" {
  value     = module.etcd_certs
  sensitive = true
}

output "kube" {
  value     = module.kube_certs
  sensitive = true
}
