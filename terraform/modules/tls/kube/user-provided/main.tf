# kube TLS, user-provided flavor: the user's files, checked against the same role profiles that the
# self-signed flavor issues with, then passed through unchanged. Without ca_key_pem_path the CA key
# outputs exist and are empty (Tectonic's flavor lacked them, so swapping it in broke every caller).
# Each of `nodes` brings its own kubelet client pair (and serving pair, for `kubelet_serving`), read
# from node_certs_dir/<node>/ (docs/per-node.md); the apiserver's kubelet client and the admin client
# are optional pairs, empty outputs when not given.

locals {
  node_dir = trimsuffix(var.node_certs_dir, "/")
  node_files = var.node_certs_dir == "" ? {} : merge(
    { for n in var.nodes : "kubelet:${n}" => { cert = "${local.node_dir}/${n}/kubelet-client.crt", key = "${local.node_dir}/${n}/kubelet-client.key" } },
    { for n, _ in var.kubelet_serving : "serving:${n}" => { cert = "${local.node_dir}/${n}/kubelet-serving.crt", key = "${local.node_dir}/${n}/kubelet-serving.key" } },
  )
  not_given = ["", "/dev/null"]
  # The optional pairs: a slot only when its certificate is given (its key is then required).
  optional_files = {
    for slot, f in {
      apiserver_kubelet_client = { cert = var.apiserver_kubelet_client_cert_pem_path, key = var.apiserver_kubelet_client_key_pem_path }
      admin                    = { cert = var.admin_cert_pem_path, key = var.admin_key_pem_path }
    } : slot => f if !contains(local.not_given, f.cert)
  }
  given_files = merge(local.optional_files, local.node_files)
}

module "given" {
  source = "../../internal/verify"

  program = concat(var.tfext_command, ["kube-user-provided"])
  query = merge({
    ca_cert_path         = var.ca_cert_pem_path
    ca_key_path          = var.ca_key_pem_path
    apiserver_cert_path  = var.apiserver_cert_pem_path
    apiserver_key_path   = var.apiserver_key_pem_path
    kubelet_cert_path    = var.kubelet_cert_pem_path
    kubelet_key_path     = var.kubelet_key_pem_path
    kube_apiserver_url   = var.kube_apiserver_url
    service_cidr         = var.service_cidr
    cluster_domain       = var.cluster_domain
    dns_names            = jsonencode(var.apiserver_extra_dns_names)
    ip_addresses         = jsonencode(var.apiserver_extra_ip_addresses)
    renewal_window_hours = tostring(var.renewal_window_hours)
    ca_rotation_phase    = var.ca_rotation.phase
    nodes                = jsonencode(var.nodes)
    kubelet_serving      = jsonencode(var.kubelet_serving)
    },
    { for slot, f in local.given_files : "${slot}_cert_path" => f.cert },
    { for slot, f in local.given_files : "${slot}_key_path" => f.key },
  )
  generating_inputs = local.ignored_inputs # variables.tf.json: kube/self-signed's inputs, accepted and ignored
  ignored_ca_key    = local.ignored_ca_key
  slots             = concat(["ca", "apiserver", "kubelet"], keys(local.given_files))
}

module "rotation" {
  source = "../../internal/rotation"

  kind     = "kube"
  rotation = var.ca_rotation
  certs    = { for name, c in module.given.certs : name => { cert_pem = c.cert_pem, info = c.info } }
  other    = module.given.ca_other
}

locals {
  # Given files have no issuing stages: nothing to refuse (kube/self-signed's node layout check, on the
  # client certificates' output).
  node_layout_refusal = ""
  # An optional pair not given reads as empty, as in the outputs of a CA key not given.
  absent = { cert_pem = "", key_pem = sensitive(""), key_path = "", key_alg = "", info = {} }
  certs  = merge({ for slot in ["apiserver_kubelet_client", "admin"] : slot => local.absent }, module.given.certs)
}

# A swap from kube/self-signed without the optional pairs: the admin and apiserver-kubelet-client outputs
# are empty, and a consumer wired to them would get nothing. Said at plan; the plan still succeeds.
check "optional_pairs_given" {
  assert {
    condition     = length(local.optional_files) == 2
    error_message = "TFEXT-E089 kube/user-provided: no ${join(" and no ", [for slot in ["apiserver_kubelet_client", "admin"] : slot if !contains(keys(local.optional_files), slot)])} files are given, so those outputs (${join(", ", [for slot in ["apiserver_kubelet_client", "admin"] : "${slot}_cert_pem/_key_pem" if !contains(keys(local.optional_files), slot)])}) are empty. Give their *_cert_pem_path and *_key_pem_path (tfext write-assets writes apiserver-kubelet-client.crt/.key and admin.crt/.key), or stop using those outputs."
  }
}
