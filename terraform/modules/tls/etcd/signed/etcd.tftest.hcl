# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  self_signed            = true
  etcd_cert_dns_names    = ["etcd-0.example.com"]
  etcd_cert_ip_addresses = ["10.0.0.10"]
}

run "issues_the_etcd_pki" {
  assert {
    condition     = alltrue([for pem in [output.etcd_ca_crt_pem, output.etcd_server_crt_pem, output.etcd_peer_crt_pem, output.etcd_client_crt_pem] : startswith(pem, "-----BEGIN CERTIFICATE-----")])
    error_message = "etcd_ca_crt_pem, etcd_server_crt_pem, etcd_peer_crt_pem and etcd_client_crt_pem must each be a PEM certificate"
  }
  assert {
    condition     = nonsensitive(alltrue([for pem in [output.etcd_server_key_pem, output.etcd_peer_key_pem, output.etcd_client_key_pem] : strcontains(pem, "PRIVATE KEY-----")]))
    error_message = "etcd_server_key_pem, etcd_peer_key_pem and etcd_client_key_pem must each be a PEM private key"
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

# One plan, each input refused by its own validation: a key algorithm it does not know, a name that is not
# DNS, an IP address with a CIDR suffix, zero hours.
run "refuses_what_each_validation_refuses" {
  command = plan

  variables {
    key_algorithm          = "RSA-1024"
    etcd_cert_dns_names    = ["not a name"]
    etcd_cert_ip_addresses = ["10.0.0.10/32"]
    validity_period        = 0
  }

  expect_failures = [var.key_algorithm, var.etcd_cert_dns_names, var.etcd_cert_ip_addresses, var.validity_period]
}
