# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

# The program's result is given by ../../internal/testing (generated from tfext/catalog.py): for every
# slot, "certificate of <slot>", no key file and facts naming it. The files are the program's business
# (tests/validation); here the result is given, to pin what the module makes of it.
mock_provider "external" {
  source = "../../internal/testing"
}

variables {
  ca_cert_pem_path     = "ca.crt"
  server_cert_pem_path = "server.crt"
  server_key_pem_path  = "server.key"
  client_cert_pem_path = "client.crt"
  client_key_pem_path  = "client.key"
}

# The same outputs as every other flavor of identity.
run "outputs_have_the_shape_of_every_identity_flavor" {
  command = plan

  assert {
    condition     = alltrue([for slot, pem in { ca = output.ca_cert_pem, server = output.server_cert_pem, client = output.client_cert_pem } : pem == "certificate of ${slot}"])
    error_message = "ca_cert_pem, server_cert_pem and client_cert_pem must each be its certificate as given"
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
