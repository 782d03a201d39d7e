# ingress TLS, self-signed flavor: the Tectonic Ingress default certificate for base_address, signed by
# the CA given (Tectonic passed the kube CA).

locals {
  issuing = {
    validity_period = tostring(var.validity_period)
    key_algorithm   = var.key_algorithm
    key_format      = var.key_format
  }
  # The CA that signs is the first certificate of ca_cert_pem (a bundle of two while the kube CA is
  # rotated, docs/ca-rotation.md): only a change of it re-issues. One CA keeps its hash from before.
  ca_hash = sha256(length(regexall("-----BEGIN CERTIFICATE-----", var.ca_cert_pem)) > 1 ? regex("(?s)^.*?-----END CERTIFICATE-----\n?", var.ca_cert_pem) : var.ca_cert_pem)
  # The CA's key file when given (a kube module keeping its keys in a key directory): its text then never
  # passes through the query, which Terraform keeps in state.
  signing_key = var.ca_key_path == "" ? { ca_key_pem = var.ca_key_pem } : { ca_key_path = abspath(var.ca_key_path) }
  csrs        = { for slot, csr in var.csr_paths : slot => csr if csr != "" }
  csr_hash    = { for slot, csr in local.csrs : slot => [try(filesha256(csr), "missing:${csr}")] }
}

module "certs" {
  source = "../../internal/issue"

  plain_inputs = local.plain_inputs # variables.tf.json: ca_key_alg, the CA key's file, the key directory, the CSRs
  # Checked at every plan, before the program, when the CA comes from a flavor that does not have its
  # key (kube/user-provided without ca_key_pem_path gives an empty ca_key_pem and ca_key_path).
  guard = nonsensitive(sensitive(var.ca_key_pem) == "") && var.ca_key_path == "" ? "TFEXT-E053 ca_key_pem: no CA private key was given (ca_key_pem and ca_key_path are empty), and this flavor signs with it. Pass the kube module's ca_key_pem and ca_key_path outputs; from kube/user-provided, set its ca_key_pem_path first. Or use ingress/user-provided with files signed elsewhere." : ""

  program = concat(var.tfext_command, ["ingress-self-signed"])
  query = merge(local.issuing, {
    base_address = var.base_address
    ca_cert_pem  = var.ca_cert_pem
  }, local.signing_key)
  certs                = { ingress = sha256(jsonencode(concat([local.issuing, var.base_address, local.ca_hash], lookup(local.csr_hash, "ingress", [])))) }
  csr_paths            = local.csrs
  key_dir              = var.key_dir
  renewal_window_hours = var.renewal_window_hours
}

locals {
  ca_cert_pem = var.ca_cert_pem
  certs       = module.certs.certs
}
