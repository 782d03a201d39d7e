"""What may name an etcd member or a Kubernetes node: one rule, for the query parser
(`tfext.programs.inputs`), the catalogue's variable validations and the tools alike.

A name is a Kubernetes node name, a lowercase RFC 1123 subdomain of at most 253 characters. That is also a
DNS name, so it can stand in a SAN, and it holds no ':', '/' or '..', so it is safe as a slot name
(`<role>:<node>`) and as a directory name (`kube/nodes/<node>/`). Pure Python, no imports of tfext.
"""

from __future__ import annotations

import re

NODE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_NODE_NAME = 253


def is_node_name(name: object) -> bool:
    """A Kubernetes node name (lowercase RFC 1123 subdomain, at most 253 characters): safe as a slot name,
    a DNS SAN and a directory name alike (no ':', '/', '..')."""
    return isinstance(name, str) and len(name) <= MAX_NODE_NAME and NODE_NAME.match(name) is not None
