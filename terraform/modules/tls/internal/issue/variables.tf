variable "settings" {
  description = <<-EOT
    What this stage is given that no other stage's result decides, in one variable (each variable costs
    Terraform an evaluation per stage at every plan, and a root has a stage per node):
    program: the tfext program to run, as a command list (e.g. ["tfext", "etcd-signed"]).
    query: query values shared by every certificate of this run (may hold a CA key: it is sensitive).
    co_issued: the stages after this one (a name each) => their slots that this stage's run issues too
      whenever it issues (a new CA signs its first leaves in the same run).
    renewal_window_hours: warn at plan time when a certificate expires within this many hours.
    certs_are_cas: whether this stage's certificates are CAs (an expiring CA asks for a rotation,
      TFEXT-E059).
    key_dir: the key directory, as the caller gave it (a relative path is the root module's working
      directory's, as in file()): new keys are written there, and state keeps only their file names and
      hashes. "": keys are kept in state.
    csr_paths: slot => a CSR file: that slot is issued for the CSR's key, and has no key of ours.
    plain_inputs: inputs the program is not given that must hold no PEM text either (TFEXT-E028 refuses
      it without printing it): one accepted for compatibility and never read, say.
  EOT
  type = object({
    program              = list(string)
    query                = map(string)
    renewal_window_hours = number
    co_issued            = optional(map(list(string)), {})
    certs_are_cas        = optional(bool, false)
    key_dir              = optional(string, "")
    csr_paths            = optional(map(string), {})
    plain_inputs         = optional(map(string), {})
  })
}

variable "certs" {
  description = "Certificate slot name => hash of everything that shapes it. A changed hash re-issues that certificate."
  type        = map(string)
}

variable "upstream" {
  description = "The `co_issued` output of the stage before: when it issued in this plan, this stage takes its certificates from there instead of running the program."
  type = object({
    issuing = bool
    public  = map(string)
    keys    = map(string)
  })
  default  = { issuing = false, public = {}, keys = {} }
  nullable = false # null: the default (nothing issued upstream in this plan)
}

variable "guard" {
  description = "A message that fails the plan before anything of this stage changes (a CA rotation's order broken), or \"\"."
  type        = string
  default     = ""
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
