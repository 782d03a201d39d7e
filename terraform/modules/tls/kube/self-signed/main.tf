# kube TLS, self-signed flavor: the kube CA (generated, or the one given in ca_cert_pem/ca_key_pem),
# the apiserver certificate and the kubelet (admin) client certificate; then, beyond Tectonic, the
# apiserver's own kubelet client, an admin client, and one identity per node (docs/per-node.md).

locals {
  program = concat(var.tfext_command, ["kube-self-signed"])

  apiserver_names = {
    kube_apiserver_url = var.kube_apiserver_url
    service_cidr       = var.service_cidr
    cluster_domain     = var.cluster_domain
    dns_names          = jsonencode(var.apiserver_extra_dns_names)
    ip_addresses       = jsonencode(var.apiserver_extra_ip_addresses)
  }
  # Who has an identity of their own: the CA stage's query carries every node (a new CA's run issues
  # their certificates too); each node's stage, its own.
  node_list = {
    nodes           = jsonencode(var.nodes)
    kubelet_serving = jsonencode(var.kubelet_serving)
  }
  # Each node's issuing stage: its own (node_groups = 0), or one of node_groups stages that its name's
  # hash picks, so that a node never moves between stages as others come and go.
  node_stage = {
    for n in var.nodes : n => var.node_groups == 0 ? n : format("group-%03d", parseint(substr(sha256(n), 0, 8), 16) % var.node_groups)
  }
  stage_nodes = { for n, stage in local.node_stage : stage => n... }
  # The certificates of each stage after the CA's, by name: what a new CA's run issues for each.
  stage_slots = merge(
    { certs = local.leaf_slots }, # variables.tf.json, from the catalogue
    { for stage, ns in local.stage_nodes : "node:${stage}" => flatten([for n in ns : concat(["kubelet:${n}"], can(var.kubelet_serving[n]) ? ["serving:${n}"] : [])]) },
  )

  # Keys in a key directory (docs/design.md), and certificates issued for CSRs: a slot => CSR file, and the
  # hash of each (a new CSR re-issues that certificate only; a missing file is the program's to report).
  key_dir = var.key_dir
  node_csrs = {
    for n in var.nodes : n => var.node_csr_dir == "" ? {} : merge(
      { "kubelet:${n}" = "${var.node_csr_dir}/${n}/kubelet-client.csr" },
      can(var.kubelet_serving[n]) ? { "serving:${n}" = "${var.node_csr_dir}/${n}/kubelet-serving.csr" } : {},
    )
  }
  csrs = merge(var.csr_paths, values(local.node_csrs)...)
}

# The kube CA of each generation the rotation phase keeps (internal/rotation's stages).
module "ca" {
  source   = "../../internal/issue"
  for_each = module.rotation.stages

  settings = {
    certs_are_cas = true
    program       = local.program
    query         = merge(local.issuing, local.apiserver_names, local.node_list, { ca_cert_pem = var.ca_cert_pem, ca_key_pem = var.ca_key_pem })
    # A new CA that signs issues its first leaves in the same run, for each stage after it.
    co_issued            = each.value.signing ? local.stage_slots : {}
    csr_paths            = each.value.signing ? local.csrs : {}
    key_dir              = local.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  # A given CA is identified by its certificate (its key must match it, which tfext checks).
  certs = { ca = sha256(jsonencode(concat([local.issuing, sha256(var.ca_cert_pem)], each.value.salt))) }
  # A rotation phase out of order fails here too, so that an apply targeting the CA stages checks it.
  guard = module.rotation.order_error
}

moved {
  from = module.ca
  to   = module.ca["0"]
}

locals {
  signing_ca = module.ca[module.rotation.signing].stage.certs.ca
  ca_hash    = sha256(local.signing_ca.cert_pem)
  signer     = { cert_pem = local.signing_ca.cert_pem, key_pem = local.signing_ca.key_pem, key_path = local.signing_ca.key_path }
  # What the signing CA's run issued for each stage after it (its co_issued).
  ca_run = module.ca[module.rotation.signing].stage.co_issued

  # Certificate => what shapes it (a CSR's hash only when there is one, so other hashes stay as they were).
  leaves = {
    apiserver                = sha256(jsonencode([local.issuing, local.apiserver_names, local.ca_hash]))
    kubelet                  = sha256(jsonencode([local.issuing, local.ca_hash]))
    apiserver_kubelet_client = sha256(jsonencode([local.issuing, local.ca_hash, "apiserver_kubelet_client"]))
    admin                    = sha256(jsonencode([local.issuing, local.ca_hash, "admin"]))
  }
  # Each node's certificates hash that node's entry only, so adding or removing a node issues or drops
  # exactly its own.
  node_leaves = {
    for n in var.nodes : n => merge(
      { "kubelet:${n}" = sha256(jsonencode([local.issuing, local.ca_hash, n])) },
      can(var.kubelet_serving[n]) ? { "serving:${n}" = sha256(jsonencode([local.issuing, local.ca_hash, n, var.kubelet_serving[n]])) } : {},
    )
  }
}

module "certs" {
  source = "../../internal/issue"

  settings = {
    plain_inputs = local.plain_inputs # variables.tf.json: ca_key_alg, the key directory and the CSRs

    program              = local.program
    query                = merge(local.issuing, local.apiserver_names)
    csr_paths            = var.csr_paths
    key_dir              = local.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  certs    = local.leaves
  signer   = local.signer
  upstream = local.ca_run["certs"]
}

# One stage per node (or per group of nodes, node_groups), its query naming its own nodes alone, so that
# adding a node runs the program for that node's stage only. (One stage for every node plans no faster:
# Terraform evaluates a resource's for_each again for each instance, so a for_each of 2N certificates
# costs a plan N^2; a stage per node costs Terraform a module instance per node. Groups of ~16 at 1000
# nodes cost a plan ~40% less: docs/performance.md.)
# A new CA's run still issues every node's certificates (co_issued), and each stage takes its own.
module "node" {
  source   = "../../internal/issue"
  for_each = local.stage_nodes

  settings = {
    program = local.program
    # (Each node's kubelet_serving entry by key, not a `for` over every node's entry: one per node made a
    # plan N^2.)
    query = merge(local.issuing, {
      nodes           = jsonencode(each.value)
      kubelet_serving = jsonencode({ for n in each.value : n => var.kubelet_serving[n] if can(var.kubelet_serving[n]) })
    })
    csr_paths            = merge([for n in each.value : local.node_csrs[n]]...)
    key_dir              = local.key_dir
    renewal_window_hours = var.renewal_window_hours
  }
  certs    = merge([for n in each.value : local.node_leaves[n]]...)
  signer   = local.signer
  upstream = local.ca_run["node:${each.key}"]
}

# The node_groups this workspace's nodes were issued with, recorded when the kube CA is first issued, or
# when a stage of this layout already holds a certificate (a first apply stopped before this record was
# made); otherwise it is a workspace from before node_groups: 0, a stage per node. Another value would
# issue every node's certificate again under new addresses, and drop the ones the nodes hold: refused
# (TFEXT-E095).
resource "terraform_data" "node_layout" {
  input = {
    groups = (
      length(module.ca[module.rotation.signing].stage.issued_now) > 0 ||
      anytrue([for m in module.node : length(m.stage.issued_now) < length(m.stage.certs)])
    ) ? var.node_groups : 0
  }

  lifecycle {
    ignore_changes = [input]

    postcondition {
      condition     = self.input.groups == var.node_groups
      error_message = "TFEXT-E095 node_groups: this workspace's node certificates were issued with node_groups = ${self.input.groups}${self.input.groups == 0 ? " (a stage per node)" : ""}, not ${var.node_groups}. Changing it would issue every node's certificates again and drop the keys the nodes hold. Set node_groups = ${self.input.groups}, or move the nodes without issuing: terraform state pull | tfext node-groups ${var.node_groups} > node_groups_moved.tf, then the apply it names (docs/per-node.md). Only if a first apply with node_groups = ${var.node_groups} was stopped before it kept any node certificate: terraform apply -target=<this module>.module.node, then apply."
    }
  }
}

module "rotation" {
  source = "../../internal/rotation"

  ordered  = true
  kind     = "kube"
  rotation = var.ca_rotation
  cas      = { for g, m in module.ca : g => { cert_pem = m.stage.certs.ca.cert_pem, info = m.stage.certs.ca.info, issued = length(m.stage.issued_now) > 0 } }
  certs    = { for name, c in local.certs : name => { cert_pem = c.cert_pem, info = c.info } }
  order = {
    issued_leaves = concat(module.certs.stage.issued_now, flatten([for m in module.node : m.stage.issued_now]))
    given_ca      = var.ca_cert_pem != ""
  }
}

locals {
  certs = merge({ ca = local.signing_ca }, module.certs.stage.certs, [for m in module.node : m.stage.certs]...)
}
