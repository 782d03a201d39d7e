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

run "issues_the_identity_pair_with_the_ca_given" {
  variables {
    ca_cert_pem = run.kube_ca.ca_cert_pem
    ca_key_pem  = run.kube_ca.ca_key_pem
  }

  assert {
    condition     = alltrue([for pem in [output.server_cert_pem, output.client_cert_pem, output.ca_cert_pem] : startswith(pem, "-----BEGIN CERTIFICATE-----")])
    error_message = "server_cert_pem, client_cert_pem and ca_cert_pem must each be a PEM certificate"
  }
  assert {
    condition     = nonsensitive(alltrue([for pem in [output.server_key_pem, output.client_key_pem] : strcontains(pem, "PRIVATE KEY-----")]))
    error_message = "server_key_pem and client_key_pem must each be a PEM private key"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "client,server"
    error_message = "certificates must name exactly client, server"
  }
  assert {
    condition     = output.ca_cert_pem == run.kube_ca.ca_cert_pem && output.certificates.server.issuer == run.kube_ca.certificates.ca.subject
    error_message = "identity must be signed by, and hand out, the CA it was given"
  }
}

# An empty ca_key_pem is refused too, unless ca_key_path names the key's file (TFEXT-E053): a precondition
# of the issuing stage, which `terraform test` cannot name in expect_failures, so
# tests/test_state_layer.py checks it with a plan.

run "refuses_a_path_for_the_ca_certificate" {
  command = plan

  variables {
    ca_cert_pem = "ca.crt"
    ca_key_pem  = run.kube_ca.ca_key_pem
  }

  expect_failures = [var.ca_cert_pem]
}
