variable "tls_dir" {
  description = "Directory of PEM files in Tectonic's generated/tls layout (as `tfext write-assets` writes it)."
  type        = string
  default     = "generated/tls"
}
