# Tectonic's seven *_path inputs; the rest (marked tfext:) say what the certificates must carry, so
# a wrong file fails `terraform plan` instead of the cluster.

variable "etcd_ca_crt_pem_path" {
  description = "PEM file of the etcd CA certificate."
  type        = string

  validation {
    condition     = var.etcd_ca_crt_pem_path != "" && var.etcd_ca_crt_pem_path != "/dev/null"
    error_message = "etcd_ca_crt_pem_path must name a PEM file (the etcd CA certificate)."
  }
}

variable "etcd_server_crt_pem_path" {
  description = "PEM file of the etcd server certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = var.etcd_server_crt_pem_path != "" && var.etcd_server_crt_pem_path != "/dev/null"
    error_message = "etcd_server_crt_pem_path must name a PEM file (the etcd server certificate (a chain is allowed))."
  }
}

variable "etcd_server_key_pem_path" {
  description = "PEM file of the etcd server private key."
  type        = string

  validation {
    condition     = var.etcd_server_key_pem_path != "" && var.etcd_server_key_pem_path != "/dev/null"
    error_message = "etcd_server_key_pem_path must name a PEM file (the etcd server private key)."
  }
}

variable "etcd_peer_crt_pem_path" {
  description = "PEM file of the etcd peer certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = var.etcd_peer_crt_pem_path != "" && var.etcd_peer_crt_pem_path != "/dev/null"
    error_message = "etcd_peer_crt_pem_path must name a PEM file (the etcd peer certificate (a chain is allowed))."
  }
}

variable "etcd_peer_key_pem_path" {
  description = "PEM file of the etcd peer private key."
  type        = string

  validation {
    condition     = var.etcd_peer_key_pem_path != "" && var.etcd_peer_key_pem_path != "/dev/null"
    error_message = "etcd_peer_key_pem_path must name a PEM file (the etcd peer private key)."
  }
}

variable "etcd_client_crt_pem_path" {
  description = "PEM file of the etcd client certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = var.etcd_client_crt_pem_path != "" && var.etcd_client_crt_pem_path != "/dev/null"
    error_message = "etcd_client_crt_pem_path must name a PEM file (the etcd client certificate (a chain is allowed))."
  }
}

variable "etcd_client_key_pem_path" {
  description = "PEM file of the etcd client private key."
  type        = string

  validation {
    condition     = var.etcd_client_key_pem_path != "" && var.etcd_client_key_pem_path != "/dev/null"
    error_message = "etcd_client_key_pem_path must name a PEM file (the etcd client private key)."
  }
}

variable "service_cidr" {
  description = "tfext: Kubernetes service CIDR; the server and peer certificates must carry its hosts 15 and 20 as IP SANs. Empty: not checked."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = var.service_cidr == "" || can(cidrhost(var.service_cidr, 20))
    error_message = "service_cidr must be a CIDR with at least 21 addresses, such as 10.3.0.0/16, or empty."
  }
}

variable "etcd_cert_dns_names" {
  description = "tfext: DNS names of the etcd nodes, which the server and peer certificates must carry."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for n in var.etcd_cert_dns_names : can(regex("^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", n))])
    error_message = "etcd_cert_dns_names must hold DNS names such as etcd-0.example.com (no scheme, port or spaces)."
  }
}

variable "etcd_cert_ip_addresses" {
  description = "tfext: IP addresses of the etcd nodes, which the server and peer certificates must carry."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for ip in var.etcd_cert_ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])
    error_message = "etcd_cert_ip_addresses must hold IP addresses such as 10.0.0.10 (no CIDR suffix)."
  }
}

variable "renewal_window_hours" {
  description = "tfext: warn at plan time (without failing) when a certificate expires within this many hours."
  type        = number
  default     = 720
  nullable    = false

  validation {
    condition     = var.renewal_window_hours >= 0
    error_message = "renewal_window_hours must be zero or more hours."
  }
}

variable "tfext_command" {
  description = "tfext: how Terraform runs tfext (the `tfext` console script on PATH by default)."
  type        = list(string)
  default     = ["tfext"]
  nullable    = false

  validation {
    condition     = length(var.tfext_command) > 0 && alltrue([for a in var.tfext_command : a != ""])
    error_message = "tfext_command must be a non-empty list of non-empty strings, e.g. [\"tfext\"] or [\"/opt/venv/bin/tfext\"]."
  }
}
