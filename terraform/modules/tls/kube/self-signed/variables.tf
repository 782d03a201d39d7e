# Tectonic's inputs keep their names and meanings; the ones marked "tfext:" are additions.
# Validations on strings let PEM text (and anything long enough to be key text) through on purpose:
# Terraform prints a failing string variable's value, even a sensitive one, so a key pasted into the wrong
# input would land in the plan output. tfext rejects it without echoing (TFEXT-E028, or the program).

variable "ca_cert_pem" {
  description = "PEM of an existing kube CA certificate to sign with. Empty (the default): generate the kube CA."
  type        = string
  default     = ""
  nullable    = false
}

variable "ca_key_pem" {
  description = "PEM of the existing kube CA's private key (PKCS#1, SEC1 or PKCS#8). Empty: generate the kube CA."
  type        = string
  default     = ""
  nullable    = false
  sensitive   = true
}

variable "ca_key_alg" {
  description = "Algorithm of ca_key_pem (RSA or ECDSA in Tectonic). Accepted for compatibility; tfext detects the algorithm from the key."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = strcontains(var.ca_key_alg, "-----BEGIN") || length(var.ca_key_alg) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.ca_key_alg)) || contains(["", "RSA", "ECDSA", "ED25519"], var.ca_key_alg)
    error_message = "ca_key_alg must be RSA, ECDSA, ED25519 or empty (it is detected from the key anyway)."
  }
}

variable "kube_apiserver_url" {
  description = "URL of the API server, e.g. https://api.example.com:443; its host becomes a SAN of the apiserver certificate."
  type        = string

  validation {
    condition     = strcontains(var.kube_apiserver_url, "-----BEGIN") || length(var.kube_apiserver_url) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.kube_apiserver_url)) || can(regex("^https://([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?/?$", var.kube_apiserver_url))
    error_message = "kube_apiserver_url must be an https URL with a host and an optional port, e.g. https://api.example.com:443."
  }
}

variable "service_cidr" {
  description = "Kubernetes service CIDR, e.g. 10.3.0.0/16; its first host (the kubernetes service IP) becomes a SAN of the apiserver certificate."
  type        = string

  validation {
    condition     = strcontains(var.service_cidr, "-----BEGIN") || length(var.service_cidr) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.service_cidr)) || can(cidrhost(var.service_cidr, 1))
    error_message = "service_cidr must be a CIDR such as 10.3.0.0/16."
  }
}

variable "apiserver_extra_dns_names" {
  description = "tfext: more DNS SANs for the apiserver certificate (load balancer names, advertise names)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for n in var.apiserver_extra_dns_names : (can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0))) || length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", n))])
    error_message = "apiserver_extra_dns_names must hold DNS names such as api.internal.example.com (labels of letters, digits and inner hyphens, no scheme, port or spaces)."
  }
  validation {
    condition     = alltrue([for n in var.apiserver_extra_dns_names : !(can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0)))])
    error_message = "TFEXT-E086 apiserver_extra_dns_names: ${join(", ", [for n in var.apiserver_extra_dns_names : (length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", n))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", n)) ? jsonencode(n) : strcontains(n, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(n)} characters, not shown)" if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(cidrhost("${n}/128", 0))])} is an IP address: as a DNS SAN it would match no client dialling the address (Go: doesn't contain any IP SANs). Move it to apiserver_extra_ip_addresses."
  }
}

variable "apiserver_extra_ip_addresses" {
  description = "tfext: more IP SANs for the apiserver certificate (advertise address, load balancer IPs)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for ip in var.apiserver_extra_ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])
    error_message = "apiserver_extra_ip_addresses must hold IP addresses such as 10.0.0.10 (no CIDR suffix)."
  }
}

variable "cluster_domain" {
  description = "tfext: the cluster DNS domain; the apiserver certificate carries kubernetes.default.svc.<cluster_domain>."
  type        = string
  default     = "cluster.local"
  nullable    = false

  validation {
    condition     = strcontains(var.cluster_domain, "-----BEGIN") || length(var.cluster_domain) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.cluster_domain)) || can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$", var.cluster_domain))
    error_message = "cluster_domain must be a lower-case DNS domain such as cluster.local."
  }
}

variable "validity_period" {
  description = "Validity of generated certificates, in hours (default 3 years)."
  type        = number
  default     = 26280
  nullable    = false

  validation {
    condition     = var.validity_period >= 1 && var.validity_period <= 9999999 && floor(var.validity_period) == var.validity_period
    error_message = "validity_period must be a whole number of hours from 1 to 9999999, e.g. 26280 for 3 years."
  }
}

variable "key_algorithm" {
  description = "tfext: algorithm of generated keys: RSA-2048 (Tectonic's), RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384 or ED25519."
  type        = string
  default     = "RSA-2048"
  nullable    = false

  validation {
    condition     = strcontains(var.key_algorithm, "-----BEGIN") || length(var.key_algorithm) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.key_algorithm)) || contains(["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384", "ED25519"], var.key_algorithm)
    error_message = "key_algorithm must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384, ED25519."
  }
}

variable "key_format" {
  description = "tfext: PEM format of generated keys: traditional (PKCS#1 RSA / SEC1 EC, as Tectonic wrote them) or pkcs8."
  type        = string
  default     = "traditional"
  nullable    = false

  validation {
    condition     = strcontains(var.key_format, "-----BEGIN") || length(var.key_format) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.key_format)) || contains(["traditional", "pkcs8"], var.key_format)
    error_message = "key_format must be traditional or pkcs8."
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

variable "ca_rotation" {
  description = "tfext: a CA rotation with no outage (docs/ca-rotation.md). Generation 0 is the first CA. To rotate, apply { generation = N + 1, phase = \"trust\" }, then phase \"reissue\", then \"finish\" (which stays as the steady state), restarting consumers between the applies."
  type = object({
    generation = optional(number, 0)
    phase      = optional(string, "finish")
  })
  default  = {}
  nullable = false

  # The phase is read through a for expression: Terraform prints the value of every plain reference
  # in a failing condition, and a key pasted here would be printed back.
  validation {
    condition     = contains(["trust", "reissue", "finish"], { for k, v in var.ca_rotation : k => tostring(v) }["phase"]) && var.ca_rotation.generation >= 0 && floor(var.ca_rotation.generation) == var.ca_rotation.generation && ({ for k, v in var.ca_rotation : k => tostring(v) }["phase"] == "finish" || var.ca_rotation.generation >= 1)
    error_message = "ca_rotation: phase must be trust, reissue or finish, and generation a whole number, at least 1 while rotating (generation 0 is the first CA)."
  }
}

variable "nodes" {
  description = "tfext: Kubernetes node names, each given a kubelet client certificate of its own (CN=system:node:<name>, O=system:nodes), as the Node authorizer and NodeRestriction need (docs/per-node.md). Adding or removing a node issues or drops that node's certificates only. At most 1000 nodes (checked at every plan, as when a CA is issued); a node named by its IPv4 address gets it as an IP SAN in its serving certificate (TFEXT-E086 for a name shaped like a bad address)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.nodes) <= 1000
    error_message = "TFEXT-E084 nodes: ${length(var.nodes)} nodes; at most 1000 per module, the limit the program checks when it issues a CA, so a CA with every node can always be rotated. Split them across modules."
  }
  validation {
    condition     = alltrue([for n in var.nodes : length(n) <= 52 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n))])
    error_message = "TFEXT-E084 nodes: node names are lowercase letters, digits, '-' and '.', as Kubernetes names nodes, at most 52 characters (system:node:<name> is a certificate's CN, at most 64). Not valid: ${join(", ", [for n in var.nodes : (length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", n))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", n)) ? jsonencode(n) : strcontains(n, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(n)} characters, not shown)" if !can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n)) || length(n) > 52])}."
  }
  validation {
    condition     = length(distinct(var.nodes)) == length(var.nodes)
    error_message = "TFEXT-E084 nodes: each node name once. Listed more than once: ${join(", ", [for n in distinct(var.nodes) : (length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", n))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", n)) ? jsonencode(n) : strcontains(n, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(n)} characters, not shown)" if length([for x in var.nodes : x if x == n]) > 1])}."
  }
  validation {
    condition     = alltrue([for n in var.nodes : !can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$", n))])
    error_message = "TFEXT-E086 nodes: ${join(", ", [for n in var.nodes : jsonencode(n) if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) && !can(regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$", n))])} looks like an IP address but is not one as Go reads it (four numbers 0-255, no leading zeros). A node named by its IPv4 address gets it as an IP SAN: write the address exactly, or name the node by its host name."
  }
}

variable "kubelet_serving" {
  description = "tfext: nodes (named in `nodes`) that get a kubelet serving certificate of their own (CN=system:node:<name>, SANs = the name and the addresses given), for kube-apiserver --kubelet-certificate-authority: name => { ip_addresses, dns_names }. At most 1000; a name that is an IPv4 address is an IP SAN; dns_names hold no address (TFEXT-E086) and no wildcard (TFEXT-E088); no name or address on two nodes (TFEXT-E087)."
  type = map(object({
    ip_addresses = optional(list(string), [])
    dns_names    = optional(list(string), [])
  }))
  default  = {}
  nullable = false

  validation {
    condition     = length(var.kubelet_serving) <= 1000
    error_message = "TFEXT-E084 kubelet_serving: ${length(var.kubelet_serving)} nodes; at most 1000 per module, the limit the program checks when it issues a CA, so a CA with every node can always be rotated. Split them across modules."
  }
  validation {
    condition     = alltrue([for n in keys(var.kubelet_serving) : length(n) <= 52 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n))])
    error_message = "TFEXT-E084 kubelet_serving: node names are lowercase letters, digits, '-' and '.', as Kubernetes names nodes, at most 52 characters (system:node:<name> is a certificate's CN, at most 64). Not valid: ${join(", ", [for n in keys(var.kubelet_serving) : (length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", n))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", n)) ? jsonencode(n) : strcontains(n, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(n)} characters, not shown)" if !can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n)) || length(n) > 52])}."
  }
  validation {
    condition     = alltrue([for n in keys(var.kubelet_serving) : !can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) || can(regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$", n))])
    error_message = "TFEXT-E086 kubelet_serving: ${join(", ", [for n in keys(var.kubelet_serving) : jsonencode(n) if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", n)) && !can(regex("^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$", n))])} looks like an IP address but is not one as Go reads it (four numbers 0-255, no leading zeros). A node named by its IPv4 address gets it as an IP SAN: write the address exactly, or name the node by its host name."
  }
  validation {
    condition     = alltrue([for d in flatten([for s in values(var.kubelet_serving) : s.dns_names]) : (can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0))) || (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", d)))])
    error_message = "TFEXT-E012 kubelet_serving: dns_names must hold DNS names such as node-0.example.com (no scheme, port or spaces). Not valid: ${join(", ", [for d in flatten([for s in values(var.kubelet_serving) : s.dns_names]) : (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", d))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", d)) ? jsonencode(d) : strcontains(d, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(d)} characters, not shown)" if !(can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0))) && !(length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", d)))])}."
  }
  validation {
    condition     = alltrue([for d in flatten([for s in values(var.kubelet_serving) : s.dns_names]) : !(can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0)))])
    error_message = "TFEXT-E086 kubelet_serving: ${join(", ", [for d in flatten([for s in values(var.kubelet_serving) : s.dns_names]) : (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", d))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", d)) ? jsonencode(d) : strcontains(d, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(d)} characters, not shown)" if can(regex("^[0-9]+(\\.[0-9]+){1,3}\\.?$", d)) || can(cidrhost("${d}/128", 0))])} in dns_names: an IP address there would be a DNS SAN, which no client dialling the address accepts (Go: doesn't contain any IP SANs). Move it to the same node's ip_addresses."
  }
  validation {
    condition     = alltrue([for d in flatten([for s in values(var.kubelet_serving) : s.dns_names]) : !startswith(d, "*")])
    error_message = "TFEXT-E088 kubelet_serving: ${join(", ", [for d in flatten([for s in values(var.kubelet_serving) : s.dns_names]) : (length(d) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", d))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", d)) ? jsonencode(d) : strcontains(d, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(d)} characters, not shown)" if startswith(d, "*")])} in dns_names: a node's certificate names that node alone, and a wildcard would let its key answer for every name below it. List each name."
  }
  validation {
    condition     = alltrue([for ip in flatten([for s in values(var.kubelet_serving) : s.ip_addresses]) : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])
    error_message = "TFEXT-E012 kubelet_serving: ip_addresses must hold IP addresses such as 10.0.0.10 (no CIDR suffix). Not valid: ${join(", ", [for ip in flatten([for s in values(var.kubelet_serving) : s.ip_addresses]) : (length(ip) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", ip))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", ip)) ? jsonencode(ip) : strcontains(ip, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(ip)} characters, not shown)" if !can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])}."
  }
  validation {
    condition     = length(flatten([for n, s in var.kubelet_serving : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))])) == length(distinct(flatten([for n, s in var.kubelet_serving : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))])))
    error_message = "TFEXT-E087 kubelet_serving: the same name or address in the entries of two nodes: ${join(", ", [for v in distinct(flatten([for n, s in var.kubelet_serving : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))])) : (length(v) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.)*[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?\\.?$", v))) || can(regex("^[0-9A-Fa-f:.]{2,45}$", v)) ? jsonencode(v) : strcontains(v, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${length(v)} characters, not shown)" if length([for x in flatten([for n, s in var.kubelet_serving : distinct(concat([n], [for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0)) ? cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0) : ip]))]) : x if x == v]) > 1])}. A name or address belongs to one node only (the key of a certificate naming another node's address can answer for it): keep each in the entry of the node it belongs to."
  }
}

variable "key_dir" {
  description = "tfext: a directory for the private keys this module generates (issue 21): each new key is a new 0600 file there, and Terraform's state, plan files and logs hold only its file name and hash. It must exist and be 0700 (install -d -m 0700 DIR); tfext never creates it. Empty (the default): keys are kept in state, as before. Where it is absent (a CI runner checking the shared state) the plan warns (TFEXT-E076) and key outputs are empty."
  type        = string
  default     = ""
  nullable    = false

}

variable "csr_paths" {
  description = "tfext: certificate => a CSR file (apiserver, kubelet, apiserver_kubelet_client, admin): that certificate is issued for the CSR's key, which never leaves its owner; the role, not the CSR, decides subject, names and usages. Its key output is empty. A new CSR re-issues that certificate only."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k, _ in var.csr_paths : strcontains(k, "-----BEGIN") || contains(["apiserver", "kubelet", "apiserver_kubelet_client", "admin"], k)])
    error_message = "TFEXT-E007 csr_paths: its keys are the certificates that may be issued for a CSR: apiserver, kubelet, apiserver_kubelet_client, admin."
  }
}

variable "node_csr_dir" {
  description = "tfext: a directory of CSRs, one directory per node (<dir>/<node>/kubelet-client.csr, and kubelet-serving.csr for the nodes of kubelet_serving): each of its certificates is issued for the key of that CSR, and its key outputs are empty. Empty (the default): tfext generates their keys."
  type        = string
  default     = ""
  nullable    = false

}
