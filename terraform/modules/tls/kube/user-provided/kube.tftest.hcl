# `terraform test` for this flavor (Terraform >= 1.7): run it here after `terraform init`, offline with
# the CLI config `make provider` writes, and `tfext` on PATH (tests/test_terraform_test_files.py does).

# The program's result is given by ../../internal/testing (generated from tfext/catalog.py): for every
# slot, "certificate of <slot>", no key file and facts naming it. The files are the program's business
# (tests/validation); here the result is given, to pin what the module makes of it.
mock_provider "external" {
  source = "../../internal/testing"
}

variables {
  ca_cert_pem_path        = "ca.crt"
  apiserver_cert_pem_path = "apiserver.crt"
  apiserver_key_pem_path  = "apiserver.key"
  kubelet_cert_pem_path   = "kubelet.crt"
  kubelet_key_pem_path    = "kubelet.key"
  kube_apiserver_url      = "https://api.example.com:443"
  service_cidr            = "10.3.0.0/16"
}

# The same outputs as every other flavor of kube.
run "outputs_have_the_shape_of_every_kube_flavor" {
  command = plan

  # no apiserver-kubelet-client or admin files here: their outputs are empty, which the plan says (E089)
  expect_failures = [check.optional_pairs_given]

  assert {
    condition     = alltrue([for slot, pem in { ca = output.ca_cert_pem, apiserver = output.apiserver_cert_pem, kubelet = output.kubelet_cert_pem } : pem == "certificate of ${slot}"])
    error_message = "ca_cert_pem, apiserver_cert_pem and kubelet_cert_pem must each be its certificate as given"
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

# A CA file holding the two CAs of a rotation: the program names the signing one (ca_*) and the other
# (ca_other_*); the module gives them out as every kube flavor does in that phase.
run "a_rotation_bundle_has_the_signing_ca_first" {
  command = plan

  expect_failures = [check.optional_pairs_given] # no optional pairs here either (E089)

  variables {
    ca_rotation = { phase = "trust" }
  }

  override_data {
    target = module.given.data.external.verify
    values = {
      result = {
        ca_cert_pem        = "certificate of old ca\n"
        ca_key_path        = ""
        ca_info            = "{\"subject\": \"CN=ca\", \"serial\": \"old\", \"sha256_fingerprint\": \"0ld\", \"subject_key_id\": \"a1\"}"
        ca_other_cert_pem  = "certificate of new ca\n"
        ca_other_info      = "{\"subject\": \"CN=ca\", \"serial\": \"new\", \"sha256_fingerprint\": \"n3w\", \"subject_key_id\": \"b2\"}"
        apiserver_cert_pem = "certificate of apiserver"
        apiserver_key_path = ""
        apiserver_info     = "{\"subject\": \"CN=apiserver\", \"serial\": \"apiserver\", \"authority_key_id\": \"a1\"}"
        kubelet_cert_pem   = "certificate of kubelet"
        kubelet_key_path   = ""
        kubelet_info       = "{\"subject\": \"CN=kubelet\", \"serial\": \"kubelet\", \"authority_key_id\": \"b2\"}"
        ca_key_alg         = ""
        warnings           = "[]"
      }
    }
  }

  assert {
    condition     = output.ca_cert_pem == "certificate of old ca\ncertificate of new ca\n" && output.signing_ca_cert_pem == "certificate of old ca\n"
    error_message = "ca_cert_pem must be the bundle, signing CA first; signing_ca_cert_pem the signing CA alone"
  }
  assert {
    condition     = output.certificates.ca_incoming.serial == "new" && output.certificates.apiserver.chains_to == "ca" && output.certificates.kubelet.chains_to == "ca_incoming"
    error_message = "certificates must list the incoming CA and name the CA each leaf chains to"
  }
  assert {
    condition     = output.ca_rotation.phase == "trust" && output.ca_rotation.signing_ca == "0ld" && output.ca_rotation.trusted_cas == ["0ld", "n3w"]
    error_message = "ca_rotation must say the phase and the fingerprints"
  }
}

run "refuses_a_key_path_that_is_not_given" {
  command = plan

  variables {
    apiserver_key_pem_path = "/dev/null"
  }

  expect_failures = [var.apiserver_key_pem_path, check.optional_pairs_given]
}
