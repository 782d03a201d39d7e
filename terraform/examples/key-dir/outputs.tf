# terraform/examples/key-dir: the Tectonic wiring of ../tectonic (main.tf and variables.tf are its files)
# with every generated key in a key directory (terraform.tfvars: key_dir = "keys"), so that Terraform's
# state, plan files and logs hold no private key. Create the directory first, then apply; write the
# assets from the outputs, which name the key files and hold no key:
#   install -d -m 0700 keys
#   terraform init && terraform apply
#   terraform output -json | tfext write-assets generated/tls

# Every module output but the keys: certificates, facts, and the files the keys are in. A root output is
# kept in state (a module's is not), so none of these holds a key; `tfext write-assets` reads each key
# from its file.
output "kube_certs" {
  value = { for name, value in module.kube_certs : name => value if !endswith(name, "key_pem") }
}

output "etcd_certs" {
  value = { for name, value in module.etcd_certs : name => value if !endswith(name, "key_pem") }
}

output "identity_certs" {
  value = { for name, value in module.identity_certs : name => value if !endswith(name, "key_pem") }
}

output "ingress_certs" {
  value = { for name, value in module.ingress_certs : name => value if !endswith(name, "key_pem") }
}

# The certificates' facts, for `tfext summary`, `inspect` and `check-expiration`.
output "certificates" {
  value = {
    kube_certs     = module.kube_certs.certificates
    etcd_certs     = module.etcd_certs.certificates
    identity_certs = module.identity_certs.certificates
    ingress_certs  = module.ingress_certs.certificates
  }
}
