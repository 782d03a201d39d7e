# Tectonic's inputs keep their names and meanings; the ones marked "tfext:" are additions.
# Validations on strings let PEM text through on purpose: Terraform prints a failing variable's value,
# so a key pasted into the wrong input would land in the plan output. tfext rejects it without echoing.

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
    condition     = strcontains(var.ca_key_alg, "-----BEGIN") || contains(["", "RSA", "ECDSA", "ED25519"], var.ca_key_alg)
    error_message = "ca_key_alg must be RSA, ECDSA, ED25519 or empty (it is detected from the key anyway)."
  }
}

variable "kube_apiserver_url" {
  description = "URL of the API server, e.g. https://api.example.com:443; its host becomes a SAN of the apiserver certificate."
  type        = string

  validation {
    condition     = strcontains(var.kube_apiserver_url, "-----BEGIN") || can(regex("^https://([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?/?$", var.kube_apiserver_url))
    error_message = "kube_apiserver_url must be an https URL with a host and an optional port, e.g. https://api.example.com:443."
  }
}

variable "service_cidr" {
  description = "Kubernetes service CIDR, e.g. 10.3.0.0/16; its first host (the kubernetes service IP) becomes a SAN of the apiserver certificate."
  type        = string

  validation {
    condition     = strcontains(var.service_cidr, "-----BEGIN") || can(cidrhost(var.service_cidr, 1))
    error_message = "service_cidr must be a CIDR such as 10.3.0.0/16."
  }
}

variable "apiserver_extra_dns_names" {
  description = "tfext: more DNS SANs for the apiserver certificate (load balancer names, advertise names)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for n in var.apiserver_extra_dns_names : length(n) <= 253 && can(regex("^(\\*\\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$", n))])
    error_message = "apiserver_extra_dns_names must hold DNS names such as api.internal.example.com (labels of letters, digits and inner hyphens, no scheme, port or spaces)."
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
    condition     = strcontains(var.cluster_domain, "-----BEGIN") || can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$", var.cluster_domain))
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
    condition     = strcontains(var.key_algorithm, "-----BEGIN") || contains(["RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384", "ED25519"], var.key_algorithm)
    error_message = "key_algorithm must be one of RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384, ED25519."
  }
}

variable "key_format" {
  description = "tfext: PEM format of generated keys: traditional (PKCS#1 RSA / SEC1 EC, as Tectonic wrote them) or pkcs8."
  type        = string
  default     = "traditional"
  nullable    = false

  validation {
    condition     = strcontains(var.key_format, "-----BEGIN") || contains(["traditional", "pkcs8"], var.key_format)
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
}

variable "ca_rotation" {
  description = "tfext: a CA rotation with no outage (docs/ca-rotation.md). Generation 0 is the first CA. To rotate, apply { generation = N + 1, phase = \"trust\" }, then phase \"reissue\", then \"finish\" (which stays as the steady state), restarting consumers between the applies."
  type = object({
    generation = optional(number, 0)
    phase      = optional(string, "finish")
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["trust", "reissue", "finish"], var.ca_rotation.phase) && var.ca_rotation.generation >= 0 && floor(var.ca_rotation.generation) == var.ca_rotation.generation && (var.ca_rotation.phase == "finish" || var.ca_rotation.generation >= 1)
    error_message = "ca_rotation: phase must be trust, reissue or finish, and generation a whole number, at least 1 while rotating (generation 0 is the first CA)."
  }
}

variable "nodes" {
  description = "tfext: Kubernetes node names, each given a kubelet client certificate of its own (CN=system:node:<name>, O=system:nodes), as the Node authorizer and NodeRestriction need (docs/per-node.md). Adding or removing a node issues or drops that node's certificates only."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for n in var.nodes : length(n) <= 52 && can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n))]) && length(distinct(var.nodes)) == length(var.nodes)
    error_message = "TFEXT-E084 nodes: each node name once, as Kubernetes names nodes (lowercase letters, digits, '-' and '.'), at most 52 characters (system:node:<name> is a certificate's CN, at most 64). Not valid: ${join(", ", [for n in var.nodes : jsonencode(n) if !can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", n)) || length(n) > 52])}."
  }
}

variable "kubelet_serving" {
  description = "tfext: nodes (named in `nodes`) that get a kubelet serving certificate of their own (CN=system:node:<name>, SANs = the name and the addresses given), for kube-apiserver --kubelet-certificate-authority: name => { ip_addresses, dns_names }."
  type = map(object({
    ip_addresses = optional(list(string), [])
    dns_names    = optional(list(string), [])
  }))
  default  = {}
  nullable = false
}
