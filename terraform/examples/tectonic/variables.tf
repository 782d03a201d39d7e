variable "validity_period" {
  description = "Validity of every generated certificate, in hours (default 3 years)."
  type        = number
  default     = 26280
}

variable "key_algorithm" {
  description = "Algorithm of every generated key: RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384 or ED25519."
  type        = string
  default     = "RSA-2048"
}

variable "key_dir" {
  description = "A directory (0700) for every private key the modules generate, out of Terraform's state (README: Secrets). Empty: keys are kept in state. ../key-dir sets it."
  type        = string
  default     = ""
}
