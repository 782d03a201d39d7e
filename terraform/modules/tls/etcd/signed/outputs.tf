# Identical in every flavor of this module (tests/test_module_contract.py checks it).

output "etcd_ca_crt_pem" {
  description = "The etcd CAs to trust: etcd --trusted-ca-file and --peer-trusted-ca-file, kube-apiserver --etcd-cafile. One CA; during a CA rotation's trust and reissue phases a bundle of two, the signing CA first."
  value       = local.ca_bundle_pem
}

output "etcd_signing_ca_crt_pem" {
  description = "tfext: the etcd CA that signs in this phase (the first certificate of etcd_ca_crt_pem)."
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

output "etcd_member_server_crt_pem" {
  description = "tfext: member name => that member's own server certificate (etcd --cert-file), for each of `members`."
  value       = { for m, _ in var.members : m => try(local.certs["server:${m}"].cert_pem, "") }
}

output "etcd_member_server_key_pem" {
  description = "tfext: member name => that member's own server key (etcd --key-file)."
  value       = { for m, _ in var.members : m => try(local.certs["server:${m}"].key_pem, "") }
  sensitive   = true
}

output "etcd_member_peer_crt_pem" {
  description = "tfext: member name => that member's own peer certificate (etcd --peer-cert-file)."
  value       = { for m, _ in var.members : m => try(local.certs["peer:${m}"].cert_pem, "") }
}

output "etcd_member_peer_key_pem" {
  description = "tfext: member name => that member's own peer key (etcd --peer-key-file)."
  value       = { for m, _ in var.members : m => try(local.certs["peer:${m}"].key_pem, "") }
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
