variable "kind" {
  description = "The module whose CA this is: kube or etcd (names it in messages)."
  type        = string
}

variable "rotation" {
  description = "The caller's ca_rotation: { generation, phase }."
  type = object({
    generation = number
    phase      = string
  })
}

variable "certs" {
  description = "Certificate name => { cert_pem, info } of this phase: `ca` the CA that signs, then the leaves. No key: a sensitive value here would mark every output."
  type        = any
}

variable "cas" {
  description = "A generating flavor's (ordered) CA stages, its `module \"ca\"` with one per generation of `stages`: generation => { cert_pem, info, issued (in this plan) }."
  type        = any
  default     = {}
}

variable "other" {
  description = "A flavor given its CAs (not ordered): the second CA while rotating (the incoming one in trust, the outgoing one in reissue), else null."
  type        = any
  default     = null
}

variable "order" {
  description = "Set by a generating flavor, whose applies the phases order: the leaves this plan issues (its CAs are in `cas`) and whether the CA was given. null for a user-provided flavor (its files and the program keep the order)."
  type = object({
    issued_leaves = list(string)
    given_ca      = bool
  })
  default = null
}

variable "ordered" {
  description = "Whether this module's applies order the phases (a generating flavor). Plain, so that the order's records depend on no CA stage."
  type        = bool
  default     = false
}
