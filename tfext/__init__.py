"""tfext: a cluster's TLS PKI (Tectonic's topology) from Terraform, through the `external` data source.

Where things live:
- `protocol`  - the external data source contract (stdin/stdout/stderr), one small module;
- `profiles`  - certificate roles, defined once, used to issue and to check;
- `issue`, `verify`, `keys` - issuing, checking and key handling on `cryptography`;
- `programs`  - one program per module flavor (`etcd-signed`, `kube-user-provided`, ...), one engine;
- `schemas/`  - each program's query schema;
- `provider`  - an offline implementation of hashicorp/external, for air-gapped Terraform.
"""

__version__ = "0.5.0"  # the one place the version is written: pyproject.toml reads it, releases tag it
