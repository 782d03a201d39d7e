# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  ca_cert_pem_path     = "ca.crt"
  server_cert_pem_path = "server.crt"
  server_key_pem_path  = "server.key"
  client_cert_pem_path = "client.crt"
  client_key_pem_path  = "client.key"
}

# The files are the program's business (tests/validation); here the result is given, to pin what the
# module makes of it: the same outputs as every other flavor of identity.
run "outputs_have_the_shape_of_every_identity_flavor" {
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
        client_cert_pem = "certificate of client"
        client_key_path = ""
        client_info     = "{\"subject\": \"CN=client\", \"serial\": \"client\"}"
        ca_key_alg      = ""
        warnings        = "[]"
      }
    }
  }

  assert {
    condition     = output.ca_cert_pem == "certificate of ca"
    error_message = "ca_cert_pem must be the ca certificate as given"
  }
  assert {
    condition     = output.server_cert_pem == "certificate of server"
    error_message = "server_cert_pem must be the server certificate as given"
  }
  assert {
    condition     = output.client_cert_pem == "certificate of client"
    error_message = "client_cert_pem must be the client certificate as given"
  }
  assert {
    condition     = nonsensitive(alltrue([for k in [output.server_key_pem, output.client_key_pem] : k == ""]))
    error_message = "with no key file named in the result, the key outputs are empty"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "client,server" && output.certificates.client.serial == "client"
    error_message = "certificates must name exactly client, server, with the facts the program gave"
  }
}

run "refuses_a_key_path_that_is_not_given" {
  command = plan

  variables {
    server_key_pem_path = "/dev/null"
  }

  expect_failures = [var.server_key_pem_path]
}
