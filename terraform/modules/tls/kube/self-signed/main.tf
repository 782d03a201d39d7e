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
  # Each node's issuing stage, in the layout this workspace recorded (terraform_data.node_layout): one of
  # that many stages, picked by a hash of the node's name so that a node never moves between stages as
  # others come and go; or, with 0, its own.
  node_groups = terraform_data.node_layout.input.groups
  node_stage = {
    for n in var.nodes : n => local.node_groups == 0 ? n : format("group-%03d", parseint(substr(sha256(n), 0, 8), 16) % local.node_groups)
  }
  stage_nodes = { for n, stage in local.node_stage : stage => n... }
  # The certificates of each stage after the CA's, by name: what a new CA's run issues for each. Nodes by
  # node, not by stage: the stages depend on the recorded layout, which the CA must not (each stage
  # merges its nodes' shares).
  stage_slots = merge(
    { certs = local.leaf_slots }, # variables.tf.json, from the catalogue
    { for n in var.nodes : "node:${n}" => concat(["kubelet:${n}"], can(var.kubelet_serving[n]) ? ["serving:${n}"] : []) },
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
  # What the signing CA's run issued for each stage after it (its co_issued), in a plan where it issued
  # (else empty). Its keys are known at plan even while its values are not, where try() and can() would
  # give unknown.
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
  upstream = contains(keys(local.ca_run), "certs") ? local.ca_run["certs"] : null # null: nothing issued upstream
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
  certs  = merge([for n in each.value : local.node_leaves[n]]...)
  signer = local.signer
  upstream = contains(keys(local.ca_run), "certs") ? {
    issuing = local.ca_run["certs"].issuing
    public  = merge({}, [for n in each.value : local.ca_run["node:${n}"].public]...)
    keys    = sensitive(merge({}, [for n in each.value : local.ca_run["node:${n}"].keys]...))
  } : null
}

# The node_groups this workspace's nodes are issued with: node_groups when it is set; unset, 64 in the
# plan that first applies this module, and 0 (a stage per node) when recorded later, in a workspace from
# before node_groups. Made before any node's stage (their for_each reads it). Another value later would
# issue every node's certificate again under new addresses, and drop the ones the nodes hold: refused
# (TFEXT-E095), here, and below when a record made now finds the nodes in another layout.
resource "terraform_data" "node_layout" {
  input = {
    groups = coalesce(var.node_groups, module.rotation.first_plan ? local.default_node_groups : 0)
    at     = plantimestamp()
  }

  lifecycle {
    ignore_changes = [input]

    postcondition {
      condition     = var.node_groups == null || self.input.groups == var.node_groups
      error_message = "TFEXT-E095 node_groups: this workspace's node certificates are issued with node_groups = ${self.input.groups}${self.input.groups == 0 ? " (a stage per node)" : ""}, not ${coalesce(var.node_groups, self.input.groups)}. Changing it would issue every node's certificates again and drop the keys the nodes hold. Remove node_groups (the recorded value is used) or set it to ${self.input.groups}; or move the nodes without issuing anything: terraform state pull | tfext node-groups ${coalesce(var.node_groups, self.input.groups)} > node_groups_moved.tf, then the apply it names (docs/per-node.md). (A first apply stopped before this record was made records 0; no node has a certificate then, and the move is quick.)"
    }
  }
}

locals {
  # The layout recorded in this plan, not the first, over nodes none of whose certificates is in its
  # stages: they are in the stages of a stage per node (node_groups set on a workspace from before it, or
  # the layout record replaced, without the `moved` blocks of tfext node-groups). Said by the client
  # certificates' output: only what comes after the node stages can look at them.
  node_layout_refusal = (
    try(terraform_data.node_layout.input.at == plantimestamp(), false) && !module.rotation.first_plan && local.node_groups != 0 &&
    length(var.nodes) > 0 && alltrue([for m in module.node : length(m.stage.issued_now) == length(m.stage.certs)])
  ) ? "TFEXT-E095 node_groups = ${local.node_groups}: this workspace's node certificates are not in the stages of that layout (a workspace from before node_groups keeps a stage per node), and this plan would issue every one of them again, dropping the keys the nodes hold. Remove node_groups, or move the nodes without issuing anything: terraform state pull | tfext node-groups ${local.node_groups} > node_groups_moved.tf, then the apply it names (docs/per-node.md). (If no node has a certificate yet, a first apply stopped early: remove node_groups, apply, then move.)" : ""
}

# A workspace from before node_groups keeps a stage per node (its record says 0) while node_groups is
# unset: with many nodes, say what the shared stages would save and how to move. Setting node_groups = 0
# keeps the layout and silences this.
check "node_layout" {
  assert {
    condition     = var.node_groups != null || local.node_groups != 0 || length(var.nodes) < 100
    error_message = "TFEXT-E099 nodes: this workspace issues its ${length(var.nodes)} nodes with a stage each, the layout of a workspace from before node_groups; in ${local.default_node_groups} shared stages a quiet plan takes less time (at 1000 nodes ~9 s instead of ~15 s). Nothing is wrong. To move the nodes without issuing anything: terraform state pull | tfext node-groups ${local.default_node_groups} > node_groups_moved.tf, then the apply it names (docs/per-node.md). To keep a stage per node and silence this, set node_groups = 0."
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
