# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  ca_cert_pem_path = "ca.crt"
  cert_pem_path    = "ingress.crt"
  key_pem_path     = "ingress.key"
  base_address     = "console.example.com"
}

# The files are the program's business (tests/validation); here the result is given, to pin what the
# module makes of it: the same outputs as every other flavor of ingress.
run "outputs_have_the_shape_of_every_ingress_flavor" {
  command = plan

  override_data {
    target = module.given.data.external.verify
    values = {
      result = {
        ca_cert_pem      = "certificate of ca"
        ca_key_path      = ""
        ca_info          = "{\"subject\": \"CN=ca\", \"serial\": \"ca\"}"
        ingress_cert_pem = "certificate of ingress"
        ingress_key_path = ""
        ingress_info     = "{\"subject\": \"CN=ingress\", \"serial\": \"ingress\"}"
        ca_key_alg       = ""
        warnings         = "[]"
      }
    }
  }

  assert {
    condition     = output.ca_cert_pem == "certificate of ca"
    error_message = "ca_cert_pem must be the ca certificate as given"
  }
  assert {
    condition     = output.cert_pem == "certificate of ingress"
    error_message = "cert_pem must be the ingress certificate as given"
  }
  assert {
    condition     = nonsensitive(alltrue([for k in [output.key_pem] : k == ""]))
    error_message = "with no key file named in the result, the key outputs are empty"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "ingress" && output.certificates.ingress.serial == "ingress"
    error_message = "certificates must name exactly ingress, with the facts the program gave"
  }
}

run "refuses_a_key_path_that_is_not_given" {
  command = plan

  variables {
    key_pem_path = "/dev/null"
  }

  expect_failures = [var.key_pem_path]
}
