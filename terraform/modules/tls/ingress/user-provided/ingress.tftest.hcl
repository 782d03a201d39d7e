# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

# The program's result is given by ../../internal/testing (generated from tfext/catalog.py): for every
# slot, "certificate of <slot>", no key file and facts naming it. The files are the program's business
# (tests/validation); here the result is given, to pin what the module makes of it.
mock_provider "external" {
  source = "../../internal/testing"
}

variables {
  ca_cert_pem_path = "ca.crt"
  cert_pem_path    = "ingress.crt"
  key_pem_path     = "ingress.key"
  base_address     = "console.example.com"
}

# The same outputs as every other flavor of ingress.
run "outputs_have_the_shape_of_every_ingress_flavor" {
  command = plan

  assert {
    condition     = alltrue([for slot, pem in { ca = output.ca_cert_pem, ingress = output.cert_pem } : pem == "certificate of ${slot}"])
    error_message = "ca_cert_pem and cert_pem must each be its certificate as given"
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
