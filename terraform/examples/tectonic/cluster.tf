# The cluster's names and the CA rotation phases: the variables every Tectonic example takes, whichever
# flavors it uses (../tectonic-user-provided, ../key-dir and ../shared-state link to this file).

variable "cluster_name" {
  description = "Cluster name: the console is at <cluster_name>.<base_domain>, the API at <cluster_name>-api.<base_domain>."
  type        = string
  default     = "demo"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", var.cluster_name))
    error_message = "cluster_name must be a lower-case DNS label, such as demo or prod-eu1."
  }
}

variable "base_domain" {
  description = "Base DNS domain of the cluster."
  type        = string
  default     = "example.com"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.base_domain))
    error_message = "base_domain must be a lower-case DNS domain such as example.com."
  }
}

variable "kube_apiserver_url" {
  description = "API server URL. Empty: https://<cluster_name>-api.<base_domain>:443, as Tectonic built it."
  type        = string
  default     = ""
  nullable    = false
}

variable "etcd_dns_names" {
  description = "DNS names of the etcd members. Empty: <cluster_name>-etcd-{0,1,2}.<base_domain>."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "etcd_ip_addresses" {
  description = "IP addresses of the etcd members (IP SANs of the etcd server and peer certificates)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "service_cidr" {
  description = "Kubernetes service CIDR: host 1 is the kubernetes service IP, hosts 15 and 20 the self-hosted etcd ones."
  type        = string
  default     = "10.3.0.0/16"
}

variable "renewal_window_hours" {
  description = "Warn at plan time when a certificate expires within this many hours."
  type        = number
  default     = 720
}

variable "kube_ca_rotation" {
  description = "The kube CA's rotation (docs/ca-rotation.md): { generation = N + 1, phase = \"trust\" }, then \"reissue\", then \"finish\"; identity and ingress follow it. With user-provided files, the phase the given ca.crt is in: trust and reissue take a bundle of the outgoing and the incoming CA, finish one CA."
  type = object({
    generation = optional(number, 0)
    phase      = optional(string, "finish")
  })
  default  = {}
  nullable = false
}

variable "etcd_ca_rotation" {
  description = "The etcd CA's rotation, as kube_ca_rotation."
  type = object({
    generation = optional(number, 0)
    phase      = optional(string, "finish")
  })
  default  = {}
  nullable = false
}
