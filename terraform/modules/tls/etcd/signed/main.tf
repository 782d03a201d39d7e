# etcd TLS, "signed" flavor, in one of three modes. Generate (self_signed = true): the etcd CA and the
# server, peer and client certificates. Sign (self_signed = false with etcd_ca_key_path): the same
# certificates, signed by the given etcd CA. External (self_signed = false, no CA key): an external
# etcd's CA and client pair, checked and passed through; server and peer outputs are empty. Beyond
# Tectonic, each of `members` gets a server and a peer certificate of its own (docs/per-node.md).

locals {
  not_given   = ["", "/dev/null"]
  ca_cert     = contains(local.not_given, var.etcd_ca_cert_path) ? "" : var.etcd_ca_cert_path
  ca_key      = contains(local.not_given, var.etcd_ca_key_path) ? "" : var.etcd_ca_key_path
  client_cert = contains(local.not_given, var.etcd_client_cert_path) ? "" : var.etcd_client_cert_path
  client_key  = contains(local.not_given, var.etcd_client_key_path) ? "" : var.etcd_client_key_path
  mode        = var.self_signed ? "generate" : (local.ca_key != "" ? "sign" : "external")
  program     = concat(var.tfext_command, ["etcd-signed"])

  names = {
    dns_names    = jsonencode(var.etcd_cert_dns_names)
    ip_addresses = jsonencode(var.etcd_cert_ip_addresses)
    service_cidr = var.service_cidr
  }
  # Members with an identity of their own: the CA stage's query carries every member (a new CA's run
  # issues their certificates too); each member's stage, its own.
  member_list = { members = jsonencode(var.members) }
  given_ca = {
    ca_cert_path = local.mode == "sign" ? local.ca_cert : ""
    ca_key_path  = local.mode == "sign" ? local.ca_key : ""
  }
  # A missing file still gets a hash here, so that tfext (not a Terraform function) reports it.
  given_ca_hash = [for p in values(local.given_ca) : try(filesha256(p), "none:${p}")]

  # Keys in a key directory, and certificates issued for CSRs (as in kube/self-signed).
  key_dir = var.key_dir
  member_csrs = {
    for m, _ in var.members : m => var.member_csr_dir == "" ? {} : {
      "server:${m}" = "${var.member_csr_dir}/${m}/server.csr"
      "peer:${m}"   = "${var.member_csr_dir}/${m}/peer.csr"
    }
  }
  csrs = merge(var.csr_paths, values(local.member_csrs)...)
}

# The etcd CA of each generation the rotation phase keeps (internal/rotation's stages; none for an
# external etcd).
module "ca" {
  source   = "../../internal/issue"
  for_each = module.rotation.stages

  settings = {
    certs_are_cas        = true
    program              = local.program
    query                = merge(local.issuing, local.names, local.member_list, local.given_ca)
    co_issued            = each.value.signing ? merge({ certs = local.leaf_slots }, { for m, _ in var.members : "member:${m}" => ["server:${m}", "peer:${m}"] }) : {}
    csr_paths            = each.value.signing ? local.csrs : {}
    key_dir              = local.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  certs = { ca = sha256(jsonencode(concat([local.issuing, local.given_ca_hash], each.value.salt))) }
  # A rotation phase out of order fails here too, so that an apply targeting the CA stages checks it.
  guard = module.rotation.order_error
}

moved {
  from = module.ca[0]
  to   = module.ca["0"]
}

locals {
  signing_ca = local.mode == "external" ? null : module.ca[module.rotation.signing].stage.certs.ca
  # What the signing CA's run issued for each stage after it, in a plan where it issued (else empty). Its
  # keys are known at plan even while its values are not, where try() and can() would give unknown.
  ca_run  = local.mode == "external" ? {} : module.ca[module.rotation.signing].stage.co_issued
  ca_hash = local.mode == "external" ? "" : sha256(local.signing_ca.cert_pem)
  # The CA key a leaf stage signs with: its file in key-directory mode (never its text in a query), else
  # its text.
  signer = local.mode == "external" ? null : { cert_pem = local.signing_ca.cert_pem, key_pem = local.signing_ca.key_pem, key_path = local.signing_ca.key_path }
}

module "certs" {
  source = "../../internal/issue"
  count  = local.mode == "external" ? 0 : 1

  settings = {
    plain_inputs = local.plain_inputs # variables.tf.json: the key directory and the CSRs

    program              = local.program
    query                = merge(local.issuing, local.names)
    csr_paths            = var.csr_paths
    key_dir              = local.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  certs = {
    server = sha256(jsonencode([local.issuing, local.names, local.ca_hash]))
    peer   = sha256(jsonencode([local.issuing, local.names, local.ca_hash]))
    client = sha256(jsonencode([local.issuing, local.ca_hash]))
  }
  signer   = local.signer
  upstream = contains(keys(local.ca_run), "certs") ? local.ca_run["certs"] : null # null: nothing issued upstream
}

# One stage per member, as kube/self-signed has one per node: its query names that member alone, and
# its two certificates hash that member's entry only, so adding or removing a member issues or drops
# exactly its own two. A new CA's run still issues them all (co_issued).
module "member" {
  source   = "../../internal/issue"
  for_each = local.mode == "external" ? {} : var.members

  settings = {
    program = local.program
    query = merge(local.issuing, {
      members = jsonencode({ (each.key) = each.value })
    })
    csr_paths            = local.member_csrs[each.key]
    key_dir              = local.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  certs = {
    for role in ["server", "peer"] : "${role}:${each.key}" => sha256(jsonencode([local.issuing, local.ca_hash, "${role}:${each.key}", each.value]))
  }
  signer   = local.signer
  upstream = contains(keys(local.ca_run), "member:${each.key}") ? local.ca_run["member:${each.key}"] : null
}

module "external" {
  source = "../../internal/verify"
  count  = local.mode == "external" ? 1 : 0

  program = local.program
  query = {
    ca_cert_path         = local.ca_cert
    client_cert_path     = local.client_cert
    client_key_path      = local.client_key
    renewal_window_hours = tostring(var.renewal_window_hours)
    ca_rotation_phase    = var.ca_rotation.phase
    members              = jsonencode(var.members) # none can be issued here: the program says so
  }
  slots = ["ca", "client"]
}

locals {
  certs = merge(
    local.mode == "external" ? {} : { ca = local.signing_ca },
    try(module.certs[0].stage.certs, {}),
    try(module.external[0].certs, {}),
    [for m in module.member : m.stage.certs]...
  )
}

module "rotation" {
  source = "../../internal/rotation"

  ordered  = local.mode != "external"
  kind     = "etcd"
  rotation = var.ca_rotation
  cas      = { for g, m in module.ca : g => { cert_pem = m.stage.certs.ca.cert_pem, info = m.stage.certs.ca.info, issued = length(m.stage.issued_now) > 0 } }
  certs    = { for name, c in local.certs : name => { cert_pem = c.cert_pem, info = c.info } }
  other    = local.mode == "external" ? module.external[0].ca_other : null
  order = local.mode == "external" ? null : {
    issued_leaves = concat(module.certs[0].stage.issued_now, flatten([for m in module.member : m.stage.issued_now]))
    given_ca      = local.mode == "sign"
  }
}
