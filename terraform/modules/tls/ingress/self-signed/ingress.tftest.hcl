# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

run "kube_ca" {
  module {
    source = "../../kube/self-signed"
  }

  variables {
    kube_apiserver_url = "https://api.example.com:443"
    service_cidr       = "10.3.0.0/16"
  }
}

run "issues_the_ingress_pair_with_the_ca_given" {
  variables {
    base_address = "console.example.com"
    ca_cert_pem  = run.kube_ca.ca_cert_pem
    ca_key_pem   = run.kube_ca.ca_key_pem
  }

  assert {
    condition     = alltrue([for pem in [output.cert_pem, output.ca_cert_pem] : startswith(pem, "-----BEGIN CERTIFICATE-----")])
    error_message = "cert_pem and ca_cert_pem must each be a PEM certificate"
  }
  assert {
    condition     = nonsensitive(strcontains(output.key_pem, "PRIVATE KEY-----"))
    error_message = "key_pem is not a PEM private key"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "ingress"
    error_message = "certificates must name exactly ingress"
  }
  assert {
    condition     = join(",", output.certificates.ingress.sans) == "DNS:console.example.com"
    error_message = "the ingress certificate must name base_address"
  }
}

run "refuses_a_base_address_with_a_scheme" {
  command = plan

  variables {
    base_address = "https://console.example.com"
    ca_cert_pem  = run.kube_ca.ca_cert_pem
    ca_key_pem   = run.kube_ca.ca_key_pem
  }

  expect_failures = [var.base_address]
}
