variable "program" {
  description = "The tfext program to run, as a command list (e.g. [\"tfext\", \"etcd-signed\"])."
  type        = list(string)
}

variable "query" {
  description = "Query values shared by every certificate of this run (may hold a CA key: it is sensitive)."
  type        = map(string)
}

variable "certs" {
  description = "Certificate slot name => hash of everything that shapes it. A changed hash re-issues that certificate."
  type        = map(string)
}

variable "renewal_window_hours" {
  description = "Warn at plan time when a certificate expires within this many hours."
  type        = number
}
