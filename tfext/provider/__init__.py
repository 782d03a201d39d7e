"""An offline implementation of Terraform's `hashicorp/external` provider, served with the `tf` package.

Terraform cannot download the real provider without registry access (air-gapped networks, our CI), so
this package reproduces its `external` data source - the program/query/working_dir/result contract,
stdin encoding, error diagnostics and environment - closely enough that modules behave the same on both.

- `external` - the data source and the provider (what runs inside the plugin process);
- `__main__` - the plugin server: go-plugin handshake, TLS, lifecycle (`python -m tfext.provider`);
- `install`  - writes a Terraform filesystem mirror and the CLI configuration that points at it.

Importing this package is cheap: nothing heavy (grpc, protobuf, cryptography) is loaded here.
"""
