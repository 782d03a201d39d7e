# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  etcd_ca_crt_pem_path     = "ca.crt"
  etcd_server_crt_pem_path = "server.crt"
  etcd_server_key_pem_path = "server.key"
  etcd_peer_crt_pem_path   = "peer.crt"
  etcd_peer_key_pem_path   = "peer.key"
  etcd_client_crt_pem_path = "client.crt"
  etcd_client_key_pem_path = "client.key"
}

# The files are the program's business (tests/validation); here the result is given, to pin what the
# module makes of it: the same outputs as every other flavor of etcd.
run "outputs_have_the_shape_of_every_etcd_flavor" {
  command = plan

  override_data {
    target = module.given.data.external.verify
    values = {
      result = {
        ca_cert_pem     = "certificate of ca"
        ca_key_path     = ""
        ca_info         = "{\"subject\": \"CN=ca\", \"serial\": \"ca\"}"
        server_cert_pem = "certificate of server"
        server_key_path = ""
        server_info     = "{\"subject\": \"CN=server\", \"serial\": \"server\"}"
        peer_cert_pem   = "certificate of peer"
        peer_key_path   = ""
        peer_info       = "{\"subject\": \"CN=peer\", \"serial\": \"peer\"}"
        client_cert_pem = "certificate of client"
        client_key_path = ""
        client_info     = "{\"subject\": \"CN=client\", \"serial\": \"client\"}"
        ca_key_alg      = ""
        warnings        = "[]"
      }
    }
  }

  assert {
    condition     = output.etcd_ca_crt_pem == "certificate of ca"
    error_message = "etcd_ca_crt_pem must be the ca certificate as given"
  }
  assert {
    condition     = output.etcd_server_crt_pem == "certificate of server"
    error_message = "etcd_server_crt_pem must be the server certificate as given"
  }
  assert {
    condition     = output.etcd_peer_crt_pem == "certificate of peer"
    error_message = "etcd_peer_crt_pem must be the peer certificate as given"
  }
  assert {
    condition     = output.etcd_client_crt_pem == "certificate of client"
    error_message = "etcd_client_crt_pem must be the client certificate as given"
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
