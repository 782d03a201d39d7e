# etcd TLS, user-provided flavor: the user's files, checked against the same role profiles that the
# signed flavor issues with (key matches, chains to the CA, EKUs, required SANs, validity, strength),
# then passed through unchanged. Each of `members` brings its own server and peer pair, read from
# member_certs_dir/<member>/{server,peer}.{crt,key} (docs/per-node.md) and checked as that member's.

locals {
  member_dir = trimsuffix(var.member_certs_dir, "/")
  # The layout kubeadm uses under /etc/kubernetes/pki/etcd, one directory per member.
  member_files = var.member_certs_dir == "" ? {} : merge([
    for m, _ in var.members : {
      for role in ["server", "peer"] : "${role}:${m}" => {
        cert = "${local.member_dir}/${m}/${role}.crt"
        key  = "${local.member_dir}/${m}/${role}.key"
      }
    }
  ]...)
}

module "given" {
  source = "../../internal/verify"

  program = concat(var.tfext_command, ["etcd-user-provided"])
  query = merge({
    ca_cert_path         = var.etcd_ca_crt_pem_path
    server_cert_path     = var.etcd_server_crt_pem_path
    server_key_path      = var.etcd_server_key_pem_path
    peer_cert_path       = var.etcd_peer_crt_pem_path
    peer_key_path        = var.etcd_peer_key_pem_path
    client_cert_path     = var.etcd_client_crt_pem_path
    client_key_path      = var.etcd_client_key_pem_path
    dns_names            = jsonencode(var.etcd_cert_dns_names)
    ip_addresses         = jsonencode(var.etcd_cert_ip_addresses)
    service_cidr         = var.service_cidr
    renewal_window_hours = tostring(var.renewal_window_hours)
    ca_rotation_phase    = var.ca_rotation.phase
    members              = jsonencode(var.members)
    },
    { for slot, f in local.member_files : "${slot}_cert_path" => f.cert },
    { for slot, f in local.member_files : "${slot}_key_path" => f.key },
  )
  generating_inputs = local.ignored_inputs # variables.tf.json: etcd/signed's inputs, accepted and ignored
  ignored_ca_key    = local.ignored_ca_key
  slots             = concat(["ca", "server", "peer", "client"], keys(local.member_files))
}

module "rotation" {
  source = "../../internal/rotation"

  kind     = "etcd"
  rotation = var.ca_rotation
  certs    = { for name, c in module.given.certs : name => { cert_pem = c.cert_pem, info = c.info } }
  other    = module.given.ca_other
}

locals {
  certs = module.given.certs
}
