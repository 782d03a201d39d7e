# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

variables {
  ca_cert_pem_path        = "ca.crt"
  apiserver_cert_pem_path = "apiserver.crt"
  apiserver_key_pem_path  = "apiserver.key"
  kubelet_cert_pem_path   = "kubelet.crt"
  kubelet_key_pem_path    = "kubelet.key"
  kube_apiserver_url      = "https://api.example.com:443"
  service_cidr            = "10.3.0.0/16"
}

# The files are the program's business (tests/validation); here the result is given, to pin what the
# module makes of it: the same outputs as every other flavor of kube.
run "outputs_have_the_shape_of_every_kube_flavor" {
  command = plan

  override_data {
    target = module.given.data.external.verify
    values = {
      result = {
        ca_cert_pem        = "certificate of ca"
        ca_key_path        = ""
        ca_info            = "{\"subject\": \"CN=ca\", \"serial\": \"ca\"}"
        apiserver_cert_pem = "certificate of apiserver"
        apiserver_key_path = ""
        apiserver_info     = "{\"subject\": \"CN=apiserver\", \"serial\": \"apiserver\"}"
        kubelet_cert_pem   = "certificate of kubelet"
        kubelet_key_path   = ""
        kubelet_info       = "{\"subject\": \"CN=kubelet\", \"serial\": \"kubelet\"}"
        ca_key_alg         = ""
        warnings           = "[]"
      }
    }
  }

  assert {
    condition     = output.ca_cert_pem == "certificate of ca"
    error_message = "ca_cert_pem must be the ca certificate as given"
  }
  assert {
    condition     = output.apiserver_cert_pem == "certificate of apiserver"
    error_message = "apiserver_cert_pem must be the apiserver certificate as given"
  }
  assert {
    condition     = output.kubelet_cert_pem == "certificate of kubelet"
    error_message = "kubelet_cert_pem must be the kubelet certificate as given"
  }
  assert {
    condition     = nonsensitive(alltrue([for k in [output.ca_key_pem, output.apiserver_key_pem, output.kubelet_key_pem] : k == ""]))
    error_message = "with no key file named in the result, the key outputs are empty"
  }
  assert {
    condition     = join(",", sort(keys(output.certificates))) == "apiserver,ca,kubelet" && output.certificates.kubelet.serial == "kubelet"
    error_message = "certificates must name exactly apiserver, ca, kubelet, with the facts the program gave"
  }
}

run "refuses_a_key_path_that_is_not_given" {
  command = plan

  variables {
    apiserver_key_pem_path = "/dev/null"
  }

  expect_failures = [var.apiserver_key_pem_path]
}
