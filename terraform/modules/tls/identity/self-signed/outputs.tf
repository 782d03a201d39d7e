# Identical in every flavor of this module (tests/test_module_contract.py checks it).

output "client_cert_pem" {
  description = "Tectonic Console's gRPC client certificate: BRIDGE_DEX_CLIENT_CERT_FILE."
  value       = local.certs.client.cert_pem
}

output "client_key_pem" {
  description = "Tectonic Console's gRPC client key: BRIDGE_DEX_CLIENT_KEY_FILE."
  value       = local.certs.client.key_pem
  sensitive   = true
}

output "server_cert_pem" {
  description = "Tectonic Identity gRPC server certificate: grpc.tlsCert."
  value       = local.certs.server.cert_pem
}

output "server_key_pem" {
  description = "Tectonic Identity gRPC server key: grpc.tlsKey."
  value       = local.certs.server.key_pem
  sensitive   = true
}

output "ca_cert_pem" {
  description = "The CA both certificates chain to: identity grpc.tlsClientCA, and the console's trust for the server."
  value       = local.ca_cert_pem
}

output "certificates" {
  description = "Certificate name => { subject, issuer, sans, serial, sha256_fingerprint, not_before, not_after, is_ca }."
  value       = { for name, c in local.certs : name => c.info }
}

output "id" {
  description = "Changes whenever any certificate changes; depend on it to restart consumers."
  value       = sha256(join("", [for name in sort(keys(local.certs)) : local.certs[name].cert_pem]))
}

output "key_files" {
  description = "tfext: certificate => the file its private key is in, where it is in a file (a key directory, or a user-provided key file): what `tfext write-assets` reads keys from when the root module outputs no key. Not secret: paths only."
  value       = { for name, c in local.certs : name => c.key_path if c.key_path != "" }
}
