# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  self_signed            = true
  etcd_cert_dns_names    = ["etcd-0.example.com"]
  etcd_cert_ip_addresses = ["10.0.0.10"]
}

run "issues_the_etcd_pki" {
  assert {
    condition     = startswith(output.etcd_ca_crt_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "etcd_ca_crt_pem is not a PEM certificate"
  }
  assert {
    condition     = startswith(output.etcd_server_crt_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "etcd_server_crt_pem is not a PEM certificate"
  }
  assert {
    condition     = startswith(output.etcd_peer_crt_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "etcd_peer_crt_pem is not a PEM certificate"
  }
  assert {
    condition     = startswith(output.etcd_client_crt_pem, "-----BEGIN CERTIFICATE-----")
    error_message = "etcd_client_crt_pem is not a PEM certificate"
  }
  assert {
    condition     = nonsensitive(strcontains(output.etcd_server_key_pem, "PRIVATE KEY-----"))
    error_message = "etcd_server_key_pem is not a PEM private key"
  }
  assert {
    condition     = nonsensitive(strcontains(output.etcd_peer_key_pem, "PRIVATE KEY-----"))
    error_message = "etcd_peer_key_pem is not a PEM private key"
  }
  assert {
    condition     = nonsensitive(strcontains(output.etcd_client_key_pem, "PRIVATE KEY-----"))
    error_message = "etcd_client_key_pem is not a PEM private key"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "ca,client,peer,server"
    error_message = "certificates must name exactly ca, client, peer, server"
  }
  assert {
    condition     = contains(output.certificates.server.sans, "DNS:etcd-0.example.com") && contains(output.certificates.peer.sans, "IP:10.0.0.10")
    error_message = "the server and peer certificates must carry the names given"
  }
  assert {
    condition     = output.certificates.server.issuer == output.certificates.ca.subject && output.certificates.ca.is_ca
    error_message = "the etcd CA must sign the server certificate"
  }
}

run "refuses_a_key_algorithm_it_does_not_know" {
  command = plan

  variables {
    key_algorithm = "RSA-1024"
  }

  expect_failures = [var.key_algorithm]
}

run "refuses_a_name_that_is_not_dns" {
  command = plan

  variables {
    etcd_cert_dns_names = ["not a name"]
  }

  expect_failures = [var.etcd_cert_dns_names]
}

run "refuses_an_ip_with_a_cidr_suffix" {
  command = plan

  variables {
    etcd_cert_ip_addresses = ["10.0.0.10/32"]
  }

  expect_failures = [var.etcd_cert_ip_addresses]
}

run "refuses_zero_hours" {
  command = plan

  variables {
    validity_period = 0
  }

  expect_failures = [var.validity_period]
}
