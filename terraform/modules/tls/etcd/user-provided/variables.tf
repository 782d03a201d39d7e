# Tectonic's seven *_path inputs; the rest (marked tfext:) say what the certificates must carry, so
# a wrong file fails `terraform plan` instead of the cluster.
# Validations on strings let PEM text (and anything long enough to be key text) through on purpose:
# Terraform prints a failing string variable's value, even a sensitive one, so a key pasted into the wrong
# input would land in the plan output. tfext rejects it without echoing (TFEXT-E028, or the program).

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
    condition     = strcontains(var.service_cidr, "-----BEGIN") || length(var.service_cidr) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.service_cidr)) || var.service_cidr == "" || can(cidrhost(var.service_cidr, 20))
    error_message = "service_cidr must be a CIDR with at least 21 addresses, such as 10.3.0.0/16, or empty."
  }
}

variable "etcd_cert_dns_names" {
  description = "tfext: DNS names of the etcd nodes, which the server and peer certificates must carry."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for n in var.etcd_cert_dns_names : (can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0))) || length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", n))])
    error_message = "etcd_cert_dns_names must hold DNS names such as etcd-0.example.com (no scheme, port or spaces)."
  }
  validation {
    condition     = alltrue([for n in var.etcd_cert_dns_names : !(can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0)))])
    error_message = "TFEXT-E086 etcd_cert_dns_names: ${join(", ", [for n in var.etcd_cert_dns_names : (length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", n))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", n)) ? jsonencode(n) : strcontains(n, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(n)} characters, not shown)" if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0))])} is an IP address: as a DNS SAN it would match no client dialling the address (Go: doesn't contain any IP SANs). Move it to etcd_cert_ip_addresses."
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
  validation {
    condition     = alltrue([for a in var.tfext_command : !strcontains(a, "-----BEGIN")])
    error_message = "TFEXT-E028 tfext_command: PEM text given where the command that runs tfext belongs (not shown), e.g. [\"tfext\"] or [\"/opt/venv/bin/tfext\"]."
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

  # The phase is read through a for expression: Terraform prints the value of every plain reference
  # in a failing condition, and a key pasted here would be printed back.
  validation {
    condition     = contains(["trust", "reissue", "finish"], { for k, v in var.ca_rotation : k => tostring(v) }["phase"])
    error_message = "ca_rotation: phase must be trust, reissue or finish."
  }
}

variable "members" {
  description = "tfext: etcd members, each with a server and a peer certificate of its own, read from member_certs_dir and checked as that member's (CN = the member name; SANs = its name, the addresses given, localhost, 127.0.0.1 and ::1), as kubeadm issues them: name => { ip_addresses, dns_names }. (docs/per-node.md) Names and limits (checked at every plan): at most 1000 members; a name that is an IPv4 address (10.0.0.10) is an IP SAN, never a DNS one; dns_names hold no address (TFEXT-E086) and no wildcard (TFEXT-E088); no name or address on two members (TFEXT-E087)."
  type = map(object({
    ip_addresses = optional(list(string), [])
    dns_names    = optional(list(string), [])
  }))
  default  = {}
  nullable = false

  validation {
    condition     = length(var.members) <= 1000
    error_message = "TFEXT-E084 members: ${length(var.members)} members; at most 1000 per module, the limit the program checks when it issues a CA, so a CA with every member can always be rotated. Split them across modules."
  }
  validation {
    condition     = alltrue([for n in keys(var.members) : length(n) <= 64 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n))])
    error_message = "TFEXT-E084 members: member names are lowercase letters, digits, '-' and '.', as Kubernetes names nodes, at most 64 characters (a member's name is its certificate's CN). Not valid: ${join(", ", [for n in keys(var.members) : (length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", n))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", n)) ? jsonencode(n) : strcontains(n, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(n)} characters, not shown)" if !can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n)) || length(n) > 64])}."
  }
  validation {
    condition     = alltrue([for n in keys(var.members) : !can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$", n))])
    error_message = "TFEXT-E086 members: ${join(", ", [for n in keys(var.members) : jsonencode(n) if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) && !can(regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$", n))])} looks like an IP address but is not one as Go reads it (four numbers 0-255, no leading zeros). A member named by its IPv4 address gets it as an IP SAN: write the address exactly, or name the member by its host name."
  }
  validation {
    condition     = alltrue([for d in flatten([for s in values(var.members) : s.dns_names]) : (can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0))) || (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", d)))])
    error_message = "TFEXT-E012 members: dns_names must hold DNS names such as member-0.example.com (no scheme, port or spaces). Not valid: ${join(", ", [for d in flatten([for s in values(var.members) : s.dns_names]) : (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", d))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", d)) ? jsonencode(d) : strcontains(d, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(d)} characters, not shown)" if !(can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0))) && !(length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", d)))])}."
  }
  validation {
    condition     = alltrue([for d in flatten([for s in values(var.members) : s.dns_names]) : !(can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0)))])
    error_message = "TFEXT-E086 members: ${join(", ", [for d in flatten([for s in values(var.members) : s.dns_names]) : (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", d))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", d)) ? jsonencode(d) : strcontains(d, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(d)} characters, not shown)" if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0))])} in dns_names: an IP address there would be a DNS SAN, which no client dialling the address accepts (Go: doesn't contain any IP SANs). Move it to the same member's ip_addresses."
  }
  validation {
    condition     = alltrue([for d in flatten([for s in values(var.members) : s.dns_names]) : !startswith(d, "*")])
    error_message = "TFEXT-E088 members: ${join(", ", [for d in flatten([for s in values(var.members) : s.dns_names]) : (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", d))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", d)) ? jsonencode(d) : strcontains(d, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(d)} characters, not shown)" if startswith(d, "*")])} in dns_names: a member's certificate names that member alone, and a wildcard would let its key answer for every name below it. List each name."
  }
  validation {
    condition     = alltrue([for ip in flatten([for s in values(var.members) : s.ip_addresses]) : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])
    error_message = "TFEXT-E012 members: ip_addresses must hold IP addresses such as 10.0.0.10 (no CIDR suffix). Not valid: ${join(", ", [for ip in flatten([for s in values(var.members) : s.ip_addresses]) : (length(ip) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", ip))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", ip)) ? jsonencode(ip) : strcontains(ip, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(ip)} characters, not shown)" if !can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])}."
  }
  validation {
    condition     = length(flatten([for n, s in var.members : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))])) == length(distinct(flatten([for n, s in var.members : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))])))
    error_message = "TFEXT-E087 members: the same name or address in the entries of two members: ${join(", ", [for v in distinct(flatten([for n, s in var.members : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))])) : (length(v) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", v))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", v)) ? jsonencode(v) : strcontains(v, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(v)} characters, not shown)" if length([for x in flatten([for n, s in var.members : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))]) : x if x == v]) > 1])}. A name or address belongs to one member only (the key of a certificate naming another member's address can answer for it): keep each in the entry of the member it belongs to."
  }
}

variable "member_certs_dir" {
  description = "tfext: the directory holding each member's own pair: <dir>/<member>/server.crt, server.key, peer.crt, peer.key (as `tfext write-assets` writes them). Required when members are set."
  type        = string
  default     = ""
  nullable    = false
}

variable "key_dir" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "csr_paths" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = map(string)
  default     = null
}

variable "member_csr_dir" {
  description = "Input of etcd/signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}
