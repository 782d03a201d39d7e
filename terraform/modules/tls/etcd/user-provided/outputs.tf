# Identical in every flavor of this module (tests/test_module_contract.py checks it).

output "etcd_ca_crt_pem" {
  description = "etcd CA certificate: etcd --trusted-ca-file and --peer-trusted-ca-file, kube-apiserver --etcd-cafile."
  value       = local.certs.ca.cert_pem
}

output "etcd_server_crt_pem" {
  description = "etcd server certificate: etcd --cert-file (empty for an external etcd)."
  value       = try(local.certs.server.cert_pem, "")
}

output "etcd_server_key_pem" {
  description = "etcd server key: etcd --key-file (empty for an external etcd)."
  value       = try(local.certs.server.key_pem, "")
  sensitive   = true
}

output "etcd_peer_crt_pem" {
  description = "etcd peer certificate: etcd --peer-cert-file (empty for an external etcd)."
  value       = try(local.certs.peer.cert_pem, "")
}

output "etcd_peer_key_pem" {
  description = "etcd peer key: etcd --peer-key-file (empty for an external etcd)."
  value       = try(local.certs.peer.key_pem, "")
  sensitive   = true
}

output "etcd_client_crt_pem" {
  description = "etcd client certificate: kube-apiserver --etcd-certfile."
  value       = local.certs.client.cert_pem
}

output "etcd_client_key_pem" {
  description = "etcd client key: kube-apiserver --etcd-keyfile."
  value       = local.certs.client.key_pem
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
