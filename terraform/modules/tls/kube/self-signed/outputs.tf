# Identical in every flavor of this module (tests/test_module_contract.py checks it).

output "ca_cert_pem" {
  description = "kube CA certificate: kube-apiserver --client-ca-file/--tls-ca-file, kubelet --client-ca-file, kubeconfig certificate-authority-data, identity grpc.tlsClientCA."
  value       = local.certs.ca.cert_pem
}

output "ca_key_alg" {
  description = "Algorithm of the kube CA key: RSA, ECDSA or ED25519 (empty when the CA key is not known)."
  value       = local.certs.ca.key_alg
}

output "ca_key_pem" {
  description = "kube CA private key, to sign the identity and ingress certificates (empty when not known)."
  value       = local.certs.ca.key_pem
  sensitive   = true
}

output "apiserver_cert_pem" {
  description = "kube-apiserver --tls-cert-file, and --kubelet-client-certificate."
  value       = local.certs.apiserver.cert_pem
}

output "apiserver_key_pem" {
  description = "kube-apiserver --tls-private-key-file, and --kubelet-client-key."
  value       = local.certs.apiserver.key_pem
  sensitive   = true
}

output "kubelet_cert_pem" {
  description = "Client certificate of the kubelets' and admin kubeconfig (system:masters)."
  value       = local.certs.kubelet.cert_pem
}

output "kubelet_key_pem" {
  description = "Client key of the kubelets' and admin kubeconfig."
  value       = local.certs.kubelet.key_pem
  sensitive   = true
}

output "certificates" {
  description = "Certificate name => { subject, issuer, sans, serial, sha256_fingerprint, not_before, not_after, is_ca }."
  value       = { for name, c in local.certs : name => c.info }
}

output "id" {
  description = "Changes whenever any certificate changes; depend on it to restart consumers."
  value       = sha256(join("", [for name in sort(keys(local.certs)) : local.certs[name].cert_pem]))
}
