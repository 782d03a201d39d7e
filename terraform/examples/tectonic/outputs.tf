# Every module output, named <module>_<output> (e.g. kube_certs_apiserver_cert_pem); keys are sensitive.

output "kube_certs_ca_cert_pem" {
  value = module.kube_certs.ca_cert_pem
}

output "kube_certs_signing_ca_cert_pem" {
  value = module.kube_certs.signing_ca_cert_pem
}

output "kube_certs_ca_rotation" {
  value = module.kube_certs.ca_rotation
}

output "kube_certs_ca_key_alg" {
  value = module.kube_certs.ca_key_alg
}

output "kube_certs_ca_key_pem" {
  value     = module.kube_certs.ca_key_pem
  sensitive = true
}

output "kube_certs_apiserver_cert_pem" {
  value = module.kube_certs.apiserver_cert_pem
}

output "kube_certs_apiserver_key_pem" {
  value     = module.kube_certs.apiserver_key_pem
  sensitive = true
}

output "kube_certs_kubelet_cert_pem" {
  value = module.kube_certs.kubelet_cert_pem
}

output "kube_certs_kubelet_key_pem" {
  value     = module.kube_certs.kubelet_key_pem
  sensitive = true
}

output "kube_certs_apiserver_kubelet_client_cert_pem" {
  value = module.kube_certs.apiserver_kubelet_client_cert_pem
}

output "kube_certs_apiserver_kubelet_client_key_pem" {
  value     = module.kube_certs.apiserver_kubelet_client_key_pem
  sensitive = true
}

output "kube_certs_admin_cert_pem" {
  value = module.kube_certs.admin_cert_pem
}

output "kube_certs_admin_key_pem" {
  value     = module.kube_certs.admin_key_pem
  sensitive = true
}

output "etcd_certs_etcd_ca_crt_pem" {
  value = module.etcd_certs.etcd_ca_crt_pem
}

output "etcd_certs_etcd_signing_ca_crt_pem" {
  value = module.etcd_certs.etcd_signing_ca_crt_pem
}

output "etcd_certs_ca_rotation" {
  value = module.etcd_certs.ca_rotation
}

output "etcd_certs_etcd_server_crt_pem" {
  value = module.etcd_certs.etcd_server_crt_pem
}

output "etcd_certs_etcd_server_key_pem" {
  value     = module.etcd_certs.etcd_server_key_pem
  sensitive = true
}

output "etcd_certs_etcd_peer_crt_pem" {
  value = module.etcd_certs.etcd_peer_crt_pem
}

output "etcd_certs_etcd_peer_key_pem" {
  value     = module.etcd_certs.etcd_peer_key_pem
  sensitive = true
}

output "etcd_certs_etcd_client_crt_pem" {
  value = module.etcd_certs.etcd_client_crt_pem
}

output "etcd_certs_etcd_client_key_pem" {
  value     = module.etcd_certs.etcd_client_key_pem
  sensitive = true
}

output "identity_certs_ca_cert_pem" {
  value = module.identity_certs.ca_cert_pem
}

output "identity_certs_server_cert_pem" {
  value = module.identity_certs.server_cert_pem
}

output "identity_certs_server_key_pem" {
  value     = module.identity_certs.server_key_pem
  sensitive = true
}

output "identity_certs_client_cert_pem" {
  value = module.identity_certs.client_cert_pem
}

output "identity_certs_client_key_pem" {
  value     = module.identity_certs.client_key_pem
  sensitive = true
}

output "ingress_certs_ca_cert_pem" {
  value = module.ingress_certs.ca_cert_pem
}

output "ingress_certs_cert_pem" {
  value = module.ingress_certs.cert_pem
}

output "ingress_certs_key_pem" {
  value     = module.ingress_certs.key_pem
  sensitive = true
}

output "certificates" {
  description = "Module => certificate name => subject, issuer, SANs, serial, fingerprint, validity."
  value = {
    kube_certs     = module.kube_certs.certificates
    etcd_certs     = module.etcd_certs.certificates
    identity_certs = module.identity_certs.certificates
    ingress_certs  = module.ingress_certs.certificates
  }
}
