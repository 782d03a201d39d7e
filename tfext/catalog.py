"""The catalogue: every module, flavor, certificate slot, output and input of tfext, stated once.

`scripts/generate.py` writes from it each flavor's `variables.tf.json` and `outputs.tf.json` (Terraform's
JSON syntax, holding the HCL expressions and templates stated here), the query schemas
(`tfext/schemas/*.json`) and the module READMEs; the programs take their slots from it
(`tfext.programs.MODULES`), and the tools their output contract (`tfext.tools.roles.CONTRACT`, `PER_NODE`).
Hand-written HCL keeps only each flavor's wiring (`main.tf`). docs/design.md says what to edit for a new
key algorithm, output, per-node role or input.

Vocabularies are read from where the code defines them: key algorithms and formats from `tfext.keys`,
member and node names from `tfext.programs.inputs`, rotation phases from `tfext.rotation`. The rules that
variables repeat (member and node lists, DNS and IP lists, values never echoed) are functions that write
a variable's HCL. Pure data and small functions: no cryptography (a flavor's inputs are built when asked
for, since the rotation phases live beside cryptography code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

from tfext import keys
from tfext import profiles as p
from tfext.profiles import DEFAULT_IDENTITY_NAMES, DEFAULT_RENEWAL_WINDOW_HOURS, NODE_USER_PREFIX, Profile
from tfext.programs.inputs import DEFAULT_VALIDITY_HOURS, IP_SHAPED, MAX_NODE_NAME, MAX_NODES, NODE_NAME

# --- the shape of the catalogue ----------------------------------------------------------------------------

REQUIRED = object()  # an input without a default


@dataclass(frozen=True)
class Rule:
    """A variable's `validation` (or an output's `precondition`): HCL condition, HCL template message."""

    condition: str
    message: str  # what stands between the quotes of error_message: literal text and ${...}
    comment: str = ""  # said above the block


@dataclass(frozen=True)
class QueryKey:
    """A key of a program's query, as its schema declares it."""

    name: str
    kind: str  # its type, a definition of tfext/schemas/common.json
    description: str
    needs: tuple[str, ...] = ()  # keys that must come with it (dependentRequired)


@dataclass(frozen=True)
class Input:
    """A module variable, and the query key it becomes (where the flavor's main.tf passes it on)."""

    name: str
    type: str  # HCL type expression
    description: str
    default: object = REQUIRED  # a Python value: str, int, bool, list, dict, or None for null
    nullable: bool = True
    sensitive: bool = False
    rules: tuple[Rule, ...] = ()
    query: QueryKey | None = None
    # No query carries it as it is: internal/issue's plain_inputs refuses PEM text in it (TFEXT-E028),
    # without printing it.
    plain: bool = False
    ignored: bool = False  # a generating flavor's input, accepted and ignored by a user-provided one

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Output:
    """A module output; `slot` names the certificate slot (or per-node role) it is the certificate or the
    key of, for the tools' contract."""

    name: str
    description: str
    value: str  # HCL expression over main.tf's local.certs, module.rotation and the variables
    sensitive: bool = False
    slot: str = ""
    key: bool = False  # the slot's key, not its certificate
    per_node: bool = False  # a map: member or node name => certificate or key
    precondition: Rule | None = None


def as_map(expr: str) -> str:
    """An output over the certificates or the nodes as a map, not the object a `for` makes: Terraform
    spells an object's type out, one attribute per certificate or node, in the state beside the value (a
    root output of a 100-node kube module carried 127 KB of type in its 474 KB).

    Not `tomap()` of the whole: to find the map's element type, Terraform compares every element's type
    with every other's, once per attribute, three times over (cty's type unification is quadratic), and at
    1000 nodes that was ~1 s of every plan for the certificates' facts alone. Instead the entries are
    dealt into up to 256 small groups by a hash of their key, each group made a map on its own, and the
    maps merged: merge() keeps a map whose arguments are maps of one type, and looks at each entry once
    (docs/performance.md)."""
    return (
        f"tomap(merge([for g in values({{ for k, v in {expr} : "
        "substr(sha256(k), 0, 2) => { (k) = v }... }) : tomap(merge(g...))]...))"
    )


@dataclass(frozen=True)
class CertSlot:
    """A certificate of a module, bound to its role profile."""

    name: str  # query and result keys start with it: server_issued_at, server_cert_pem
    profile: Profile
    title: str  # what the schemas call it: "PEM file of the <title> certificate"


@dataclass(frozen=True)
class PerNodeRole:
    """A role issued once per member or node: slot `<prefix>:<name>` for each entry of `Inputs.<source>`."""

    prefix: str
    profile: Profile
    source: str  # "members", "nodes" or "serving_nodes"
    title: str  # "kubelet client": "one node's kubelet client or serving certificate"


@dataclass(frozen=True)
class Flavor:
    """A module's flavor: generating (it issues) or user-provided (it checks given files), with its
    inputs and the title of its program's query schema."""

    name: str  # "self-signed", "signed", "user-provided"
    generating: bool
    title: str  # the query schema's title
    header: str  # what variables.tf.json says first (its "//" comment)
    build: Callable[[], tuple[Input, ...]]  # its inputs, in order
    query: tuple[QueryKey, ...] = ()  # query keys no input becomes (a CA stage's certificate, say)
    # "<module>/<flavor>" whose inputs this one accepts and ignores, so that a swap is `source` plus paths
    accepts: str = ""
    ca_gate: str = ""  # how a given CA is adopted, for the CA's issue gate; "" when the CA is given
    gate_needs: tuple[str, ...] = ()  # keys every issue gate needs beside plan_time

    @property
    def inputs(self) -> tuple[Input, ...]:
        own = self.build()
        if not self.accepts:
            return own
        module, flavor = self.accepts.split("/")
        return own + accepted_and_ignored(self.accepts, MODULES[module].flavor(flavor), own)


@dataclass(frozen=True)
class Module:
    """A module: its CA and leaf slots, its per-node roles, its outputs (the same in every flavor)."""

    name: str
    ca: CertSlot
    leaves: tuple[CertSlot, ...]
    outputs: tuple[Output, ...]
    flavors: tuple[Flavor, ...]  # the generating flavor first
    per_node: tuple[PerNodeRole, ...] = ()
    node: str = ""  # what one entry of the per-node list is: "member" or "node"
    service_hosts: int = 1  # highest service CIDR host number its certificates use

    @property
    def slots(self) -> tuple[CertSlot, ...]:
        return (self.ca, *self.leaves)

    @property
    def programs(self) -> tuple[str, ...]:
        return tuple(f"{self.name}-{f.name}" for f in self.flavors)

    def flavor(self, name: str) -> Flavor:
        return next(f for f in self.flavors if f.name == name)


# --- HCL text --------------------------------------------------------------------------------------------


def literal(text: str) -> str:
    """`text` inside an HCL template, as it is: nothing interpolated."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "$${").replace("%{", "%%{")


def quoted(text: str) -> str:
    """`text` as an HCL string literal."""
    return f'"{literal(text)}"'


def hcl_value(value: object) -> str:
    """A Python default as HCL: None is null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(hcl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {hcl_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no HCL for {value!r}")


# --- values a message may show, and values the program refuses instead ------------------------------------

# Terraform prints a failing condition's plain values, and a failing string rule's value even when it is
# sensitive. So a string rule lets through what could be key text, for the program or TFEXT-E028 to refuse
# without echoing it: PEM text, anything longer than a setting, a long base64 run.
SETTING_LENGTH = 64
BASE64_RUN = "[A-Za-z0-9+/=]{32,}"
# What a message quotes as it is: a plausible name or address. Anything else is described, not shown.
_LABEL = r"[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?"
PLAUSIBLE_NAME = rf"^(\*\.)?({_LABEL}\.)*{_LABEL}\.?$"
PLAUSIBLE_ADDRESS = r"^[0-9A-Fa-f:.]{2,45}$"
MAX_DNS_NAME = 253
# A DNS name as the variables take it: no final dot, letters of either case, a wildcard first label.
DNS_NAME = (
    r"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
# An IPv4 address as Go reads it: four numbers 0-255, no leading zeros.
OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"^({OCTET}\.){{3}}{OCTET}$"
MAX_CN = 64  # RFC 5280's ub-common-name: a member's name is its CN, a node's follows system:node:
MAX_HOURS = 9999999


def could_be_key(v: str) -> str:
    """True for what a string rule must let through, unprinted (see SETTING_LENGTH)."""
    pem = f'strcontains({v}, "-----BEGIN")'
    return f"{pem} || length({v}) > {SETTING_LENGTH} || can(regex({quoted(BASE64_RUN)}, {v}))"


def shown(v: str) -> str:
    """`v` for a message: quoted when it is a plausible name or address, else described."""
    plausible = f"(length({v}) <= {MAX_DNS_NAME} && can(regex({quoted(PLAUSIBLE_NAME)}, {v})))"
    return (
        f"{plausible} || can(regex({quoted(PLAUSIBLE_ADDRESS)}, {v})) ? jsonencode({v}) : "
        f'strcontains({v}, "-----BEGIN") ? "(PEM text, not shown)" : "(a value of ${{length({v})}} '
        'characters, not shown)"'
    )


def ip_shaped(v: str, *, grouped: bool = True) -> str:
    """An IP address, or a name shaped like one (tfext.programs.inputs.IP_SHAPED): never a DNS name."""
    either_one = f'can(regex({quoted(IP_SHAPED.pattern)}, {v})) || can(cidrhost("${{{v}}}/128", 0))'
    return f"({either_one})" if grouped else either_one


def dns_name(v: str, *, grouped: bool = True) -> str:
    both = f"length({v}) <= {MAX_DNS_NAME} && can(regex({quoted(DNS_NAME)}, {v}))"
    return f"({both})" if grouped else both


def _host_cidr(v: str) -> str:
    return f'"${{{v}}}/${{length(split(":", {v})) > 1 ? 128 : 32}}"'


def ip_address(v: str) -> str:
    """An IP address without a CIDR suffix."""
    return f"can(cidrhost({_host_cidr(v)}, 0))"


def listed(items: str, v: str, condition: str, show: Callable[[str], str] = shown) -> str:
    """The interpolation of a message that lists the items of `items` for which `condition` holds."""
    return f'${{join(", ", [for {v} in {items} : {show(v)} if {condition}])}}'


def repeated(items: str) -> str:
    """The interpolation of a message that lists the strings found more than once in `items`. Linear (a
    map grouping each string's occurrences): Terraform evaluates a rule's message at every plan, even
    when the rule holds, and comparing each item with every other took seconds at 1000 nodes."""
    groups = f"{{ for x in {items} : x => x... }}"
    return f'${{join(", ", [for v, seen in {groups} : {shown("v")} if length(seen) > 1])}}'


# --- the repeated rules -------------------------------------------------------------------------------------


def setting_rule(name: str, condition: str, message: str, *, optional: bool = False) -> Rule:
    """A string setting's rule, which lets what could be key text through (see SETTING_LENGTH)."""
    empty = f'var.{name} == "" || ' if optional else ""
    return Rule(f"{could_be_key('var.' + name)} || {empty}{condition}", literal(message))


def one_of_rule(name: str, values: list[str] | tuple[str, ...], message: str) -> Rule:
    return setting_rule(name, f"contains({hcl_value(list(values))}, var.{name})", message)


def hours_rule(name: str, example: str) -> Rule:
    v = f"var.{name}"
    return Rule(
        f"{v} >= 1 && {v} <= {MAX_HOURS} && floor({v}) == {v}",
        literal(f"{name} must be a whole number of hours from 1 to {MAX_HOURS}, e.g. {example}."),
    )


def given_file_rule(name: str, holding: str, example: str) -> Rule:
    """A user-provided file that must be given ("" and /dev/null, Tectonic's not given, are refused)."""
    return Rule(
        f'trimspace(var.{name}) != "" && var.{name} != "/dev/null"',
        literal(
            f'{name} is required: the path of a PEM file holding the {holding}, e.g. "/etc/tls/{example}" '
            '("" and "/dev/null" mean not given).'
        ),
    )


def dns_list_rules(
    name: str, *, example: str, fix: str, note: str = "no scheme, port or spaces", at_least_one: bool = False
) -> tuple[Rule, ...]:
    """A module-level list of DNS names: each one shaped right, and no address among them (TFEXT-E086)."""
    v = f"var.{name}"
    some = f"length({v}) > 0 && " if at_least_one else ""
    what = f"at least one DNS name, such as {example}" if at_least_one else f"DNS names such as {example}"
    ip_like, good = ip_shaped("n"), dns_name("n", grouped=False)
    return (
        Rule(
            f"{some}alltrue([for n in {v} : {ip_like} || {good}])",
            literal(f"{name} must hold {what} ({note})."),
        ),
        Rule(
            f"alltrue([for n in {v} : !{ip_like}])",
            f"TFEXT-E086 {name}: {listed(v, 'n', ip_shaped('n', grouped=False))} is an IP address: as a DNS "
            "SAN it would match no client dialling the address (Go: doesn't contain any IP SANs). "
            f"{literal(fix)}",
        ),
    )


def ip_list_rule(name: str) -> Rule:
    return Rule(
        f"alltrue([for ip in var.{name} : {ip_address('ip')}])",
        literal(f"{name} must hold IP addresses such as 10.0.0.10 (no CIDR suffix)."),
    )


def name_rules(name: str, names: str, noun: str, *, limit: int, why: str) -> tuple[Rule, ...]:
    """How many members or nodes, and how each is named (tfext.programs.inputs: NODE_NAME, MAX_NODES):
    the limits the program checks when it issues a CA, checked at every plan. `names` is the list of
    names (`var.nodes`, or `keys(var.members)`)."""
    node_name = f"can(regex({quoted(NODE_NAME.pattern)}, n))"
    ip_like, ipv4 = f"can(regex({quoted(IP_SHAPED.pattern)}, n))", f"can(regex({quoted(IPV4)}, n))"
    # The names an IP-shaped name can be among (digits and dots: a number once the dots are gone), found
    # without a regex: Terraform compiles a regex at each call and evaluates both sides of || (the two
    # regexes at every name, in the rule and its message, were ~0.3 s of a 1000-node plan).
    digits_and_dots = f'[for n in {names} : n if can(tonumber(replace(n, ".", "")))]'
    # Every name well formed, checked with one regex over the names joined by a comma (which no name can
    # hold: a name holding one splits into more pieces than there are names). The message lists the bad
    # ones, a regex at each name, only when there are some.
    core = NODE_NAME.pattern.removeprefix("^").removesuffix("$")
    joined = f'join(",", {names})'
    well_named = (
        f"length({names}) == 0 || (max(0, [for n in {names} : length(n)]...) <= {limit} && "
        f'length(split(",", {joined})) == length({names}) && '
        f"can(regex({quoted(f'^(?:{core})(?:,(?:{core}))*$')}, {joined})))"
    )
    rules = [
        Rule(
            f"length(var.{name}) <= {MAX_NODES}",
            f"TFEXT-E084 {name}: ${{length(var.{name})}} {noun}s; at most {MAX_NODES} per module, the limit "
            f"the program checks when it issues a CA, so a CA with every {noun} can always be rotated. "
            "Split them across modules.",
        ),
        Rule(
            well_named,
            f"TFEXT-E084 {name}: {noun} names are lowercase letters, digits, '-' and '.', as Kubernetes "
            f"names nodes, at most {limit} characters ({why}). Not valid: "
            f"{listed(f'({well_named} ? [] : {names})', 'n', f'!{node_name} || length(n) > {limit}')}.",
        ),
        Rule(
            # toset, not distinct: Terraform's distinct is quadratic (2.9 s for 1000 names), a set is not.
            f"length(toset(var.{name})) == length(var.{name})",
            f"TFEXT-E084 {name}: each {noun} name once. Listed more than once: {repeated(f'var.{name}')}.",
        ),
        Rule(
            f"alltrue([for n in {digits_and_dots} : !{ip_like} || {ipv4}])",
            f"TFEXT-E086 {name}: {listed(digits_and_dots, 'n', f'{ip_like} && !{ipv4}', show=_as_json)} "
            "looks like an IP address but is not one as Go reads it (four numbers 0-255, no leading zeros). "
            f"A {noun} named by its IPv4 address gets it as an IP SAN: write the address exactly, or name "
            f"the {noun} by its host name.",
        ),
    ]
    if names != f"var.{name}":
        del rules[2]  # a map's keys are each there once
    return tuple(rules)


def _as_json(v: str) -> str:
    # A name shaped like an address (digits and dots) is safe to show.
    return f"jsonencode({v})"


def node_map_rules(name: str, noun: str, *, limit: int, why: str, example: str) -> tuple[Rule, ...]:
    """Members or nodes with addresses (name => { ip_addresses, dns_names }): their names, then each
    entry's DNS names and addresses, and no name or address in two entries (TFEXT-E087)."""
    v = f"var.{name}"
    dns = f"flatten([for s in values({v}) : s.dns_names])"
    ips = f"flatten([for s in values({v}) : s.ip_addresses])"
    dns_like, good_dns, good_ip = ip_shaped("d"), dns_name("d"), ip_address("ip")
    wildcard = 'startswith(d, "*")'
    normal = f"try(cidrhost({_host_cidr('ip')}, 0), ip)"
    # Each entry's names and addresses once (a set: Terraform's distinct is quadratic, and at 1000 nodes
    # this rule and its message took 4 minutes of every plan with it), then all of them: the same count
    # if no two entries share one. The message is evaluated at every plan too, so it stays linear.
    entries = (
        f"flatten([for n, s in {v} : toset(concat([n], "
        f'[for d in s.dns_names : lower(trimsuffix(d, "."))], [for ip in s.ip_addresses : {normal}]))])'
    )
    return (
        *name_rules(name, f"keys({v})", noun, limit=limit, why=why),
        Rule(
            f"alltrue([for d in {dns} : {dns_like} || {good_dns}])",
            f"TFEXT-E012 {name}: dns_names must hold DNS names such as {example} (no scheme, port or "
            f"spaces). Not valid: {listed(dns, 'd', f'!{dns_like} && !{good_dns}')}.",
        ),
        Rule(
            f"alltrue([for d in {dns} : !{dns_like}])",
            f"TFEXT-E086 {name}: {listed(dns, 'd', ip_shaped('d', grouped=False))} in dns_names: an IP "
            "address there would be a DNS SAN, which no client dialling the address accepts (Go: doesn't "
            f"contain any IP SANs). Move it to the same {noun}'s ip_addresses.",
        ),
        Rule(
            f"alltrue([for d in {dns} : !{wildcard}])",
            f"TFEXT-E088 {name}: {listed(dns, 'd', wildcard)} in dns_names: a {noun}'s certificate names "
            f"that {noun} alone, and a wildcard would let its key answer for every name below it. List each "
            "name.",
        ),
        Rule(
            f"alltrue([for ip in {ips} : {good_ip}])",
            f"TFEXT-E012 {name}: ip_addresses must hold IP addresses such as 10.0.0.10 (no CIDR suffix). "
            f"Not valid: {listed(ips, 'ip', '!' + good_ip)}.",
        ),
        Rule(
            # The entries grouped by name or address, once (each evaluation is ~0.15 s at 1000 nodes).
            f"length([for x, seen in {{ for x in {entries} : x => x... }} : x if length(seen) > 1]) == 0",
            f"TFEXT-E087 {name}: the same name or address in the entries of two {noun}s: "
            f"{repeated(entries)}. A name or address belongs to one {noun} only "
            f"(the key of a certificate naming another {noun}'s address can answer for it): keep each in "
            f"the entry of the {noun} it belongs to.",
        ),
    )


# --- vocabularies -----------------------------------------------------------------------------------------


def rotation_phases() -> tuple[str, ...]:
    """The phases of a CA rotation, as tfext.rotation defines them (imported when asked for: that module
    works on cryptography, which a program's quiet run never imports)."""
    from tfext.rotation import PHASES

    return PHASES


def either(words: list[str] | tuple[str, ...], last: str = "or") -> str:
    """'a, b or c'."""
    return f"{', '.join(words[:-1])} {last} {words[-1]}" if len(words) > 1 else words[0]


KEY_FAMILIES = tuple(dict.fromkeys(a.family for a in keys.KEY_ALGORITHMS.values()))  # RSA, ECDSA, ED25519
# What each key format means, beside its name (tfext.keys.KEY_FORMATS).
KEY_FORMAT_NOTES = {"traditional": "PKCS#1 RSA / SEC1 EC, as Tectonic wrote them"}
ROTATION_TYPE = 'object({\n  generation = optional(number, 0)\n  phase      = optional(string, "finish")\n})'
NODE_MAP_TYPE = (
    "map(object({\n"
    "  ip_addresses = optional(list(string), [])\n"
    "  dns_names    = optional(list(string), [])\n"
    "}))"
)
NODE_NAME_LIMIT = MAX_CN - len(NODE_USER_PREFIX)  # a node's CN is system:node:<name>
KUBE_URL = r"^https://([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?/?$"
HOST_PORT = r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)(:[0-9]{1,5})?$"
CLUSTER_DOMAIN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"
# The node name in a per-node query key (`kubelet:worker-1_issued_at`), as the schemas match it.
SLOT_NODE = f"[a-z0-9]([-a-z0-9.]{{0,{MAX_NODE_NAME - 2}}}[a-z0-9])?"

# --- query keys every program shares ------------------------------------------------------------------------

Q_CA_CERT_PEM = QueryKey(
    "ca_cert_pem", "pem", "the CA certificate to sign with (or to adopt, with ca_issued_at)"
)
Q_CA_KEY_PEM = QueryKey("ca_key_pem", "pem", "the CA private key (PKCS#1, SEC1 or PKCS#8)")
Q_SIGNING_KEY_FILE = QueryKey(
    "ca_key_path", "path", "the signing CA's key file (a key directory's), instead of ca_key_pem"
)
Q_PHASE = QueryKey(
    "ca_rotation_phase",
    "rotation_phase",
    "the phase of a CA rotation the given CA file is in: trust and reissue take a bundle of the outgoing "
    "and the incoming CA, finish one CA",
)
Q_KUBE_SERVICE_CIDR = QueryKey(
    "service_cidr", "cidr", "service CIDR: host 1 (the kubernetes service IP) becomes an apiserver SAN"
)
Q_ETCD_SERVICE_CIDR = QueryKey(
    "service_cidr", "cidr", "service CIDR: hosts 15 and 20 become IP SANs of server and peer"
)


def cert_file(
    slot: CertSlot, note: str = "a chain is allowed for leaves", needs: tuple[str, ...] = ()
) -> QueryKey:
    return QueryKey(
        f"{slot.name}_cert_path", "path", f"PEM file of the {slot.title} certificate ({note})", needs
    )


def key_file(slot: CertSlot, note: str = "") -> QueryKey:
    return QueryKey(f"{slot.name}_key_path", "path", f"PEM file of the {slot.title} private key{note}")


# --- inputs every flavor shares -----------------------------------------------------------------------------

NOT_GIVEN = "/dev/null"  # Tectonic's default for a path not given
NOT_GIVEN_WORDS = '"", null or "/dev/null"'  # what the programs take for a path not given

VALIDITY_PERIOD = Input(
    "validity_period",
    "number",
    "Validity of generated certificates, in hours (default 3 years).",
    DEFAULT_VALIDITY_HOURS,
    nullable=False,
    rules=(hours_rule("validity_period", f"{DEFAULT_VALIDITY_HOURS} for 3 years"),),
    query=QueryKey(
        "validity_period",
        "hours",
        f"validity of issued certificates in hours (default {DEFAULT_VALIDITY_HOURS}, 3 years)",
    ),
)
_ALGORITHMS = [f"{a} (Tectonic's)" if a == keys.DEFAULT_KEY_ALGORITHM else a for a in keys.KEY_ALGORITHMS]
KEY_ALGORITHM = Input(
    "key_algorithm",
    "string",
    f"tfext: algorithm of generated keys: {either(_ALGORITHMS)}.",
    keys.DEFAULT_KEY_ALGORITHM,
    nullable=False,
    rules=(
        one_of_rule(
            "key_algorithm",
            tuple(keys.KEY_ALGORITHMS),
            f"key_algorithm must be one of {', '.join(keys.KEY_ALGORITHMS)}.",
        ),
    ),
    query=QueryKey("key_algorithm", "key_algorithm", "algorithm of generated keys"),
)
_FORMATS = [f"{f} ({KEY_FORMAT_NOTES[f]})" if f in KEY_FORMAT_NOTES else f for f in keys.KEY_FORMATS]
KEY_FORMAT = Input(
    "key_format",
    "string",
    f"tfext: PEM format of generated keys: {either(_FORMATS)}.",
    keys.DEFAULT_KEY_FORMAT,
    nullable=False,
    rules=(one_of_rule("key_format", keys.KEY_FORMATS, f"key_format must be {either(keys.KEY_FORMATS)}."),),
    query=QueryKey("key_format", "key_format", "PEM format of generated private keys"),
)
RENEWAL_WINDOW_HOURS = Input(
    "renewal_window_hours",
    "number",
    "tfext: warn at plan time (without failing) when a certificate expires within this many hours.",
    DEFAULT_RENEWAL_WINDOW_HOURS,
    nullable=False,
    rules=(
        hours_rule(
            "renewal_window_hours",
            f"{DEFAULT_RENEWAL_WINDOW_HOURS} (30 days): tfext warns when a certificate expires within it",
        ),
    ),
    query=QueryKey(
        "renewal_window_hours",
        "hours",
        f"warn when a certificate expires within this many hours (default {DEFAULT_RENEWAL_WINDOW_HOURS})",
    ),
)
_COMMAND_EXAMPLE = 'e.g. ["tfext"] or ["/opt/venv/bin/tfext"].'
TFEXT_COMMAND = Input(
    "tfext_command",
    "list(string)",
    "tfext: how Terraform runs tfext (the `tfext` console script on PATH by default).",
    ["tfext"],
    nullable=False,
    rules=(
        Rule(
            'length(var.tfext_command) > 0 && alltrue([for a in var.tfext_command : a != ""])',
            literal(f"tfext_command must be a non-empty list of non-empty strings, {_COMMAND_EXAMPLE}"),
        ),
        Rule(
            'alltrue([for a in var.tfext_command : !strcontains(a, "-----BEGIN")])',
            literal(
                "TFEXT-E028 tfext_command: PEM text given where the command that runs tfext belongs (not "
                "shown), " + _COMMAND_EXAMPLE
            ),
        ),
    ),
)
KEY_DIR = Input(
    "key_dir",
    "string",
    "tfext: a directory for the private keys this module generates (issue 21): each new key is a new 0600 "
    "file there, and Terraform's state, plan files and logs hold only its file name and hash. It must exist "
    "and be 0700 (install -d -m 0700 DIR); tfext never creates it. Empty (the default): keys are kept in "
    "state, as before. Where it is absent (a CI runner checking the shared state) the plan warns "
    "(TFEXT-E076) and key outputs are empty.",
    "",
    nullable=False,
    query=QueryKey(
        "key_dir",
        "path",
        "absolute path of the key directory: generated keys are written there (0600, one new file each) and "
        "never returned",
    ),
    plain=True,
)
CA_KEY_ALG = Input(
    "ca_key_alg",
    "string",
    "Algorithm of ca_key_pem (RSA or ECDSA in Tectonic). Accepted for compatibility; tfext detects the "
    "algorithm from the key.",
    "",
    nullable=False,
    rules=(
        one_of_rule(
            "ca_key_alg",
            ("", *KEY_FAMILIES),
            f"ca_key_alg must be {', '.join(KEY_FAMILIES)} or empty (it is detected from the key anyway).",
        ),
    ),
    plain=True,  # never read, so never in a query
)


def csr_paths(leaves: tuple[str, ...]) -> Input:
    """Certificates issued for a CSR's key: any leaf may have one."""
    names = ", ".join(leaves)
    return Input(
        "csr_paths",
        "map(string)",
        f"tfext: certificate => a CSR file ({names}): that certificate is issued for the CSR's key, which "
        "never leaves its owner; the role, not the CSR, decides subject, names and usages. Its key output "
        "is empty. A new CSR re-issues that certificate only.",
        {},
        nullable=False,
        rules=(
            Rule(
                "alltrue([for k, _ in var.csr_paths : "
                f'strcontains(k, "-----BEGIN") || contains({hcl_value(list(leaves))}, k)])',
                f"TFEXT-E007 csr_paths: its keys are the certificates that may be issued for a CSR: {names}.",
            ),
        ),
        plain=True,
    )


def csr_dir(name: str, description: str) -> Input:
    return Input(name, "string", description, "", nullable=False, plain=True)


def setting(
    name: str, description: str, condition: str, message: str, query: QueryKey, default: object = REQUIRED
) -> Input:
    """A string setting that `condition` checks (see SETTING_LENGTH); a default of "" means not set."""
    rule = setting_rule(name, condition, message, optional=default == "")
    return Input(
        name, "string", description, default, nullable=default is REQUIRED, rules=(rule,), query=query
    )


def service_cidr(
    hosts: int, description: str, query: QueryKey, *, optional: bool, or_empty: bool = False
) -> Input:
    """The service CIDR, which must hold host `hosts` (the highest a module's certificates use)."""
    wants = (
        "a CIDR such as 10.3.0.0/16"
        if hosts == 1
        else f"a CIDR with at least {hosts + 1} addresses, such as 10.3.0.0/16"
    )
    message = f"service_cidr must be {wants}{', or empty' if or_empty else ''}."
    condition = f"can(cidrhost(var.service_cidr, {hosts}))"
    return setting("service_cidr", description, condition, message, query, "" if optional else REQUIRED)


def given_file(
    name: str, holding: str, example: str, query: QueryKey, *, chain: bool = False, description: str = ""
) -> Input:
    """A file the user provides: required, and named in messages by what it holds."""
    chained = " (a chain is allowed)" if chain else ""
    return Input(
        name,
        "string",
        description or f"PEM file of the {holding}{chained}.",
        rules=(given_file_rule(name, holding + (", a chain allowed" if chain else ""), example),),
        query=query,
    )


def given_pair(slot: CertSlot, names: tuple[str, str], holding: str, stem: str) -> tuple[Input, Input]:
    """A leaf's certificate file (a chain allowed) and key file, both required: Tectonic's *_path pair."""
    cert, key = names
    return (
        given_file(cert, f"{holding} certificate", f"{stem}.crt", cert_file(slot), chain=True),
        given_file(key, f"{holding} private key", f"{stem}.key", key_file(slot)),
    )


def optional_file(name: str, description: str, query: QueryKey | None = None, *, default: str = "") -> Input:
    """A file the user may give; "" (or Tectonic's "/dev/null") when not given."""
    return Input(name, "string", description, default, nullable=False, query=query)


def ca_rotation(description: str, *, generating: bool, query: QueryKey | None = None) -> Input:
    """A module's CA rotation (docs/ca-rotation.md): a generating flavor's, or the phase that given files
    are in (phases from tfext.rotation)."""
    phases = rotation_phases()
    phase = '{ for k, v in var.ca_rotation : k => tostring(v) }["phase"]'
    condition = f"contains({hcl_value(list(phases))}, {phase})"
    message = f"ca_rotation: phase must be {either(phases)}"
    if generating:
        generation = "var.ca_rotation.generation"
        condition += (
            f" && {generation} >= 0 && floor({generation}) == {generation}"
            f' && ({phase} == "{phases[-1]}" || {generation} >= 1)'
        )
        message += ", and generation a whole number, at least 1 while rotating (generation 0 is the first CA)"
    rule = Rule(
        condition,
        literal(message + "."),
        comment=(
            "The phase is read through a for expression: Terraform prints the value of every plain "
            "reference in a failing condition, and a key pasted here would be printed back."
        ),
    )
    type_ = ROTATION_TYPE.replace('"finish"', quoted(phases[-1]))
    return Input("ca_rotation", type_, description, {}, nullable=False, rules=(rule,), query=query)


def accepted_and_ignored(source: str, generating: Flavor, own: tuple[Input, ...]) -> tuple[Input, ...]:
    """The generating flavor's inputs that a user-provided flavor does not take itself: accepted, so that
    a swap is `source` plus the *_path inputs, and ignored (TFEXT-E054 warns when one is set)."""
    names = {i.name for i in own}
    return tuple(
        Input(
            i.name,
            i.type,
            f"Input of {source}, accepted and ignored here (a plan that sets it warns); delete it after a "
            "swap.",
            None,
            sensitive=i.sensitive,
            ignored=True,
        )
        for i in generating.inputs
        if i.name not in names
    )


def san_lists(
    names: tuple[str, str],
    descriptions: tuple[str, str],
    says: tuple[str, str],
    *,
    example: str,
    note: str = "",
) -> tuple[Input, Input]:
    """A module's extra SANs, as the query's dns_names and ip_addresses: a list of DNS names (no address
    among them, which belongs in the IP list beside it) and a list of IP addresses."""
    dns, ips = names
    rules = dns_list_rules(dns, example=example, fix=f"Move it to {ips}.", **({"note": note} if note else {}))
    return (
        Input(
            dns,
            "list(string)",
            descriptions[0],
            [],
            nullable=False,
            rules=rules,
            query=QueryKey("dns_names", "list", says[0]),
        ),
        Input(
            ips,
            "list(string)",
            descriptions[1],
            [],
            nullable=False,
            rules=(ip_list_rule(ips),),
            query=QueryKey("ip_addresses", "list", says[1]),
        ),
    )


# --- per-node inputs ---------------------------------------------------------------------------------------

MEMBER_RULES = dict(noun="member", limit=MAX_CN, why="a member's name is its certificate's CN")
NODE_RULES = dict(
    noun="node",
    limit=NODE_NAME_LIMIT,
    why=f"{NODE_USER_PREFIX}<name> is a certificate's CN, at most {MAX_CN}",
)
_ONE_PER_ENTRY = (
    "dns_names hold no address (TFEXT-E086) and no wildcard (TFEXT-E088); no name or address on two {noun}s "
    "(TFEXT-E087)."
)
_MEMBER_LIMITS = (
    f"Names and limits (checked at every plan): at most {MAX_NODES} members; a name that is an IPv4 address "
    f"(10.0.0.10) is an IP SAN, never a DNS one; {_ONE_PER_ENTRY.format(noun='member')}"
)
_NODE_LIMITS = (
    f"At most {MAX_NODES} nodes (checked at every plan, as when a CA is issued); a node named by its IPv4 "
    "address gets it as an IP SAN in its serving certificate (TFEXT-E086 for a name shaped like a bad "
    "address)."
)
_SERVING_LIMITS = (
    f"At most {MAX_NODES}; a name that is an IPv4 address is an IP SAN; {_ONE_PER_ENTRY.format(noun='node')}"
)


# name => (type, its limits for the description, query key type, the query key's description)
_WHO = {
    "members": (NODE_MAP_TYPE, _MEMBER_LIMITS, "node_map", "etcd members with certificates of their own"),
    "nodes": (
        "list(string)",
        _NODE_LIMITS,
        "node_list",
        "nodes with a kubelet client certificate of their own",
    ),
    "kubelet_serving": (
        NODE_MAP_TYPE,
        _SERVING_LIMITS,
        "node_map",
        "nodes (of nodes) with a kubelet serving certificate of their own",
    ),
}


def who(name: str, description: str) -> Input:
    """Who has certificates of their own: etcd's members, kube's nodes and serving nodes (their names and
    limits checked at every plan, as the program checks them)."""
    type_, limits, kind, says = _WHO[name]
    if type_ == NODE_MAP_TYPE:
        words = MEMBER_RULES if name == "members" else NODE_RULES
        rules = node_map_rules(name, example=f"{words['noun']}-0.example.com", **words)
        default: object = {}
        says += ": name => DNS names and IP addresses"
    else:
        rules, default = name_rules(name, f"var.{name}", **NODE_RULES), []
        says += f" ({NODE_USER_PREFIX}<name>)"
    query = QueryKey(name, kind, says)
    return Input(name, type_, f"{description} {limits}", default, nullable=False, rules=rules, query=query)


# --- the modules --------------------------------------------------------------------------------------------

KEY_TEXT_NOTE = (
    "Validations on strings let PEM text (and anything long enough to be key text) through on purpose: "
    "Terraform prints a failing string variable's value, even a sensitive one, so a key pasted into the "
    "wrong input would land in the plan output. tfext rejects it without echoing (TFEXT-E028, or the "
    "program)."
)
TECTONIC_NAMES = 'Tectonic\'s inputs keep their names and meanings; the ones marked "tfext:" are additions.'


def certificate(slot: str, name: str, description: str, value: str) -> Output:
    """A CA's certificate output (a CA's key, where a module has it, is a `pair`'s)."""
    return Output(name, description, value, slot=slot)


def pair(
    slot: str, names: tuple[str, str], texts: tuple[str, str], value: str = "local.certs.SLOT.PART", **kw
) -> tuple[Output, Output]:
    """A slot's (or a per-node role's) certificate and key outputs: `value` takes PART of slot SLOT."""
    return tuple(  # type: ignore[return-value]
        Output(
            name,
            text,
            value.replace("SLOT", slot).replace("PART", part),
            sensitive=key,
            slot=slot,
            key=key,
            **kw,
        )
        for name, text, part, key in zip(names, texts, ("cert_pem", "key_pem"), (False, True), strict=True)
    )


KEY_FILES = Output(
    "key_files",
    "tfext: certificate => the file its private key is in, where it is in a file (a key directory, or a "
    "user-provided key file): what `tfext write-assets` reads keys from when the root module outputs no "
    "key. Not secret: paths only.",
    as_map('{ for name, c in local.certs : name => c.key_path if c.key_path != "" }'),
)
_FACTS = "subject, issuer, sans, serial, sha256_fingerprint, not_before, not_after, is_ca"
# Modules that own a CA (etcd, kube) trust a bundle during a rotation: internal/rotation assembles it.
ROTATION_OUTPUTS = (
    Output(
        "certificates",
        f"Certificate name => {{ {_FACTS}, subject_key_id, authority_key_id, key_from_csr, chains_to }}. ca "
        "is the signing CA; during a rotation ca_incoming (trust) or ca_outgoing (reissue) is the other one, "
        "and chains_to names the CA each leaf chains to.",
        "module.rotation.certificates",
    ),
    Output(
        "ca_rotation",
        "tfext: { generation, phase, signing_ca, trusted_cas }: the CA rotation phase (docs/ca-rotation.md) "
        "and the SHA-256 fingerprints of the signing CA and of every trusted CA.",
        "module.rotation.state",
    ),
    Output(
        "id",
        "Changes whenever any certificate or the trusted CAs change; depend on it to restart consumers.",
        'sha256(join("", [for name in sort(keys(local.certs)) : name == "ca" ? module.rotation.bundle_pem : '
        "local.certs[name].cert_pem]))",
    ),
    KEY_FILES,
)
# identity and ingress are given their CA.
LEAF_OUTPUTS = (
    Output(
        "certificates",
        f"Certificate name => {{ {_FACTS}, subject_key_id, authority_key_id, key_from_csr }}.",
        as_map("{ for name, c in local.certs : name => c.info }"),
    ),
    Output(
        "id",
        "Changes whenever any certificate changes; depend on it to restart consumers.",
        'sha256(join("", [for name in sort(keys(local.certs)) : local.certs[name].cert_pem]))',
    ),
    KEY_FILES,
)

# etcd ---------------------------------------------------------------------------------------------------

ETCD_CA = CertSlot("ca", p.ETCD_CA, "etcd CA")
ETCD_SERVER = CertSlot("server", p.ETCD_SERVER, "etcd server")
ETCD_PEER = CertSlot("peer", p.ETCD_PEER, "etcd peer")
ETCD_CLIENT = CertSlot("client", p.ETCD_CLIENT, "etcd client")
_EXTERNAL = "(empty for an external etcd)"
_EXTERNAL_VALUE = 'try(local.certs.SLOT.PART, "")'  # no server or peer for an external etcd
_MEMBER = as_map('{ for m, _ in var.members : m => try(local.certs["SLOT:${m}"].PART, "") }')


@cache
def _etcd_signed() -> tuple[Input, ...]:
    return (
        Input(
            "self_signed",
            "bool",
            "true: generate the etcd CA and every certificate. false: use etcd_ca_cert_path - with "
            "etcd_ca_key_path to sign the certificates, without it for an external etcd (CA and client pair "
            "passed through, server and peer empty).",
            True,
            nullable=False,
        ),
        VALIDITY_PERIOD,
        optional_file(
            "etcd_ca_cert_path",
            f"PEM file of an external etcd CA certificate (self_signed = false). {NOT_GIVEN_WORDS} mean not "
            "given.",
            cert_file(ETCD_CA),
            default=NOT_GIVEN,
        ),
        optional_file(
            "etcd_ca_key_path",
            "tfext: PEM file of the external etcd CA's private key, to sign the etcd certificates with it "
            "(self_signed = false).",
            key_file(ETCD_CA, " (to sign with it)"),
            default=NOT_GIVEN,
        ),
        optional_file(
            "etcd_client_cert_path",
            "PEM file of the client certificate for an external etcd (self_signed = false, no CA key).",
            cert_file(ETCD_CLIENT, needs=("client_key_path", "ca_cert_path")),
            default=NOT_GIVEN,
        ),
        optional_file(
            "etcd_client_key_path",
            "PEM file of the client key for an external etcd (self_signed = false, no CA key).",
            key_file(ETCD_CLIENT),
            default=NOT_GIVEN,
        ),
        service_cidr(
            20,
            "Kubernetes service CIDR; its hosts 15 and 20 (the self-hosted etcd service IPs) become IP SANs "
            "of the server and peer certificates. Empty: none.",
            optional=True,
            query=Q_ETCD_SERVICE_CIDR,
            or_empty=True,
        ),
        *_etcd_sans(
            (
                "DNS names of the etcd nodes, added to the server and peer certificates.",
                "tfext: IP addresses of the etcd nodes, added to the server and peer certificates (peer "
                "URLs by IP need them).",
            )
        ),
        KEY_ALGORITHM,
        KEY_FORMAT,
        RENEWAL_WINDOW_HOURS,
        TFEXT_COMMAND,
        ca_rotation(
            f"{_ROTATE} For an external etcd (self_signed = false without a CA key) it is the phase the CA "
            "file is in, as in the user-provided flavor; a given CA with its key is not rotated here "
            "(TFEXT-E058).",
            generating=True,
            query=Q_PHASE,
        ),
        who(
            "members",
            "tfext: etcd members, each given a server and a peer certificate of its own (CN = the member "
            "name; SANs = its name, the addresses given, localhost, 127.0.0.1 and ::1), as kubeadm issues "
            "them: name => { ip_addresses, dns_names }. Adding or removing a member issues or drops that "
            "member's certificates only (docs/per-node.md).",
        ),
        KEY_DIR,
        csr_paths(("server", "peer", "client")),
        csr_dir(
            "member_csr_dir",
            "tfext: a directory of CSRs, one directory per member (<dir>/<member>/server.csr and peer.csr): "
            "each of its certificates is issued for the key of that CSR, and its key outputs are empty. "
            "Empty (the default): tfext generates their keys.",
        ),
    )


def _etcd_sans(descriptions: tuple[str, str]) -> tuple[Input, Input]:
    return san_lists(
        ("etcd_cert_dns_names", "etcd_cert_ip_addresses"),
        descriptions,
        (
            "extra DNS SANs of the etcd server and peer certificates",
            "IP SANs of the etcd server and peer certificates (node IPs)",
        ),
        example="etcd-0.example.com",
    )


_ROTATE = (
    "tfext: a CA rotation with no outage (docs/ca-rotation.md). Generation 0 is the first CA. To rotate, "
    "apply { "
    'generation = N + 1, phase = "trust" }, then phase "reissue", then "finish" (which stays as the steady '
    "state), restarting consumers between the applies."
)


def _rotation_phase(ca_file: str) -> Input:
    return ca_rotation(
        f"tfext: the CA rotation phase the files are in (docs/ca-rotation.md). trust: {ca_file} holds the "
        "outgoing and the incoming CA, and the outgoing one signs; reissue: the same two, every leaf signed "
        "by the incoming CA; finish (the steady state): the one CA. generation is the generating flavor's, "
        "accepted and unused here.",
        generating=False,
        query=Q_PHASE,
    )


@cache
def _etcd_user_provided() -> tuple[Input, ...]:
    pairs = [
        given_pair(
            s, (f"etcd_{s.name}_crt_pem_path", f"etcd_{s.name}_key_pem_path"), s.title, f"etcd-{s.name}"
        )
        for s in ETCD.leaves
    ]
    ca = given_file("etcd_ca_crt_pem_path", "etcd CA certificate", "etcd-ca.crt", cert_file(ETCD_CA))
    return (
        ca,
        *(i for pair in pairs for i in pair),
        service_cidr(
            20,
            "tfext: Kubernetes service CIDR; the server and peer certificates must carry its hosts 15 and "
            "20 as IP SANs. Empty: not checked.",
            optional=True,
            query=Q_ETCD_SERVICE_CIDR,
            or_empty=True,
        ),
        *_etcd_sans(
            (
                "tfext: DNS names of the etcd nodes, which the server and peer certificates must carry.",
                "tfext: IP addresses of the etcd nodes, which the server and peer certificates must carry.",
            )
        ),
        RENEWAL_WINDOW_HOURS,
        TFEXT_COMMAND,
        _rotation_phase("etcd_ca_crt_pem_path"),
        who(
            "members",
            "tfext: etcd members, each with a server and a peer certificate of its own, read from "
            "member_certs_dir and checked as that member's (CN = the member name; SANs = its name, the "
            "addresses given, localhost, 127.0.0.1 and ::1), as kubeadm issues them: name => { "
            "ip_addresses, dns_names }. (docs/per-node.md)",
        ),
        optional_file(
            "member_certs_dir",
            "tfext: the directory holding each member's own pair: <dir>/<member>/server.crt, server.key, "
            "peer.crt, peer.key (as `tfext write-assets` writes them). Required when members are set.",
        ),
    )


ETCD = Module(
    "etcd",
    ca=ETCD_CA,
    leaves=(ETCD_SERVER, ETCD_PEER, ETCD_CLIENT),
    per_node=(
        PerNodeRole("server", p.ETCD_MEMBER_SERVER, "members", "server"),
        PerNodeRole("peer", p.ETCD_MEMBER_PEER, "members", "peer"),
    ),
    node="member",
    service_hosts=20,
    outputs=(
        certificate(
            "ca",
            "etcd_ca_crt_pem",
            "The etcd CAs to trust: etcd --trusted-ca-file and --peer-trusted-ca-file, kube-apiserver "
            "--etcd-cafile. One CA; during a CA rotation's trust and reissue phases a bundle of two, the "
            "signing CA first.",
            "module.rotation.bundle_pem",
        ),
        Output(
            "etcd_signing_ca_crt_pem",
            "tfext: the etcd CA that signs in this phase (the first certificate of etcd_ca_crt_pem).",
            "local.certs.ca.cert_pem",
        ),
        *pair(
            "server",
            ("etcd_server_crt_pem", "etcd_server_key_pem"),
            (
                f"etcd server certificate: etcd --cert-file {_EXTERNAL}.",
                f"etcd server key: etcd --key-file {_EXTERNAL}.",
            ),
            _EXTERNAL_VALUE,
        ),
        *pair(
            "peer",
            ("etcd_peer_crt_pem", "etcd_peer_key_pem"),
            (
                f"etcd peer certificate: etcd --peer-cert-file {_EXTERNAL}.",
                f"etcd peer key: etcd --peer-key-file {_EXTERNAL}.",
            ),
            _EXTERNAL_VALUE,
        ),
        *pair(
            "client",
            ("etcd_client_crt_pem", "etcd_client_key_pem"),
            (
                "etcd client certificate: kube-apiserver --etcd-certfile.",
                "etcd client key: kube-apiserver --etcd-keyfile.",
            ),
        ),
        *pair(
            "server",
            ("etcd_member_server_crt_pem", "etcd_member_server_key_pem"),
            (
                "tfext: member name => that member's own server certificate (etcd --cert-file), for each of "
                "`members`.",
                "tfext: member name => that member's own server key (etcd --key-file).",
            ),
            _MEMBER,
            per_node=True,
        ),
        *pair(
            "peer",
            ("etcd_member_peer_crt_pem", "etcd_member_peer_key_pem"),
            (
                "tfext: member name => that member's own peer certificate (etcd --peer-cert-file).",
                "tfext: member name => that member's own peer key (etcd --peer-key-file).",
            ),
            _MEMBER,
            per_node=True,
        ),
        *ROTATION_OUTPUTS,
    ),
    flavors=(
        Flavor(
            "signed",
            generating=True,
            title=(
                "generate the etcd CA and certificates, sign with a given etcd CA, or check an external "
                "etcd's CA and client pair"
            ),
            header=f"{TECTONIC_NAMES}\n{KEY_TEXT_NOTE}",
            build=_etcd_signed,
            query=(Q_CA_CERT_PEM, replace(Q_CA_KEY_PEM, needs=("ca_cert_pem",))),
            ca_gate="ca_cert_path/ca_key_path",
        ),
        Flavor(
            "user-provided",
            generating=False,
            title="check and pass through the user's etcd CA and certificates",
            header=(
                "Tectonic's seven *_path inputs; the rest (marked tfext:) say what the certificates must "
                f"carry, so a wrong file fails `terraform plan` instead of the cluster.\n{KEY_TEXT_NOTE}"
            ),
            build=_etcd_user_provided,
            accepts="etcd/signed",
        ),
    ),
)

# kube ---------------------------------------------------------------------------------------------------

KUBE_CA = CertSlot("ca", p.KUBE_CA, "kube CA")
APISERVER = CertSlot("apiserver", p.APISERVER, "apiserver")
KUBELET = CertSlot("kubelet", p.KUBELET, "kubelet")
APISERVER_KUBELET_CLIENT = CertSlot(
    "apiserver_kubelet_client", p.APISERVER_KUBELET_CLIENT, "apiserver's kubelet client"
)
ADMIN = CertSlot("admin", p.ADMIN, "admin client")
_NODE = as_map('{ for n in var.nodes : n => local.certs["kubelet:${n}"].PART }')
# Over the nodes, each looking up its kubelet_serving entry, and a set difference: linear. (A `for` over
# kubelet_serving asking contains(var.nodes, n) compared every node with every other, at every plan.)
_SERVING = as_map(
    '{ for n in var.nodes : n => local.certs["serving:${n}"].PART if can(var.kubelet_serving[n]) }'
)
_UNLISTED = "setsubtract(keys(var.kubelet_serving), var.nodes)"
_UNLISTED_SHOWN = (
    f'[for n in {_UNLISTED} : can(regex({quoted(NODE_NAME.pattern)}, n)) ? n : "(not a node name)"]'
)


# kubelet_serving names nodes of `nodes`: checked on the serving certificates' output, at every plan,
# since a validation cannot compare two variables. A name that is no node name is not echoed.
_UNLISTED_CHECK = Rule(
    f"length({_UNLISTED}) == 0",
    "TFEXT-E084 kubelet_serving: serving certificates for nodes not in nodes: "
    f'${{join(", ", {_UNLISTED_SHOWN})}}. '
    "Add them to nodes, or drop their kubelet_serving entries.",
    comment=(
        "Checked here, on every plan: Terraform cannot compare two variables in a validation; a name "
        "that is no node name is not echoed."
    ),
)
# node_groups set on a workspace whose nodes are in another layout's stages, with no `moved` blocks: the
# plan would issue every node's certificates again. Checked on the client certificates' output, which reads
# every node's stage (the layout record itself can't: the stages' for_each reads it). Each flavor's main.tf
# says it as local.node_layout_refusal ("" when the layout holds).
_LAYOUT_CHECK = Rule(
    'local.node_layout_refusal == ""',
    "${local.node_layout_refusal}",
    comment="Checked here, on every plan: the node stages come after the layout record they read.",
)


def _checked(pair: tuple[Output, ...], check: Rule) -> tuple[Output, ...]:
    """A pair of outputs whose first (the certificates') checks `check` at every plan."""
    return (replace(pair[0], precondition=check), *pair[1:])


def _apiserver_url(description: str, *, optional: bool) -> Input:
    return setting(
        "kube_apiserver_url",
        description,
        f"can(regex({quoted(KUBE_URL)}, var.kube_apiserver_url))",
        "kube_apiserver_url must be an https URL with a host and an optional port, e.g. https://api.example.com:443.",
        QueryKey("kube_apiserver_url", "host", "URL of the API server; its host becomes an apiserver SAN"),
        "" if optional else REQUIRED,
    )


def _apiserver_names(dns_description: str, ip_description: str, domain_description: str) -> tuple[Input, ...]:
    return (
        *san_lists(
            ("apiserver_extra_dns_names", "apiserver_extra_ip_addresses"),
            (dns_description, ip_description),
            ("extra DNS SANs of the apiserver certificate", "extra IP SANs of the apiserver certificate"),
            example="api.internal.example.com",
            note="labels of letters, digits and inner hyphens, no scheme, port or spaces",
        ),
        setting(
            "cluster_domain",
            domain_description,
            f"can(regex({quoted(CLUSTER_DOMAIN)}, var.cluster_domain))",
            "cluster_domain must be a lower-case DNS domain such as cluster.local.",
            QueryKey("cluster_domain", "domain", "cluster DNS domain (default cluster.local)"),
            "cluster.local",
        ),
    )


def _given_kube_ca() -> tuple[Input, Input]:
    """A kube CA to adopt instead of generating one."""
    return (
        Input(
            "ca_cert_pem",
            "string",
            "PEM of an existing kube CA certificate to sign with. Empty (the default): generate the kube CA.",
            "",
            nullable=False,
            query=Q_CA_CERT_PEM,
        ),
        Input(
            "ca_key_pem",
            "string",
            "PEM of the existing kube CA's private key (PKCS#1, SEC1 or PKCS#8). Empty: generate the kube "
            "CA.",
            "",
            nullable=False,
            sensitive=True,
            query=replace(Q_CA_KEY_PEM, needs=("ca_cert_pem",)),
        ),
    )


MAX_NODE_GROUPS = 256
DEFAULT_NODE_GROUPS = 64  # kube/self-signed's local.default_node_groups (generated into variables.tf.json)
NODE_GROUPS = Input(
    "node_groups",
    "number",
    "tfext: how many issuing stages the nodes share, each node's picked by a hash of its name, so that a "
    f"plan walks that many stages instead of one per node. Unset (null): {DEFAULT_NODE_GROUPS} in a new "
    "workspace, and what the workspace recorded in one from before it (0, a stage per node). Recorded when "
    "the module is first applied: another value later would issue every node's certificates again, and the "
    "plan refuses it (TFEXT-E095); `tfext node-groups` moves a workspace's nodes (docs/per-node.md).",
    None,
    rules=(
        Rule(
            f"coalesce(var.node_groups, 0) >= 0 && coalesce(var.node_groups, 0) <= {MAX_NODE_GROUPS} && "
            "floor(coalesce(var.node_groups, 0)) == coalesce(var.node_groups, 0)",
            literal(
                f"node_groups must be a whole number from 0 (a stage per node) to {MAX_NODE_GROUPS}, or "
                f"unset ({DEFAULT_NODE_GROUPS} in a new workspace)."
            ),
        ),
    ),
)


@cache
def _kube_self_signed() -> tuple[Input, ...]:
    return (
        *_given_kube_ca(),
        CA_KEY_ALG,
        _apiserver_url(
            "URL of the API server, e.g. https://api.example.com:443; its host becomes a SAN of the "
            "apiserver certificate.",
            optional=False,
        ),
        service_cidr(
            1,
            "Kubernetes service CIDR, e.g. 10.3.0.0/16; its first host (the kubernetes service IP) becomes "
            "a SAN of the apiserver certificate.",
            optional=False,
            query=Q_KUBE_SERVICE_CIDR,
        ),
        *_apiserver_names(
            "tfext: more DNS SANs for the apiserver certificate (load balancer names, advertise names).",
            "tfext: more IP SANs for the apiserver certificate (advertise address, load balancer IPs).",
            "tfext: the cluster DNS domain; the apiserver certificate carries "
            "kubernetes.default.svc.<cluster_domain>.",
        ),
        VALIDITY_PERIOD,
        KEY_ALGORITHM,
        KEY_FORMAT,
        RENEWAL_WINDOW_HOURS,
        TFEXT_COMMAND,
        ca_rotation(_ROTATE, generating=True),
        who(
            "nodes",
            "tfext: Kubernetes node names, each given a kubelet client certificate of its own "
            "(CN=system:node:<name>, O=system:nodes), as the Node authorizer and NodeRestriction need "
            "(docs/per-node.md). Adding or removing a node issues or drops that node's certificates only.",
        ),
        who(
            "kubelet_serving",
            "tfext: nodes (named in `nodes`) that get a kubelet serving certificate of their own "
            "(CN=system:node:<name>, SANs = the name and the addresses given), for kube-apiserver "
            "--kubelet-certificate-authority: name => { ip_addresses, dns_names }.",
        ),
        KEY_DIR,
        csr_paths(tuple(s.name for s in KUBE.leaves)),
        csr_dir(
            "node_csr_dir",
            "tfext: a directory of CSRs, one directory per node (<dir>/<node>/kubelet-client.csr, and "
            "kubelet-serving.csr for the nodes of kubelet_serving): each of its certificates is issued for "
            "the key of that CSR, and its key outputs are empty. Empty (the default): tfext generates their "
            "keys.",
        ),
        NODE_GROUPS,
    )


@cache
def _kube_user_provided() -> tuple[Input, ...]:
    return (
        given_file("ca_cert_pem_path", "kube CA certificate", "ca.crt", cert_file(KUBE_CA)),
        *given_pair(
            APISERVER, ("apiserver_cert_pem_path", "apiserver_key_pem_path"), "apiserver", "apiserver"
        ),
        *given_pair(KUBELET, ("kubelet_cert_pem_path", "kubelet_key_pem_path"), "kubelet client", "kubelet"),
        optional_file(
            "ca_key_pem_path",
            "tfext: PEM file of the kube CA private key, so identity and ingress can be signed with it. "
            f"{NOT_GIVEN_WORDS}: not given, and ca_key_pem / ca_key_alg are empty.",
            key_file(KUBE_CA, " (optional; identity and ingress can sign with it)"),
        ),
        _apiserver_url(
            "tfext: URL of the API server; when set, the apiserver certificate must carry its host. Empty: "
            "not checked.",
            optional=True,
        ),
        service_cidr(
            1,
            "tfext: Kubernetes service CIDR; when set, the apiserver certificate must carry its first host "
            "(the kubernetes service IP). Empty: not checked.",
            optional=True,
            query=Q_KUBE_SERVICE_CIDR,
        ),
        *_apiserver_names(
            "tfext: more DNS names the apiserver certificate must carry (load balancer names, advertise "
            "names).",
            "tfext: more IP addresses the apiserver certificate must carry (advertise address, load "
            "balancer IPs).",
            "tfext: the cluster DNS domain; the apiserver certificate must carry "
            "kubernetes.default.svc.<cluster_domain> (and kubernetes, kubernetes.default, "
            "kubernetes.default.svc).",
        ),
        RENEWAL_WINDOW_HOURS,
        TFEXT_COMMAND,
        _rotation_phase("ca_cert_pem_path"),
        who(
            "nodes",
            "tfext: Kubernetes node names, each with a kubelet client certificate of its own, read from "
            "node_certs_dir, (CN=system:node:<name>, O=system:nodes), as the Node authorizer and "
            "NodeRestriction need (docs/per-node.md).",
        ),
        who(
            "kubelet_serving",
            "tfext: nodes (named in `nodes`) with a kubelet serving certificate of their own, read from "
            "node_certs_dir, (CN=system:node:<name>, SANs = the name and the addresses given), for "
            "kube-apiserver --kubelet-certificate-authority: name => { ip_addresses, dns_names }.",
        ),
        optional_file(
            "node_certs_dir",
            "tfext: the directory holding each node's own pairs: <dir>/<node>/kubelet-client.crt and .key, "
            "and for kubelet_serving nodes kubelet-serving.crt and .key (as `tfext write-assets` writes "
            "them). Required when nodes are set.",
        ),
        optional_file(
            "apiserver_kubelet_client_cert_pem_path",
            "tfext: PEM file of the apiserver's own kubelet client certificate (optional; a client of its "
            "own, no node's identity).",
            cert_file(APISERVER_KUBELET_CLIENT, "optional", needs=("apiserver_kubelet_client_key_path",)),
        ),
        optional_file(
            "apiserver_kubelet_client_key_pem_path",
            "tfext: PEM file of the apiserver's kubelet client private key (required with its certificate).",
            key_file(APISERVER_KUBELET_CLIENT),
        ),
        optional_file(
            "admin_cert_pem_path",
            "tfext: PEM file of the admin client certificate (optional; no kubelet's identity).",
            cert_file(ADMIN, "optional", needs=("admin_key_path",)),
        ),
        optional_file(
            "admin_key_pem_path",
            "tfext: PEM file of the admin client private key (required with its certificate).",
            key_file(ADMIN),
        ),
    )


KUBE = Module(
    "kube",
    ca=KUBE_CA,
    leaves=(APISERVER, KUBELET, APISERVER_KUBELET_CLIENT, ADMIN),
    per_node=(
        PerNodeRole("kubelet", p.KUBELET_CLIENT, "nodes", "kubelet client"),
        PerNodeRole("serving", p.KUBELET_SERVING, "serving_nodes", "serving"),
    ),
    node="node",
    outputs=(
        certificate(
            "ca",
            "ca_cert_pem",
            "The kube CAs to trust: kube-apiserver --client-ca-file, kubelet --client-ca-file, kubeconfig "
            "certificate-authority-data, identity grpc.tlsClientCA. One CA; during a CA rotation's trust "
            "and reissue phases a bundle of two, the signing CA first (identity and ingress sign with that "
            "one).",
            "module.rotation.bundle_pem",
        ),
        Output(
            "signing_ca_cert_pem",
            "tfext: the kube CA that signs in this phase (the first certificate of ca_cert_pem).",
            "local.certs.ca.cert_pem",
        ),
        Output(
            "ca_key_alg",
            f"Algorithm of the kube CA key: {either(KEY_FAMILIES)} (empty when the CA key is not known).",
            "local.certs.ca.key_alg",
        ),
        Output(
            "ca_key_pem",
            "Private key of the signing kube CA, to sign the identity and ingress certificates (empty when "
            "not known).",
            "local.certs.ca.key_pem",
            sensitive=True,
            slot="ca",
            key=True,
        ),
        *pair(
            "apiserver",
            ("apiserver_cert_pem", "apiserver_key_pem"),
            (
                "kube-apiserver --tls-cert-file. Tectonic also gave it as --kubelet-client-certificate "
                "(it keeps clientAuth for that); apiserver_kubelet_client_cert_pem is that identity now.",
                "kube-apiserver --tls-private-key-file.",
            ),
        ),
        *pair(
            "kubelet",
            ("kubelet_cert_pem", "kubelet_key_pem"),
            (
                "Client certificate of the kubelets' and admin kubeconfig (system:masters).",
                "Client key of the kubelets' and admin kubeconfig.",
            ),
        ),
        *pair(
            "apiserver_kubelet_client",
            ("apiserver_kubelet_client_cert_pem", "apiserver_kubelet_client_key_pem"),
            (
                "tfext: kube-apiserver --kubelet-client-certificate, an identity of its own "
                "(CN=kube-apiserver-kubelet-client, O=kubeadm:cluster-admins, as kubeadm issues it) instead "
                "of the apiserver's serving certificate.",
                "tfext: kube-apiserver --kubelet-client-key.",
            ),
        ),
        *pair(
            "admin",
            ("admin_cert_pem", "admin_key_pem"),
            (
                "tfext: client certificate of the admin kubeconfig (CN=kubernetes-admin, "
                "O=kubeadm:cluster-admins), no kubelet's identity.",
                "tfext: client key of the admin kubeconfig.",
            ),
        ),
        *_checked(
            pair(
                "kubelet",
                ("node_kubelet_client_cert_pem", "node_kubelet_client_key_pem"),
                (
                    "tfext: node name => that node's kubelet client certificate (CN=system:node:<name>, "
                    "O=system:nodes), for each of `nodes`.",
                    "tfext: node name => that node's kubelet client key.",
                ),
                _NODE,
                per_node=True,
            ),
            _LAYOUT_CHECK,
        ),
        *_checked(
            pair(
                "serving",
                ("node_kubelet_serving_cert_pem", "node_kubelet_serving_key_pem"),
                (
                    "tfext: node name => that node's kubelet serving certificate (kubelet --tls-cert-file), "
                    "for each of `kubelet_serving`.",
                    "tfext: node name => that node's kubelet serving key (kubelet --tls-private-key-file).",
                ),
                _SERVING,
                per_node=True,
            ),
            _UNLISTED_CHECK,
        ),
        *ROTATION_OUTPUTS,
        Output(
            "ca_key_path",
            "tfext: the file of the signing kube CA's private key, where it is in a file (a key directory, "
            "or kube/user-provided's ca_key_pem_path), else empty: pass it as identity's and ingress's "
            "ca_key_path, so the key never passes through their queries.",
            "local.certs.ca.key_path",
        ),
    ),
    flavors=(
        Flavor(
            "self-signed",
            generating=True,
            title="generate (or adopt) the kube CA, and issue the apiserver and kubelet certificates",
            header=f"{TECTONIC_NAMES}\n{KEY_TEXT_NOTE}",
            build=_kube_self_signed,
            query=(Q_SIGNING_KEY_FILE,),
            ca_gate="ca_cert_pem/ca_key_pem",
        ),
        Flavor(
            "user-provided",
            generating=False,
            title=(
                "check and pass through the user's kube CA (and optional CA key), apiserver and kubelet pairs"
            ),
            header=(
                "Tectonic's five *_path inputs, an optional CA key path, and (marked tfext:) what the "
                "certificates must carry, so that a wrong file fails `terraform plan` instead of the "
                f"cluster.\n{KEY_TEXT_NOTE}"
            ),
            build=_kube_user_provided,
            accepts="kube/self-signed",
        ),
    ),
)


# identity and ingress: signed by a CA they are given (the kube CA in Tectonic); they never issue one --------

# PEM text passes, as does what could be: only a short plain value (a path, say) is refused, and shown.
SIGNING_CA_CERT_RULE = Rule(
    could_be_key("var.ca_cert_pem"),
    literal(
        "ca_cert_pem must hold the CA certificate as PEM text (-----BEGIN CERTIFICATE-----), e.g. "
        'module.kube_certs.ca_cert_pem or file("ca.crt"), not a path.'
    ),
)
KEY_FILE_PATH = r"^[^\s]{1,250}\.(pem|key|crt|cer)$"  # a file name, where key text belongs
SIGNING_CA_KEY_PEM = Input(
    "ca_key_pem",
    "string",
    "PEM of the CA's private key (PKCS#1, SEC1 or PKCS#8): module.kube_certs.ca_key_pem. May be empty when "
    "ca_key_path names the key's file; one of the two is needed (TFEXT-E053).",
    sensitive=True,
    rules=(
        Rule(
            f"!can(regex({quoted(KEY_FILE_PATH)}, var.ca_key_pem))",
            literal(
                "TFEXT-E053 ca_key_pem: a file path was given, not the key: ca_key_pem takes the key's PEM "
                "text. "
                'Pass file("<path>") of the key, or module.kube_certs.ca_key_pem.'
            ),
            comment=(
                "Terraform prints the value of a failing rule even here (sensitive as it is, when the "
                "caller's value is not marked): each rule fails only for a value safe to show. Any other "
                "text that is no private key goes to the program, which says so without echoing it "
                "(TFEXT-E023 ca_key_pem)."
            ),
        ),
    ),
    query=Q_CA_KEY_PEM,
)
SIGNING_CA_KEY_PATH = Input(
    "ca_key_path",
    "string",
    "tfext: the file of the CA's private key, instead of its text: module.kube_certs.ca_key_path when the "
    "kube module keeps its keys in a key directory, so the key never passes through a query that Terraform "
    "keeps in state. Empty: sign with ca_key_pem.",
    "",
    nullable=False,
    query=Q_SIGNING_KEY_FILE,
    plain=True,
)


def _signing_ca_cert(description: str) -> Input:
    return Input("ca_cert_pem", "string", description, rules=(SIGNING_CA_CERT_RULE,), query=Q_CA_CERT_PEM)


def _signing_inputs(leaves: tuple[CertSlot, ...]) -> tuple[Input, ...]:
    """What identity and ingress take to issue, beside the CA: the key settings, a key directory, CSRs."""
    csrs = csr_paths(tuple(s.name for s in leaves))
    return (
        VALIDITY_PERIOD,
        KEY_ALGORITHM,
        KEY_FORMAT,
        RENEWAL_WINDOW_HOURS,
        TFEXT_COMMAND,
        KEY_DIR,
        csrs,
        SIGNING_CA_KEY_PATH,
    )


IDENTITY_CA = CertSlot("ca", p.KUBE_CA, "identity CA (the kube CA)")
IDENTITY_SERVER = CertSlot("server", p.IDENTITY_SERVER, "identity server")
IDENTITY_CLIENT = CertSlot("client", p.IDENTITY_CLIENT, "identity client")


def _identity_dns_names(description: str) -> Input:
    rules = dns_list_rules(
        "identity_dns_names",
        example=DEFAULT_IDENTITY_NAMES[0],
        fix="Drop it: the identity service is dialled by its DNS name.",
        at_least_one=True,
    )
    return Input(
        "identity_dns_names",
        "list(string)",
        description,
        list(DEFAULT_IDENTITY_NAMES),
        nullable=False,
        rules=rules,
        query=QueryKey(
            "identity_dns_names",
            "list",
            "DNS SANs of the identity server certificate (default: the service's .svc and .svc.cluster.local "
            "names)",
        ),
    )


@cache
def _identity_self_signed() -> tuple[Input, ...]:
    return (
        _signing_ca_cert(
            "PEM of the CA certificate to sign with (the kube CA in Tectonic: module.kube_certs.ca_cert_pem)."
        ),
        SIGNING_CA_KEY_PEM,
        CA_KEY_ALG,
        _identity_dns_names(
            "tfext: DNS names of the identity gRPC service, the server certificate's SANs (Go ignores the "
            "CN, so the name the console dials must be here)."
        ),
        *_signing_inputs(IDENTITY.leaves),
    )


@cache
def _identity_user_provided() -> tuple[Input, ...]:
    pairs = [
        given_pair(
            s, (f"{s.name}_cert_pem_path", f"{s.name}_key_pem_path"), f"identity gRPC {s.name}", s.name
        )
        for s in (IDENTITY_CLIENT, IDENTITY_SERVER)
    ]
    return (
        *(i for pair in pairs for i in pair),
        given_file(
            "ca_cert_pem_path",
            "CA the identity certificates chain to",
            "ca.crt",
            cert_file(IDENTITY_CA),
            description=(
                "PEM file of the CA the identity certificates chain to (tfext: checked against, and output "
                "as ca_cert_pem)."
            ),
        ),
        _identity_dns_names(
            "tfext: DNS names of the identity gRPC service, which the server certificate must carry as SANs "
            "(Go ignores the CN)."
        ),
        RENEWAL_WINDOW_HOURS,
        TFEXT_COMMAND,
    )


IDENTITY = Module(
    "identity",
    ca=IDENTITY_CA,
    leaves=(IDENTITY_SERVER, IDENTITY_CLIENT),
    outputs=(
        *pair(
            "client",
            ("client_cert_pem", "client_key_pem"),
            (
                "Tectonic Console's gRPC client certificate: BRIDGE_DEX_CLIENT_CERT_FILE.",
                "Tectonic Console's gRPC client key: BRIDGE_DEX_CLIENT_KEY_FILE.",
            ),
        ),
        *pair(
            "server",
            ("server_cert_pem", "server_key_pem"),
            (
                "Tectonic Identity gRPC server certificate: grpc.tlsCert.",
                "Tectonic Identity gRPC server key: grpc.tlsKey.",
            ),
        ),
        certificate(
            "ca",
            "ca_cert_pem",
            "The CA both certificates chain to: identity grpc.tlsClientCA, and the console's trust for the "
            "server.",
            "local.ca_cert_pem",
        ),
        *LEAF_OUTPUTS,
    ),
    flavors=(
        Flavor(
            "self-signed",
            generating=True,
            title=(
                "issue the Tectonic Identity gRPC server and client certificates with a given CA (the kube "
                "CA)"
            ),
            header=f"{TECTONIC_NAMES}\n{KEY_TEXT_NOTE}",
            build=_identity_self_signed,
            gate_needs=("ca_cert_pem",),
        ),
        Flavor(
            "user-provided",
            generating=False,
            title="check and pass through the user's identity server and client pairs and their CA",
            header=f"{TECTONIC_NAMES}\n{KEY_TEXT_NOTE}",
            build=_identity_user_provided,
            accepts="identity/self-signed",
        ),
    ),
)

INGRESS_CA = CertSlot("ca", p.KUBE_CA, "ingress CA")
INGRESS_LEAF = CertSlot("ingress", p.INGRESS, "ingress")
_BASE_ADDRESS = (
    "Address users reach the ingress by: a host or host:port (e.g. console.example.com:443). Its host "
    "becomes the certificate's CN and SAN (a DNS or IP SAN)."
)


def _base_address(description: str, *, optional: bool) -> Input:
    return setting(
        "base_address",
        description,
        f"can(regex({quoted(HOST_PORT)}, var.base_address))",
        "base_address must be a host or host:port without a scheme, e.g. console.example.com or "
        "console.example.com:443.",
        QueryKey(
            "base_address", "host", "ingress host or host:port; the host becomes the certificate's CN and SAN"
        ),
        "" if optional else REQUIRED,
    )


@cache
def _ingress_self_signed() -> tuple[Input, ...]:
    return (
        _base_address(_BASE_ADDRESS, optional=False),
        _signing_ca_cert(
            "PEM of the CA certificate to sign with (Tectonic passed the kube CA: "
            "module.kube_certs.ca_cert_pem); output again as ca_cert_pem."
        ),
        SIGNING_CA_KEY_PEM,
        CA_KEY_ALG,
        *_signing_inputs(INGRESS.leaves),
    )


@cache
def _ingress_user_provided() -> tuple[Input, ...]:
    return (
        given_file("ca_cert_pem_path", "ingress CA certificate", "ca.crt", cert_file(INGRESS_CA)),
        *given_pair(INGRESS_LEAF, ("cert_pem_path", "key_pem_path"), "ingress", "ingress"),
        _base_address(
            f"tfext: when set, the certificate must carry its host. {_BASE_ADDRESS}", optional=True
        ),
        RENEWAL_WINDOW_HOURS,
        TFEXT_COMMAND,
    )


INGRESS = Module(
    "ingress",
    ca=INGRESS_CA,
    leaves=(INGRESS_LEAF,),
    outputs=(
        certificate(
            "ca",
            "ca_cert_pem",
            "Ingress CA certificate: console BRIDGE_CA_FILE, kube-apiserver --oidc-ca-file.",
            "local.ca_cert_pem",
        ),
        *pair(
            "ingress",
            ("cert_pem", "key_pem"),
            (
                "Ingress certificate: the ingress controller's --default-ssl-certificate.",
                "Ingress key: the ingress controller's --default-ssl-certificate.",
            ),
        ),
        *LEAF_OUTPUTS,
    ),
    flavors=(
        Flavor(
            "self-signed",
            generating=True,
            title="issue the ingress certificate for base_address with a given CA",
            header=f"{TECTONIC_NAMES}\n{KEY_TEXT_NOTE}",
            build=_ingress_self_signed,
            gate_needs=("ca_cert_pem", "base_address"),
        ),
        Flavor(
            "user-provided",
            generating=False,
            title="check and pass through the user's ingress CA and certificate",
            header=f"{TECTONIC_NAMES}\n{KEY_TEXT_NOTE}",
            build=_ingress_user_provided,
            accepts="ingress/self-signed",
        ),
    ),
)

MODULES: dict[str, Module] = {m.name: m for m in (ETCD, KUBE, IDENTITY, INGRESS)}


# --- what the tools and tests read --------------------------------------------------------------------------


def _output_of(outputs: list[Output], slot: str, *, key: bool) -> str | None:
    return next((o.name for o in outputs if o.slot == slot and o.key == key), None)


def output_contract() -> dict[str, dict[str, tuple[str, str | None]]]:
    """module => slot => (its certificate's output, its key's output or None), every module's CA first."""
    out: dict[str, dict[str, tuple[str, str | None]]] = {}
    for module in MODULES.values():
        fixed = [o for o in module.outputs if o.slot and not o.per_node]
        out[module.name] = {
            s.name: (str(_output_of(fixed, s.name, key=False)), _output_of(fixed, s.name, key=True))
            for s in module.slots
        }
    return out


def per_node_contract() -> dict[str, dict[str, tuple[str, str]]]:
    """module => per-node role => (certificate map output, key map output), keyed by member or node name."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for module in MODULES.values():
        maps = [o for o in module.outputs if o.per_node]
        if maps:
            out[module.name] = {
                r.prefix: (
                    str(_output_of(maps, r.prefix, key=False)),
                    str(_output_of(maps, r.prefix, key=True)),
                )
                for r in module.per_node
            }
    return out
