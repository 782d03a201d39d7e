# kube TLS, self-signed flavor: the kube CA (generated, or the one given in ca_cert_pem/ca_key_pem),
# the apiserver certificate and the kubelet (admin) client certificate.

locals {
  program = concat(var.tfext_command, ["kube-self-signed"])

  issuing = {
    validity_period = tostring(var.validity_period)
    key_algorithm   = var.key_algorithm
    key_format      = var.key_format
  }
  apiserver_names = {
    kube_apiserver_url = var.kube_apiserver_url
    service_cidr       = var.service_cidr
    cluster_domain     = var.cluster_domain
    dns_names          = jsonencode(var.apiserver_extra_dns_names)
    ip_addresses       = jsonencode(var.apiserver_extra_ip_addresses)
  }
}

module "ca" {
  source = "../../internal/issue"

  program = local.program
  query   = merge(local.issuing, local.apiserver_names, { ca_cert_pem = var.ca_cert_pem, ca_key_pem = var.ca_key_pem })
  # A given CA is identified by its certificate (its key must match it, which tfext checks).
  certs = { ca = sha256(jsonencode([local.issuing, sha256(var.ca_cert_pem)])) }
  # A new CA signs its first leaves in the same run.
  co_issued            = ["apiserver", "kubelet"]
  renewal_window_hours = var.renewal_window_hours
}

locals {
  ca_hash = sha256(module.ca.certs.ca.cert_pem)
}

module "certs" {
  source = "../../internal/issue"

  program = local.program
  query = merge(local.issuing, local.apiserver_names, {
    ca_cert_pem = module.ca.certs.ca.cert_pem
    ca_key_pem  = module.ca.certs.ca.key_pem
  })
  certs = {
    apiserver = sha256(jsonencode([local.issuing, local.apiserver_names, local.ca_hash]))
    kubelet   = sha256(jsonencode([local.issuing, local.ca_hash]))
  }
  upstream             = module.ca.co_issued
  renewal_window_hours = var.renewal_window_hours
}

locals {
  certs = merge(module.ca.certs, module.certs.certs)
}
