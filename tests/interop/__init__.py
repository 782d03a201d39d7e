"""Interop tests: the PKI from Terraform outputs, driven through real TLS consumers (docs/interop.md)."""
