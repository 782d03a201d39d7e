# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
}

run "issues_the_kube_pki" {
  assert {
    condition     = startswith(output.ca_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "ca_cert_pem is not a PEM certificate"
  }
  assert {
    condition     = startswith(output.apiserver_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "apiserver_cert_pem is not a PEM certificate"
  }
  assert {
    condition     = startswith(output.kubelet_cert_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "kubelet_cert_pem is not a PEM certificate"
  }
  assert {
    condition     = nonsensitive(strcontains(output.ca_key_pem, "PRIVATE KEY-----"))
    error_message = "ca_key_pem is not a PEM private key"
  }
  assert {
    condition     = nonsensitive(strcontains(output.apiserver_key_pem, "PRIVATE KEY-----"))
    error_message = "apiserver_key_pem is not a PEM private key"
  }
  assert {
    condition     = nonsensitive(strcontains(output.kubelet_key_pem, "PRIVATE KEY-----"))
    error_message = "kubelet_key_pem is not a PEM private key"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "admin,apiserver,apiserver_kubelet_client,ca,kubelet"
    error_message = "certificates must name exactly admin, apiserver, apiserver_kubelet_client, ca, kubelet (no nodes given: no per-node certificates)"
  }
  assert {
    condition     = output.ca_key_alg == "RSA" && contains(output.certificates.apiserver.sans, "IP:10.3.0.1")
    error_message = "an RSA CA, and the kubernetes service IP in the apiserver certificate"
  }
}

run "refuses_a_url_that_is_not_https" {
  command = plan

  variables {
    kube_apiserver_url = "http://api.example.com"
  }

  expect_failures = [var.kube_apiserver_url]
}

run "refuses_a_service_cidr_that_is_not_one" {
  command = plan

  variables {
    service_cidr = "10.3.0.0"
  }

  expect_failures = [var.service_cidr]
}

run "refuses_a_key_format_it_does_not_know" {
  command = plan

  variables {
    key_format = "der"
  }

  expect_failures = [var.key_format]
}
