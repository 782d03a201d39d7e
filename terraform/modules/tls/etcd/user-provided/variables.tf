# Tectonic's seven *_path inputs; the rest (marked tfext:) say what the certificates must carry, so
# a wrong file fails `terraform plan` instead of the cluster.
# Validations on strings let PEM text through on purpose: Terraform prints a failing variable's value,
# so a key pasted into the wrong input would land in the plan output. tfext rejects it without echoing.

variable "etcd_ca_crt_pem_path" {
  description = "PEM file of the etcd CA certificate."
  type        = string

  validation {
    condition     = trimspace(var.etcd_ca_crt_pem_path) != "" && var.etcd_ca_crt_pem_path != "/dev/null"
    error_message = "etcd_ca_crt_pem_path is required: the path of a PEM file holding the etcd CA certificate, e.g. \"/etc/tls/etcd-ca.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "etcd_server_crt_pem_path" {
  description = "PEM file of the etcd server certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.etcd_server_crt_pem_path) != "" && var.etcd_server_crt_pem_path != "/dev/null"
    error_message = "etcd_server_crt_pem_path is required: the path of a PEM file holding the etcd server certificate, a chain allowed, e.g. \"/etc/tls/etcd-server.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "etcd_server_key_pem_path" {
  description = "PEM file of the etcd server private key."
  type        = string

  validation {
    condition     = trimspace(var.etcd_server_key_pem_path) != "" && var.etcd_server_key_pem_path != "/dev/null"
    error_message = "etcd_server_key_pem_path is required: the path of a PEM file holding the etcd server private key, e.g. \"/etc/tls/etcd-server.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "etcd_peer_crt_pem_path" {
  description = "PEM file of the etcd peer certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.etcd_peer_crt_pem_path) != "" && var.etcd_peer_crt_pem_path != "/dev/null"
    error_message = "etcd_peer_crt_pem_path is required: the path of a PEM file holding the etcd peer certificate, a chain allowed, e.g. \"/etc/tls/etcd-peer.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "etcd_peer_key_pem_path" {
  description = "PEM file of the etcd peer private key."
  type        = string

  validation {
    condition     = trimspace(var.etcd_peer_key_pem_path) != "" && var.etcd_peer_key_pem_path != "/dev/null"
    error_message = "etcd_peer_key_pem_path is required: the path of a PEM file holding the etcd peer private key, e.g. \"/etc/tls/etcd-peer.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "etcd_client_crt_pem_path" {
  description = "PEM file of the etcd client certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.etcd_client_crt_pem_path) != "" && var.etcd_client_crt_pem_path != "/dev/null"
    error_message = "etcd_client_crt_pem_path is required: the path of a PEM file holding the etcd client certificate, a chain allowed, e.g. \"/etc/tls/etcd-client.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "etcd_client_key_pem_path" {
  description = "PEM file of the etcd client private key."
  type        = string

  validation {
    condition     = trimspace(var.etcd_client_key_pem_path) != "" && var.etcd_client_key_pem_path != "/dev/null"
    error_message = "etcd_client_key_pem_path is required: the path of a PEM file holding the etcd client private key, e.g. \"/etc/tls/etcd-client.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "service_cidr" {
  description = "tfext: Kubernetes service CIDR; the server and peer certificates must carry its hosts 15 and 20 as IP SANs. Empty: not checked."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = strcontains(var.service_cidr, "-----BEGIN") || var.service_cidr == "" || can(cidrhost(var.service_cidr, 20))
    error_message = "service_cidr must be a CIDR with at least 21 addresses, such as 10.3.0.0/16, or empty."
  }
}

variable "etcd_cert_dns_names" {
  description = "tfext: DNS names of the etcd nodes, which the server and peer certificates must carry."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for n in var.etcd_cert_dns_names : length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", n))])
    error_message = "etcd_cert_dns_names must hold DNS names such as etcd-0.example.com (no scheme, port or spaces)."
  }
}

variable "etcd_cert_ip_addresses" {
  description = "tfext: IP addresses of the etcd nodes, which the server and peer certificates must carry."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for ip in var.etcd_cert_ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])
    error_message = "etcd_cert_ip_addresses must hold IP addresses such as 10.0.0.10 (no CIDR suffix)."
  }
}

variable "renewal_window_hours" {
  description = "tfext: warn at plan time (without failing) when a certificate expires within this many hours."
  type        = number
  default     = 720
  nullable    = false

  validation {
    condition     = var.renewal_window_hours >= 1 && var.renewal_window_hours <= 9999999 && floor(var.renewal_window_hours) == var.renewal_window_hours
    error_message = "renewal_window_hours must be a whole number of hours from 1 to 9999999, e.g. 720 (30 days): tfext warns when a certificate expires within it."
  }
}

variable "tfext_command" {
  description = "tfext: how Terraform runs tfext (the `tfext` console script on PATH by default)."
  type        = list(string)
  default     = ["tfext"]
  nullable    = false

  validation {
    condition     = length(var.tfext_command) > 0 && alltrue([for a in var.tfext_command : a != ""])
    error_message = "tfext_command must be a non-empty list of non-empty strings, e.g. [\"tfext\"] or [\"/opt/venv/bin/tfext\"]."
  }
}

# Accepted so that swapping etcd/signed for this flavor is `source` plus the *_path inputs above. Ignored:
# the given files decide what they set. A plan that sets any of them warns with TFEXT-E054.

variable "self_signed" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = bool
  default     = null
}

variable "validity_period" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = number
  default     = null
}

variable "key_algorithm" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "key_format" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "etcd_ca_cert_path" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "etcd_ca_key_path" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "etcd_client_cert_path" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "etcd_client_key_path" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "ca_rotation" {
  description = "tfext: the CA rotation phase the files are in (docs/ca-rotation.md). trust: etcd_ca_crt_pem_path holds the outgoing and the incoming CA, and the outgoing one signs; reissue: the same two, every leaf signed by the incoming CA; finish (the steady state): the one CA. generation is the generating flavor's, accepted and unused here."
  type = object({
    generation = optional(number, 0)
    phase      = optional(string, "finish")
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["trust", "reissue", "finish"], var.ca_rotation.phase)
    error_message = "ca_rotation: phase must be trust, reissue or finish."
  }
}

variable "members" {
  description = "tfext: etcd members, each with a server and a peer certificate of its own, read from member_certs_dir and checked as that member's (CN = the member name; SANs = its name, the addresses given, localhost, 127.0.0.1 and ::1), as kubeadm issues them: name => { ip_addresses, dns_names }. (docs/per-node.md)"
  type = map(object({
    ip_addresses = optional(list(string), [])
    dns_names    = optional(list(string), [])
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for m, _ in var.members : length(m) <= 64 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", m))])
    error_message = "TFEXT-E084 members: member names are lowercase letters, digits, '-' and '.', as Kubernetes names nodes, at most 64 characters (a member's name is its certificate's CN). Not valid: ${join(", ", [for m, _ in var.members : jsonencode(m) if !can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", m)) || length(m) > 64])}."
  }
}

variable "member_certs_dir" {
  description = "tfext: the directory holding each member's own pair: <dir>/<member>/server.crt, server.key, peer.crt, peer.key (as `tfext write-assets` writes them). Required when members are set."
  type        = string
  default     = ""
  nullable    = false
}
