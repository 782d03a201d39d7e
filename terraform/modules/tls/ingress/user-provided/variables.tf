# Tectonic's inputs keep their names and meanings; the ones marked "tfext:" are additions.
# Validations on strings let PEM text (and anything long enough to be key text) through on purpose:
# Terraform prints a failing string variable's value, even a sensitive one, so a key pasted into the wrong
# input would land in the plan output. tfext rejects it without echoing (TFEXT-E028, or the program).

variable "ca_cert_pem_path" {
  description = "PEM file of the ingress CA certificate."
  type        = string

  validation {
    condition     = trimspace(var.ca_cert_pem_path) != "" && var.ca_cert_pem_path != "/dev/null"
    error_message = "ca_cert_pem_path is required: the path of a PEM file holding the ingress CA certificate, e.g. \"/etc/tls/ca.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "cert_pem_path" {
  description = "PEM file of the ingress certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.cert_pem_path) != "" && var.cert_pem_path != "/dev/null"
    error_message = "cert_pem_path is required: the path of a PEM file holding the ingress certificate, a chain allowed, e.g. \"/etc/tls/ingress.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "key_pem_path" {
  description = "PEM file of the ingress private key."
  type        = string

  validation {
    condition     = trimspace(var.key_pem_path) != "" && var.key_pem_path != "/dev/null"
    error_message = "key_pem_path is required: the path of a PEM file holding the ingress private key, e.g. \"/etc/tls/ingress.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "base_address" {
  description = "tfext: when set, the certificate must carry its host. Address users reach the ingress by: a host or host:port (e.g. console.example.com:443). Its host becomes the certificate's CN and SAN (a DNS or IP SAN)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = strcontains(var.base_address, "-----BEGIN") || length(var.base_address) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.base_address)) || var.base_address == "" || can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$", var.base_address))
    error_message = "base_address must be a host or host:port without a scheme, e.g. console.example.com or console.example.com:443."
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

# Accepted so that swapping ingress/self-signed for this flavor is `source` plus the *_path inputs above. Ignored:
# the given files decide what they set. A plan that sets any of them warns with TFEXT-E054.

variable "ca_cert_pem" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "ca_key_pem" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
  sensitive   = true
}

variable "ca_key_alg" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "validity_period" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = number
  default     = null
}

variable "key_algorithm" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "key_format" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "key_dir" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "csr_paths" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = map(string)
  default     = null
}

variable "ca_key_path" {
  description = "Input of ingress/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}
