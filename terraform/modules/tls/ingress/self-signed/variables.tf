# Tectonic's inputs keep their names and meanings; the ones marked "tfext:" are additions.
# Validations on strings let PEM text (and anything long enough to be key text) through on purpose:
# Terraform prints a failing string variable's value, even a sensitive one, so a key pasted into the wrong
# input would land in the plan output. tfext rejects it without echoing (TFEXT-E028, or the program).

variable "base_address" {
  description = "Address users reach the ingress by: a host or host:port (e.g. console.example.com:443). Its host becomes the certificate's CN and SAN (a DNS or IP SAN)."
  type        = string

  validation {
    condition     = strcontains(var.base_address, "-----BEGIN") || length(var.base_address) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.base_address)) || can(regex("^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$", var.base_address))
    error_message = "base_address must be a host or host:port without a scheme, e.g. console.example.com or console.example.com:443."
  }
}

variable "ca_cert_pem" {
  description = "PEM of the CA certificate to sign with (Tectonic passed the kube CA: module.kube_certs.ca_cert_pem); output again as ca_cert_pem."
  type        = string

  validation {
    condition     = strcontains(var.ca_cert_pem, "-----BEGIN") || length(var.ca_cert_pem) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.ca_cert_pem))
    error_message = "ca_cert_pem must hold the CA certificate as PEM text (-----BEGIN CERTIFICATE-----), e.g. module.kube_certs.ca_cert_pem or file(\"ca.crt\"), not a path."
  }
}

variable "ca_key_pem" {
  description = "PEM of the CA's private key (PKCS#1, SEC1 or PKCS#8): module.kube_certs.ca_key_pem. May be empty when ca_key_path names the key's file; one of the two is needed (TFEXT-E053)."
  type        = string
  sensitive   = true

  # Terraform prints the value of a failing rule even here (sensitive as it is, when the caller's value
  # is not marked): each rule fails only for a value safe to show. Any other text that is no private key
  # goes to the program, which says so without echoing it (TFEXT-E023 ca_key_pem).
  validation {
    condition     = !can(regex("^[^\\s]{1,250}\\.(pem|key|crt|cer)$", var.ca_key_pem))
    error_message = "TFEXT-E053 ca_key_pem: a file path was given, not the key: ca_key_pem takes the key's PEM text. Pass file(\"<path>\") of the key, or module.kube_certs.ca_key_pem."
  }
}

variable "ca_key_alg" {
  description = "Algorithm of ca_key_pem (RSA or ECDSA in Tectonic). Accepted for compatibility; tfext detects the algorithm from the key."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = strcontains(var.ca_key_alg, "-----BEGIN") || length(var.ca_key_alg) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.ca_key_alg)) || contains(["", "RSA", "ECDSA", "ED25519"], var.ca_key_alg)
    error_message = "ca_key_alg must be RSA, ECDSA, ED25519 or empty (it is detected from the key anyway)."
  }
}

variable "validity_period" {
  description = "Validity of generated certificates, in hours (default 3 years)."
  type        = number
  default     = 26280
  nullable    = false

  validation {
    condition     = var.validity_period >= 1 && var.validity_period <= 9999999 && floor(var.validity_period) == var.validity_period
    error_message = "validity_period must be a whole number of hours from 1 to 9999999, e.g. 26280 for 3 years."
  }
}

variable "key_algorithm" {
  description = "tfext: algorithm of generated keys: RSA-2048 (Tectonic's), RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384 or ED25519."
  type        = string
  default     = "RSA-2048"
  nullable    = false

  validation {
    condition     = strcontains(var.key_algorithm, "-----BEGIN") || length(var.key_algorithm) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.key_algorithm)) || contains(["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384", "ED25519"], var.key_algorithm)
    error_message = "key_algorithm must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384, ED25519."
  }
}

variable "key_format" {
  description = "tfext: PEM format of generated keys: traditional (PKCS#1 RSA / SEC1 EC, as Tectonic wrote them) or pkcs8."
  type        = string
  default     = "traditional"
  nullable    = false

  validation {
    condition     = strcontains(var.key_format, "-----BEGIN") || length(var.key_format) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.key_format)) || contains(["traditional", "pkcs8"], var.key_format)
    error_message = "key_format must be traditional or pkcs8."
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

variable "key_dir" {
  description = "tfext: a directory for the private keys this module generates (issue 21): each new key is a new 0600 file there, and Terraform's state, plan files and logs hold only its file name and hash. It must exist and be 0700 (install -d -m 0700 DIR); tfext never creates it. Empty (the default): keys are kept in state, as before. Where it is absent (a CI runner checking the shared state) the plan warns (TFEXT-E076) and key outputs are empty."
  type        = string
  default     = ""
  nullable    = false

}

variable "csr_paths" {
  description = "tfext: certificate => a CSR file (ingress): that certificate is issued for the CSR's key, which never leaves its owner; the role, not the CSR, decides subject, names and usages. Its key output is empty. A new CSR re-issues that certificate only."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, _ in var.csr_paths : strcontains(k, "-----BEGIN") || contains(["ingress"], k)])
    error_message = "TFEXT-E007 csr_paths: its keys are the certificates that may be issued for a CSR: ingress."
  }
}

variable "ca_key_path" {
  description = "tfext: the file of the CA's private key, instead of its text: module.kube_certs.ca_key_path when the kube module keeps its keys in a key directory, so the key never passes through a query that Terraform keeps in state. Empty: sign with ca_key_pem."
  type        = string
  default     = ""
  nullable    = false

}
