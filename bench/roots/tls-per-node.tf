# bench/tfroots.tls_root: the per-node certificates the usual way, with hashicorp/tls (MEMBERS is replaced).
terraform {
  required_providers {
    tls = { source = "hashicorp/tls" }
  }
}

variable "nodes" {
  type = number
}

locals {
  nodes   = [for i in range(var.nodes) : format("node-%04d", i)]
  members = [for i in range(MEMBERS) : "etcd-${i}"]
  fixed = {
    apiserver                = { ca = "kube", cn = "kube-apiserver", o = "kube-master", dns = ["api.example.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"], ips = ["10.3.0.1"], uses = ["server_auth", "client_auth"] }
    kubelet                  = { ca = "kube", cn = "kubelet", o = "system:masters", dns = [], ips = [], uses = ["client_auth"] }
    apiserver_kubelet_client = { ca = "kube", cn = "kube-apiserver-kubelet-client", o = "kubeadm:cluster-admins", dns = [], ips = [], uses = ["client_auth"] }
    admin                    = { ca = "kube", cn = "kubernetes-admin", o = "kubeadm:cluster-admins", dns = [], ips = [], uses = ["client_auth"] }
    server                   = { ca = "etcd", cn = "etcd", o = "etcd", dns = ["etcd.example.com", "localhost"], ips = ["127.0.0.1"], uses = ["server_auth", "client_auth"] }
    peer                     = { ca = "etcd", cn = "etcd", o = "etcd", dns = ["etcd.example.com", "localhost"], ips = ["127.0.0.1"], uses = ["server_auth", "client_auth"] }
    client                   = { ca = "etcd", cn = "etcd", o = "etcd", dns = [], ips = [], uses = ["client_auth"] }
  }
  leaves = merge(
    local.fixed,
    { for i, m in local.members : "server:${m}" => { ca = "etcd", cn = m, o = "", dns = [m, "localhost"], ips = ["10.0.0.${10 + i}", "127.0.0.1"], uses = ["server_auth", "client_auth"] } },
    { for i, m in local.members : "peer:${m}" => { ca = "etcd", cn = m, o = "", dns = [m, "localhost"], ips = ["10.0.0.${10 + i}", "127.0.0.1"], uses = ["server_auth", "client_auth"] } },
    { for n in local.nodes : "kubelet:${n}" => { ca = "kube", cn = "system:node:${n}", o = "system:nodes", dns = [], ips = [], uses = ["client_auth"] } },
    { for i, n in local.nodes : "serving:${n}" => { ca = "kube", cn = "system:node:${n}", o = "system:nodes", dns = [n], ips = [cidrhost("10.64.0.0/12", i + 1)], uses = ["server_auth"] } },
  )
}

resource "tls_private_key" "ca" {
  for_each    = toset(["kube", "etcd"])
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_self_signed_cert" "ca" {
  for_each              = tls_private_key.ca
  private_key_pem       = each.value.private_key_pem
  is_ca_certificate     = true
  validity_period_hours = 26280
  allowed_uses          = ["cert_signing", "crl_signing", "digital_signature"]
  subject {
    common_name  = "${each.key}-ca"
    organization = "bootkube"
  }
}

resource "tls_private_key" "leaf" {
  for_each    = local.leaves
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "leaf" {
  for_each        = local.leaves
  private_key_pem = tls_private_key.leaf[each.key].private_key_pem
  dns_names       = each.value.dns
  ip_addresses    = each.value.ips
  subject {
    common_name  = each.value.cn
    organization = each.value.o
  }
}

resource "tls_locally_signed_cert" "leaf" {
  for_each              = local.leaves
  cert_request_pem      = tls_cert_request.leaf[each.key].cert_request_pem
  ca_private_key_pem    = tls_private_key.ca[each.value.ca].private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca[each.value.ca].cert_pem
  validity_period_hours = 26280
  allowed_uses          = concat(["digital_signature"], each.value.uses)
}

output "certificates" {
  value = merge(
    { for k, c in tls_self_signed_cert.ca : "${k}-ca" => c.cert_pem },
    { for k, c in tls_locally_signed_cert.leaf : k => c.cert_pem },
  )
}

output "keys" {
  value     = merge({ for k, p in tls_private_key.ca : "${k}-ca" => p.private_key_pem }, { for k, p in tls_private_key.leaf : k => p.private_key_pem })
  sensitive = true
}
