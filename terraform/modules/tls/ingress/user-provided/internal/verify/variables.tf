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
