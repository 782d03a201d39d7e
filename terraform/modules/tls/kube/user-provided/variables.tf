# Tectonic's five *_path inputs, an optional CA key path, and (marked tfext:) what the certificates must
# carry, so that a wrong file fails `terraform plan` instead of the cluster.
# Validations on strings let PEM text (and anything long enough to be key text) through on purpose:
# Terraform prints a failing string variable's value, even a sensitive one, so a key pasted into the wrong
# input would land in the plan output. tfext rejects it without echoing (TFEXT-E028, or the program).

variable "ca_cert_pem_path" {
  description = "PEM file of the kube CA certificate."
  type        = string

  validation {
    condition     = trimspace(var.ca_cert_pem_path) != "" && var.ca_cert_pem_path != "/dev/null"
    error_message = "ca_cert_pem_path is required: the path of a PEM file holding the kube CA certificate, e.g. \"/etc/tls/ca.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "apiserver_cert_pem_path" {
  description = "PEM file of the apiserver certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.apiserver_cert_pem_path) != "" && var.apiserver_cert_pem_path != "/dev/null"
    error_message = "apiserver_cert_pem_path is required: the path of a PEM file holding the apiserver certificate, a chain allowed, e.g. \"/etc/tls/apiserver.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "apiserver_key_pem_path" {
  description = "PEM file of the apiserver private key."
  type        = string

  validation {
    condition     = trimspace(var.apiserver_key_pem_path) != "" && var.apiserver_key_pem_path != "/dev/null"
    error_message = "apiserver_key_pem_path is required: the path of a PEM file holding the apiserver private key, e.g. \"/etc/tls/apiserver.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "kubelet_cert_pem_path" {
  description = "PEM file of the kubelet client certificate (a chain is allowed)."
  type        = string

  validation {
    condition     = trimspace(var.kubelet_cert_pem_path) != "" && var.kubelet_cert_pem_path != "/dev/null"
    error_message = "kubelet_cert_pem_path is required: the path of a PEM file holding the kubelet client certificate, a chain allowed, e.g. \"/etc/tls/kubelet.crt\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "kubelet_key_pem_path" {
  description = "PEM file of the kubelet client private key."
  type        = string

  validation {
    condition     = trimspace(var.kubelet_key_pem_path) != "" && var.kubelet_key_pem_path != "/dev/null"
    error_message = "kubelet_key_pem_path is required: the path of a PEM file holding the kubelet client private key, e.g. \"/etc/tls/kubelet.key\" (\"\" and \"/dev/null\" mean not given)."
  }
}

variable "ca_key_pem_path" {
  description = "tfext: PEM file of the kube CA private key, so identity and ingress can be signed with it. \"\", null or \"/dev/null\": not given, and ca_key_pem / ca_key_alg are empty."
  type        = string
  default     = ""
  nullable    = false
}

variable "kube_apiserver_url" {
  description = "tfext: URL of the API server; when set, the apiserver certificate must carry its host. Empty: not checked."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = strcontains(var.kube_apiserver_url, "-----BEGIN") || length(var.kube_apiserver_url) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.kube_apiserver_url)) || var.kube_apiserver_url == "" || can(regex("^https://([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?/?$", var.kube_apiserver_url))
    error_message = "kube_apiserver_url must be an https URL with a host and an optional port, e.g. https://api.example.com:443."
  }
}

variable "service_cidr" {
  description = "tfext: Kubernetes service CIDR; when set, the apiserver certificate must carry its first host (the kubernetes service IP). Empty: not checked."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = strcontains(var.service_cidr, "-----BEGIN") || length(var.service_cidr) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.service_cidr)) || var.service_cidr == "" || can(cidrhost(var.service_cidr, 1))
    error_message = "service_cidr must be a CIDR such as 10.3.0.0/16."
  }
}

variable "apiserver_extra_dns_names" {
  description = "tfext: more DNS names the apiserver certificate must carry (load balancer names, advertise names)."
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
  description = "tfext: more IP addresses the apiserver certificate must carry (advertise address, load balancer IPs)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for ip in var.apiserver_extra_ip_addresses : can(cidrhost("${ip}/${length(split(":", ip)) > 1 ? 128 : 32}", 0))])
    error_message = "apiserver_extra_ip_addresses must hold IP addresses such as 10.0.0.10 (no CIDR suffix)."
  }
}

variable "cluster_domain" {
  description = "tfext: the cluster DNS domain; the apiserver certificate must carry kubernetes.default.svc.<cluster_domain> (and kubernetes, kubernetes.default, kubernetes.default.svc)."
  type        = string
  default     = "cluster.local"
  nullable    = false

  validation {
    condition     = strcontains(var.cluster_domain, "-----BEGIN") || length(var.cluster_domain) > 64 || can(regex("[A-Za-z0-9+/=]{32,}", var.cluster_domain)) || can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$", var.cluster_domain))
    error_message = "cluster_domain must be a lower-case DNS domain such as cluster.local."
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

# Accepted so that swapping kube/self-signed for this flavor is `source` plus the *_path inputs above. Ignored:
# the given files decide what they set. A plan that sets any of them warns with TFEXT-E054.

variable "ca_cert_pem" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "ca_key_pem" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
  sensitive   = true
}

variable "ca_key_alg" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "validity_period" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = number
  default     = null
}

variable "key_algorithm" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "key_format" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "ca_rotation" {
  description = "tfext: the CA rotation phase the files are in (docs/ca-rotation.md). trust: ca_cert_pem_path holds the outgoing and the incoming CA, and the outgoing one signs; reissue: the same two, every leaf signed by the incoming CA; finish (the steady state): the one CA. generation is the generating flavor's, accepted and unused here."
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

variable "nodes" {
  description = "tfext: Kubernetes node names, each with a kubelet client certificate of its own, read from node_certs_dir, (CN=system:node:<name>, O=system:nodes), as the Node authorizer and NodeRestriction need (docs/per-node.md). At most 1000 nodes (checked at every plan, as when a CA is issued); a node named by its IPv4 address gets it as an IP SAN in its serving certificate (TFEXT-E086 for a name shaped like a bad address)."
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
  description = "tfext: nodes (named in `nodes`) with a kubelet serving certificate of their own, read from node_certs_dir, (CN=system:node:<name>, SANs = the name and the addresses given), for kube-apiserver --kubelet-certificate-authority: name => { ip_addresses, dns_names }. At most 1000; a name that is an IPv4 address is an IP SAN; dns_names hold no address (TFEXT-E086) and no wildcard (TFEXT-E088); no name or address on two nodes (TFEXT-E087)."
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

variable "node_certs_dir" {
  description = "tfext: the directory holding each node's own pairs: <dir>/<node>/kubelet-client.crt and .key, and for kubelet_serving nodes kubelet-serving.crt and .key (as `tfext write-assets` writes them). Required when nodes are set."
  type        = string
  default     = ""
  nullable    = false
}

variable "apiserver_kubelet_client_cert_pem_path" {
  description = "tfext: PEM file of the apiserver's own kubelet client certificate (optional; a client of its own, no node's identity)."
  type        = string
  default     = ""
  nullable    = false
}

variable "apiserver_kubelet_client_key_pem_path" {
  description = "tfext: PEM file of the apiserver's kubelet client private key (required with its certificate)."
  type        = string
  default     = ""
  nullable    = false
}

variable "admin_cert_pem_path" {
  description = "tfext: PEM file of the admin client certificate (optional; no kubelet's identity)."
  type        = string
  default     = ""
  nullable    = false
}

variable "admin_key_pem_path" {
  description = "tfext: PEM file of the admin client private key (required with its certificate)."
  type        = string
  default     = ""
  nullable    = false
}

variable "key_dir" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}

variable "csr_paths" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = map(string)
  default     = null
}

variable "node_csr_dir" {
  description = "Input of kube/self-signed, accepted and ignored here (a plan that sets it warns); delete it after a swap."
  type        = string
  default     = null
}
