variable "program" {
  description = "The tfext program to run, as a command list (e.g. [\"tfext\", \"etcd-user-provided\"])."
  type        = list(string)
}

variable "query" {
  description = "Paths of the user's files and what the certificates must carry."
  type        = map(string)
}

variable "slots" {
  description = "Certificate slots the program returns (e.g. [\"ca\", \"server\"])."
  type        = list(string)
}

variable "generating_inputs" {
  description = "The generating flavor's inputs this user-provided flavor accepts (so a swap is `source` plus paths) and ignores: name => the caller's value, null when not set."
  type        = any
  default     = {}
}

variable "ignored_ca_key" {
  description = "Whether the caller set the (sensitive) ca_key_pem that this user-provided flavor ignores."
  type        = bool
  default     = false
}
