# Identical in every flavor of this module (tests/test_module_contract.py checks it).

output "ca_cert_pem" {
  description = "The kube CAs to trust: kube-apiserver --client-ca-file, kubelet --client-ca-file, kubeconfig certificate-authority-data, identity grpc.tlsClientCA. One CA; during a CA rotation's trust and reissue phases a bundle of two, the signing CA first (identity and ingress sign with that one)."
  value       = local.ca_bundle_pem
}

output "signing_ca_cert_pem" {
  description = "tfext: the kube CA that signs in this phase (the first certificate of ca_cert_pem)."
  value       = local.certs.ca.cert_pem
}

output "ca_key_alg" {
  description = "Algorithm of the kube CA key: RSA, ECDSA or ED25519 (empty when the CA key is not known)."
  value       = local.certs.ca.key_alg
}

output "ca_key_pem" {
  description = "Private key of the signing kube CA, to sign the identity and ingress certificates (empty when not known)."
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

output "apiserver_kubelet_client_cert_pem" {
  description = "tfext: kube-apiserver --kubelet-client-certificate, an identity of its own (CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins, as kubeadm issues it) instead of the apiserver's serving certificate."
  value       = local.certs.apiserver_kubelet_client.cert_pem
}

output "apiserver_kubelet_client_key_pem" {
  description = "tfext: kube-apiserver --kubelet-client-key."
  value       = local.certs.apiserver_kubelet_client.key_pem
  sensitive   = true
}

output "admin_cert_pem" {
  description = "tfext: client certificate of the admin kubeconfig (CN=kubernetes-admin, O=kubeadm:cluster-admins), no kubelet's identity."
  value       = local.certs.admin.cert_pem
}

output "admin_key_pem" {
  description = "tfext: client key of the admin kubeconfig."
  value       = local.certs.admin.key_pem
  sensitive   = true
}

output "node_kubelet_client_cert_pem" {
  description = "tfext: node name => that node's kubelet client certificate (CN=system:node:<name>, O=system:nodes), for each of `nodes`."
  value       = { for n in var.nodes : n => local.certs["kubelet:${n}"].cert_pem }
}

output "node_kubelet_client_key_pem" {
  description = "tfext: node name => that node's kubelet client key."
  value       = { for n in var.nodes : n => local.certs["kubelet:${n}"].key_pem }
  sensitive   = true
}

output "node_kubelet_serving_cert_pem" {
  description = "tfext: node name => that node's kubelet serving certificate (kubelet --tls-cert-file), for each of `kubelet_serving`."
  value       = { for n, _ in var.kubelet_serving : n => local.certs["serving:${n}"].cert_pem if contains(var.nodes, n) }

  # Checked here, on every plan: Terraform cannot compare two variables in a validation.
  precondition {
    condition     = length(local.serving_unlisted) == 0
    error_message = "TFEXT-E084 kubelet_serving: serving certificates for nodes not in nodes: ${join(", ", local.serving_unlisted)}. Add them to nodes, or drop their kubelet_serving entries."
  }
}

output "node_kubelet_serving_key_pem" {
  description = "tfext: node name => that node's kubelet serving key (kubelet --tls-private-key-file)."
  value       = { for n, _ in var.kubelet_serving : n => local.certs["serving:${n}"].key_pem if contains(var.nodes, n) }
  sensitive   = true
}

output "certificates" {
  description = "Certificate name => { subject, issuer, sans, serial, sha256_fingerprint, not_before, not_after, is_ca, subject_key_id, authority_key_id, chains_to }. ca is the signing CA; during a rotation ca_incoming (trust) or ca_outgoing (reissue) is the other one, and chains_to names the CA each leaf chains to."
  value       = local.certificates
}

output "ca_rotation" {
  description = "tfext: { generation, phase, signing_ca, trusted_cas }: the CA rotation phase (docs/ca-rotation.md) and the SHA-256 fingerprints of the signing CA and of every trusted CA."
  value       = local.ca_rotation
}

output "id" {
  description = "Changes whenever any certificate or the trusted CAs change; depend on it to restart consumers."
  value       = sha256(join("", [for name in sort(keys(local.certs)) : name == "ca" ? local.ca_bundle_pem : local.certs[name].cert_pem]))
}

output "key_files" {
  description = "tfext: certificate => the file its private key is in, where it is in a file (a key directory, or a user-provided key file): what `tfext write-assets` reads keys from when the root module outputs no key. Not secret: paths only."
  value       = { for name, c in local.certs : name => c.key_path if c.key_path != "" }
}

output "ca_key_path" {
  description = "tfext: the file of the signing kube CA's private key, where it is in a file (a key directory, or kube/user-provided's ca_key_pem_path), else empty: pass it as identity's and ingress's ca_key_path, so the key never passes through their queries."
  value       = local.certs.ca.key_path
}
