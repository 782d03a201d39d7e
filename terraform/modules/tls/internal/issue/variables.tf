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

variable "co_issued" {
  description = "Slots of the next stage that this stage's run issues too whenever it issues (a new CA signs its first leaves in the same run)."
  type        = list(string)
  default     = []
}

variable "upstream" {
  description = "The `co_issued` output of the stage before: when it issued in this plan, this stage takes its certificates from there instead of running the program."
  type = object({
    issuing = bool
    public  = map(string)
    keys    = map(string)
  })
  default = { issuing = false, public = {}, keys = {} }
}

variable "renewal_window_hours" {
  description = "Warn at plan time when a certificate expires within this many hours."
  type        = number
}

variable "certs_are_cas" {
  description = "Whether this stage's certificates are CAs (an expiring CA asks for a rotation, TFEXT-E059)."
  type        = bool
  default     = false
}

variable "guard" {
  description = "A message that fails the plan before anything of this stage changes (a CA rotation's order broken), or \"\"."
  type        = string
  default     = ""
}
