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

variable "signing" {
  description = "The CA that signs in this phase: { cert_pem, info } (no key: a sensitive value here would mark every output)."
  type        = any
}

variable "other" {
  description = "The second CA while rotating (the incoming one in trust, the outgoing one in reissue), else null."
  type        = any
  default     = null
}

variable "leaves" {
  description = "Leaf name => its certificate facts (info)."
  type        = any
}

variable "order" {
  description = "Set by a generating flavor, whose applies the phases order: what this plan issues (CA generations, leaf names) and whether the CA was given. null for a user-provided flavor (its files and the program keep the order)."
  type = object({
    issued_cas    = list(string)
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
