# Identical in every flavor of this module (tests/test_module_contract.py checks it).

output "ca_cert_pem" {
  description = "Ingress CA certificate: console BRIDGE_CA_FILE, kube-apiserver --oidc-ca-file."
  value       = local.ca_cert_pem
}

output "cert_pem" {
  description = "Ingress certificate: the ingress controller's --default-ssl-certificate."
  value       = local.certs.ingress.cert_pem
}

output "key_pem" {
  description = "Ingress key: the ingress controller's --default-ssl-certificate."
  value       = local.certs.ingress.key_pem
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

output "key_files" {
  description = "tfext: certificate => the file its private key is in, where it is in a file (a key directory, or a user-provided key file): what `tfext write-assets` reads keys from when the root module outputs no key. Not secret: paths only."
  value       = { for name, c in local.certs : name => c.key_path if c.key_path != "" }
}
