variable "tls_dir" {
  description = "Directory of PEM files in Tectonic's generated/tls layout (as `tfext write-assets` writes it)."
  type        = string
  default     = "generated/tls"
}

variable "cluster_name" {
  description = "Cluster name: the console is at <cluster_name>.<base_domain>, the API at <cluster_name>-api.<base_domain>."
  type        = string
  default     = "demo"
}

variable "base_domain" {
  description = "Base DNS domain of the cluster."
  type        = string
  default     = "example.com"
}

variable "kube_apiserver_url" {
  description = "API server URL. Empty: https://<cluster_name>-api.<base_domain>:443."
  type        = string
  default     = ""
  nullable    = false
}

variable "etcd_dns_names" {
  description = "DNS names the etcd server and peer certificates must carry. Empty: <cluster_name>-etcd-{0,1,2}.<base_domain>."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "etcd_ip_addresses" {
  description = "IP addresses the etcd server and peer certificates must carry."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "service_cidr" {
  description = "Kubernetes service CIDR."
  type        = string
  default     = "10.3.0.0/16"
}

variable "renewal_window_hours" {
  description = "Warn at plan time when a certificate expires within this many hours."
  type        = number
  default     = 720
}

variable "kube_ca_rotation" {
  description = "The phase the kube CA files are in (docs/ca-rotation.md): trust and reissue take ca.crt holding the outgoing and the incoming CA; finish (the default) one CA."
  type = object({
    generation = optional(number, 0)
    phase      = optional(string, "finish")
  })
  default  = {}
  nullable = false
}

variable "etcd_ca_rotation" {
  description = "The phase the etcd CA file is in, as kube_ca_rotation."
  type = object({
    generation = optional(number, 0)
    phase      = optional(string, "finish")
  })
  default  = {}
  nullable = false
}
