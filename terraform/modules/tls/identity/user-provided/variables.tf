# Tectonic's inputs keep their names and meanings; the ones marked "tfext:" are additions.

variable "client_cert_pem_path" {
  description = "PEM file of the identity gRPC client certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.client_cert_pem_path) != "" && var.client_cert_pem_path != "/dev/null"
    error_message = "client_cert_pem_path is required: the path of a PEM file holding the identity gRPC client certificate, a chain allowed, e.g. \"/etc/tls/client.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "client_key_pem_path" {
  description = "PEM file of the identity gRPC client private key."
  type        = string

  validation {
    condition     = trimspace(var.client_key_pem_path) != "" && var.client_key_pem_path != "/dev/null"
    error_message = "client_key_pem_path is required: the path of a PEM file holding the identity gRPC client private key, e.g. \"/etc/tls/client.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "server_cert_pem_path" {
  description = "PEM file of the identity gRPC server certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.server_cert_pem_path) != "" && var.server_cert_pem_path != "/dev/null"
    error_message = "server_cert_pem_path is required: the path of a PEM file holding the identity gRPC server certificate, a chain allowed, e.g. \"/etc/tls/server.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "server_key_pem_path" {
  description = "PEM file of the identity gRPC server private key."
  type        = string

  validation {
    condition     = trimspace(var.server_key_pem_path) != "" && var.server_key_pem_path != "/dev/null"
    error_message = "server_key_pem_path is required: the path of a PEM file holding the identity gRPC server private key, e.g. \"/etc/tls/server.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "ca_cert_pem_path" {
  description = "PEM file of the CA the identity certificates chain to (tfext: checked against, and output as ca_cert_pem)."
  type        = string

  validation {
    condition     = trimspace(var.ca_cert_pem_path) != "" && var.ca_cert_pem_path != "/dev/null"
    error_message = "ca_cert_pem_path is required: the path of a PEM file holding the CA the identity certificates chain to, e.g. \"/etc/tls/ca.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "identity_dns_names" {
  description = "tfext: DNS names of the identity gRPC service, which the server certificate must carry as SANs (Go ignores the CN)."
  type        = list(string)
  default     = ["tectonic-identity-api.tectonic-system.svc", "tectonic-identity-api.tectonic-system.svc.cluster.local"]
  nullable    = false

  validation {
    condition     = length(var.identity_dns_names) > 0 && alltrue([for n in var.identity_dns_names : (can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0))) || length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", n))])
    error_message = "identity_dns_names must hold at least one DNS name, such as tectonic-identity-api.tectonic-system.svc (no scheme, port or spaces)."
  }
  validation {
    condition     = alltrue([for n in var.identity_dns_names : !(can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0)))])
    error_message = "TFEXT-E086 identity_dns_names: ${join(", ", [for n in var.identity_dns_names : (length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", n))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", n)) ? jsonencode(n) : strcontains(n, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(n)} characters, not shown)" if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0))])} is an IP address: as a DNS SAN it would match no client dialling the address (Go: doesn't contain any IP SANs). Drop it: the identity service is dialled by its DNS name."
  }
}

variable "renewal_window_hours" {
  description = "tfext: warn at plan time (without failing) when a certificate expires within this many hours."
  type        = number
  default     = 720
  nullable    = false

  validation {
    condition     = var.renewal_window_hours >= 1 && var.renewal_window_hours <= 9999999 && floor(var.renewal_window_hours) == var.renewal_window_hours
    error_message = "renewal_window_hours must be a whole number of hours from 1 to 9999999, e.g. 720 (30 days): tfext warns when a certificate expires within it."
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
  validation {
    condition     = alltrue([for a in var.tfext_command : !strcontains(a, "-----BEGIN")])
    error_message = "TFEXT-E028 tfext_command: PEM text given where the command that runs tfext belongs (not shown), e.g. [\"tfext\"] or [\"/opt/venv/bin/tfext\"]."
  }
}

# Accepted so that swapping identity/self-signed for this flavor is `source` plus the *_path inputs above. Ignored:
# the given files decide what they set. A plan that sets any of them warns with TFEXT-E054.

variable "ca_cert_pem" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "ca_key_pem" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
  sensitive   = true
}

variable "ca_key_alg" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "validity_period" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = number
  default     = null
}

variable "key_algorithm" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "key_format" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "key_dir" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "csr_paths" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = map(string)
  default     = null
}

variable "ca_key_path" {
  description = "Input of identity/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}
