# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

# The program's result is given by ../../internal/testing (generated from tfext/catalog.py): for every
# slot, "certificate of <slot>", no key file and facts naming it. The files are the program's business
# (tests/validation); here the result is given, to pin what the module makes of it.
mock_provider "external" {
  source = "../../internal/testing"
}

variables {
  etcd_ca_crt_pem_path     = "ca.crt"
  etcd_server_crt_pem_path = "server.crt"
  etcd_server_key_pem_path = "server.key"
  etcd_peer_crt_pem_path   = "peer.crt"
  etcd_peer_key_pem_path   = "peer.key"
  etcd_client_crt_pem_path = "client.crt"
  etcd_client_key_pem_path = "client.key"
}

# The same outputs as every other flavor of etcd.
run "outputs_have_the_shape_of_every_etcd_flavor" {
  command = plan

  assert {
    condition     = alltrue([for slot, pem in { ca = output.etcd_ca_crt_pem, server = output.etcd_server_crt_pem, peer = output.etcd_peer_crt_pem, client = output.etcd_client_crt_pem } : pem == "certificate of ${slot}"])
    error_message = "etcd_ca_crt_pem, etcd_server_crt_pem, etcd_peer_crt_pem and etcd_client_crt_pem must each be its certificate as given"
  }
  assert {
    condition     = nonsensitive(alltrue([for k in [output.etcd_server_key_pem, output.etcd_peer_key_pem, output.etcd_client_key_pem] : k == ""]))
    error_message = "with no key file named in the result, the key outputs are empty"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "ca,client,peer,server" && output.certificates.client.serial == "client"
    error_message = "certificates must name exactly ca, client, peer, server, with the facts the program gave"
  }
}

run "refuses_a_key_path_that_is_not_given" {
  command = plan

  variables {
    etcd_server_key_pem_path = "/dev/null"
  }

  expect_failures = [var.etcd_server_key_pem_path]
}
