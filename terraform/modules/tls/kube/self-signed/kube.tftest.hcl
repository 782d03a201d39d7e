# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  kube_apiserver_url = "https://api.example.com:443"
  service_cidr       = "10.3.0.0/16"
}

run "issues_the_kube_pki" {
  assert {
    condition     = alltrue([for pem in [output.ca_cert_pem, output.apiserver_cert_pem, output.kubelet_cert_pem] : startswith(pem, "-----BEGIN CERTIFICATE-----")])
    error_message = "ca_cert_pem, apiserver_cert_pem and kubelet_cert_pem must each be a PEM certificate"
  }
  assert {
    condition     = nonsensitive(alltrue([for pem in [output.ca_key_pem, output.apiserver_key_pem, output.kubelet_key_pem] : strcontains(pem, "PRIVATE KEY-----")]))
    error_message = "ca_key_pem, apiserver_key_pem and kubelet_key_pem must each be a PEM private key"
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

# One plan, each input refused by its own validation: a URL that is not https, a service CIDR that is
# not one, a key format it does not know.
run "refuses_what_each_validation_refuses" {
  command = plan

  variables {
    kube_apiserver_url = "http://api.example.com"
    service_cidr       = "10.3.0.0"
    key_format         = "der"
  }

  expect_failures = [var.kube_apiserver_url, var.service_cidr, var.key_format]
}
