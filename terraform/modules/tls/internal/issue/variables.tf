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
  description = "The stages after this one (a name each) => their slots that this stage's run issues too whenever it issues (a new CA signs its first leaves in the same run)."
  type        = map(list(string))
  default     = {}
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

variable "key_dir" {
  description = "The key directory, as the caller gave it (a relative path is the root module's working directory's, as in file()): new keys are written there, and state keeps only their file names and hashes. \"\": keys are kept in state."
  type        = string
  default     = ""
}

variable "csr_paths" {
  description = "Slot => a CSR file: that slot is issued for the CSR's key, and has no key of ours."
  type        = map(string)
  default     = {}
}

variable "plain_inputs" {
  description = "Inputs the program is not given that must hold no PEM text either (TFEXT-E028 refuses it without printing it): one accepted for compatibility and never read, say."
  type        = map(string)
  default     = {}
}

variable "signer" {
  description = "The CA that signs this stage's certificates: { cert_pem (its first certificate signs), key_pem (sensitive), key_path (its file, in a key directory, or \"\") }; null for a stage that issues its own CA."
  type = object({
    cert_pem = string
    key_pem  = string
    key_path = string
  })
  default = null
}
