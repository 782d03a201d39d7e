# One issuing stage (docs/design.md): each certificate is generated once, in the plan that creates or
# replaces its `issued` marker, and kept in state where Terraform never prints its key. Every later plan
# reuses what was kept, and no program runs at all.
#
#   issued[slot]   marker: the time of the plan that created it; replaced when the spec changes (or by
#                  -replace)
#   data.issue     the program, counted in only when some marker (or a stage upstream) is new
#   kept[slot]     the certificate, its facts and its key (a sensitive element of triggers_replace, the one
#                  place Terraform keeps its mark in every plan, diff, show and state), all in the one
#                  record that the program's answer lands in: no apply can stop between the answer and a
#                  record that holds the key
#   data.heal      the program again, only when a `kept` is created while its marker is old (an apply
#                  stopped between the two): the next plan issues that certificate anew
#   healed[slot]   where a healing run's certificate is kept; exists only for such a slot

resource "terraform_data" "issued" {
  for_each = var.certs

  # The plan that made it, as a number: the smallest value Terraform keeps (twice: `output` mirrors
  # `input`), ~300 bytes of state a certificate less than an object.
  input = local.stage.now
  # A certificate issued for a CSR is issued again when the CSR (its key) changes: the file's hash joins
  # what shapes it (a missing file is the program's to report).
  triggers_replace = lookup(local.stage.csr_of, each.key, "") == "" ? each.value : sha256("${each.value} ${try(filesha256(local.stage.csr_of[each.key]), "missing:${local.stage.csr_of[each.key]}")}")

  lifecycle {
    ignore_changes = [input]

    # Checked at every plan, before any program runs, and here rather than in a variable's validation
    # (which would print the value: a key pasted into the wrong input). `refusals` says what and why; one
    # precondition for all of them, as each costs Terraform an evaluation per certificate at every plan.
    precondition {
      condition     = length(local.refusals.every) == 0 && (each.key != local.stage.first_slot || length(local.refusals.first) == 0)
      error_message = join("\n", concat(local.refusals.every, each.key == local.stage.first_slot ? local.refusals.first : []))
    }
  }
}

# The stage's locals are few and grouped into objects by when they can be known: Terraform evaluates each
# local of each stage at every plan, building its table of functions anew each time (~0.1 ms: at 100
# nodes, 20 locals more cost a quiet plan 7%; docs/performance.md).
locals {
  stage = {
    # This plan's time, as a marker holds it.
    now        = tonumber(formatdate("YYYYMMDDhhmmss", plantimestamp()))
    kind       = split("-", var.settings.program[length(var.settings.program) - 1])[0]
    first_slot = keys(var.certs)[0]
    csr_of     = { for name, csr in var.settings.csr_paths : name => csr if csr != "" }
    # Run as given, but the default `tfext` through a shell that says what to do when it is not on PATH
    # (TFEXT-E094): Terraform's own error for that is 30 lines that never name the fix.
    run = var.settings.program[0] != "tfext" ? var.settings.program : concat(
      ["sh", "-c", "command -v tfext >/dev/null 2>&1 || { echo \"tfext $1: TFEXT-E094 the tfext command is not on PATH, so Terraform cannot run its programs. In the shell that runs terraform: eval \\\"\\$(<your tfext checkout>/.venv/bin/tfext env)\\\" (README: Your own root module), or set the module's tfext_command to the command's full path.\" >&2; exit 127; }; exec tfext \"$@\"", "tfext"], slice(var.settings.program, 1, length(var.settings.program)),
    )
    # What every run of this stage is told besides the stage's query: the CA that signs its certificates
    # (its key's file when it is in one, a key directory: its text never then, as the query is kept in
    # state), where new keys go (a key directory), and which slots are issued for a CSR's key.
    run_query = merge(
      var.settings.query,
      { facts_as = "list" }, # the facts as `fact_order` below, not an object: ~230 bytes of state a certificate
      var.signer == null ? {} : merge(
        { ca_cert_pem = var.signer.cert_pem },
        var.signer.key_path == "" ? { ca_key_pem = var.signer.key_pem } : { ca_key_path = abspath(var.signer.key_path) },
      ),
      var.settings.key_dir == "" ? {} : { key_dir = abspath(var.settings.key_dir) },
      { for name, csr in var.settings.csr_paths : "${name}_csr_path" => csr if csr != "" },
    )
    # A certificate's facts as the program answers them and its record keeps them: a list in this order
    # (tfext.certinfo.FACT_ORDER; records made before 0.5.0 hold an object), the flags left off while false.
    fact_order = ["subject", "issuer", "sans", "serial", "sha256_fingerprint", "not_before", "not_after", "subject_key_id", "authority_key_id", "is_ca", "key_from_csr"]
    no_facts = {
      subject            = ""
      issuer             = ""
      sans               = []
      serial             = ""
      sha256_fingerprint = ""
      not_before         = ""
      not_after          = ""
      is_ca              = false
      subject_key_id     = ""
      authority_key_id   = ""
      key_from_csr       = false # true when issued for a node's own key (its CSR)
    }
  }

  # What fails the plan before anything of this stage changes: `every` certificate's, and the stage's own
  # (said once, by its first certificate).
  refusals = {
    # The program refuses this too, but only when it runs.
    every = [
      for bad in [sort([for k, v in merge({ for k, v in var.settings.query : k => v if !endswith(k, "_pem") }, var.settings.plain_inputs) : k if strcontains(v, "-----BEGIN")])] :
      "TFEXT-E028 ${join(", ", bad)}: PEM text given where a name, address or setting is expected (not shown). Pass certificates and keys only to the *_pem and *_path inputs." if length(bad) > 0
    ]
    first = compact([
      # A rule the caller checks before anything of this stage changes (a CA rotation's order): here, so
      # that an apply with -target on this stage checks it too.
      var.guard,
      # A stage that signs with a CA it is given needs that CA's key (kube/user-provided without
      # ca_key_pem_path gives an empty ca_key_pem and ca_key_path). Whether it was given is all this says
      # of the key, hence nonsensitive (the signer's key is, so is anything compared with it).
      nonsensitive(sensitive(var.signer == null ? true : (var.signer.key_path != "" || var.signer.key_pem != ""))) ? "" : "TFEXT-E053 ${local.stage.kind}: no private key of the CA that signs these certificates was given (ca_key_pem and ca_key_path are empty). Pass the kube module's ca_key_pem and ca_key_path outputs (from kube/user-provided, set its ca_key_pem_path first), or use the user-provided flavor with files signed elsewhere. If this module generated the CA and its key is missing from state, `terraform state pull | tfext heal` names what to issue again.",
    ])
  }

  # Every marker as the rest of this stage reads it, through this one local: a reference to
  # `terraform_data.issued[each.key]` in each instance would make Terraform build every marker's value
  # once per instance (a stage of N certificates cost N^2), and each reference to the resource looks up
  # every instance's planned change in a list of the whole plan's (docs/performance.md).
  markers = {
    id = { for name, m in terraform_data.issued : name => m.id }
    # A marker holds this plan's time only in the plan that creates or replaces it, and that is known at
    # plan time: on a plan with nothing to issue the program does not even run.
    new = toset([for name, m in terraform_data.issued : name if m.input == local.stage.now])
    # A marker made by tfext 0.4 or earlier holds a bare timestamp, and its certificate stays in that
    # release's records (captured, sealed) until it is issued again; one made before 0.5 was released,
    # `{ at = <timestamp> }`.
    legacy = toset([for name, m in terraform_data.issued : name if !can(m.input.at) && !can(m.input + 0)])
  }

  this_plan = {
    # Not issued here when a stage upstream already issued in this plan, in its own run (a new CA and its
    # first leaves).
    issuing = !var.upstream.issuing && length(local.markers.new) > 0
    # The records' for_each, computed once: Terraform evaluates a resource's for_each again for each of
    # its instances.
    kept_slots = { for name, hash in var.certs : name => hash if !contains(local.markers.legacy, name) }
    query = merge(
      local.stage.run_query,
      { plan_time = plantimestamp() },
      # The program issues the slots whose time is plan_time; any other (the epoch) is "kept already".
      { for name, _ in local.markers.id : "${name}_issued_at" => contains(local.markers.new, name) ? plantimestamp() : "1970-01-01T00:00:00Z" },
      { for name in flatten(values(var.settings.co_issued)) : "${name}_issued_at" => plantimestamp() if length(local.markers.new) > 0 },
    )
  }

  # What this plan's run answered (or the run upstream, for this stage's slots).
  answer = {
    public = var.upstream.issuing ? var.upstream.public : try(data.external.issue[0].result, {})
    # A key the program read from a file (a given CA to sign with) comes back as the file's path, never
    # as text, and is read here.
    keys = var.upstream.issuing ? var.upstream.keys : sensitive({
      for name, _ in var.certs : name => (
        lookup(try(data.external.issue[0].result, {}), "${name}_key_path", "") != "" ? file(data.external.issue[0].result["${name}_key_path"]) :
        lookup(try(data.external.issue[0].result, {}), "${name}_key_pem", "")
      )
    })
  }
}

data "external" "issue" {
  count = local.this_plan.issuing ? 1 : 0

  program = local.stage.run
  query   = local.this_plan.query
}

resource "terraform_data" "kept" {
  for_each = local.this_plan.kept_slots

  # tomap, not an object: with an object, ignoring one element swallowed a marker change too. Every
  # element but the marker is ignored after creation, so a quiet plan's empty answer changes nothing,
  # and a new marker id (unknown at plan) replaces the record with the new certificate. The stage and
  # slot tell its role: records made before 0.5.0 also hold it as `role` (~50 bytes of state).
  triggers_replace = tomap(merge(
    {
      marker   = local.markers.id[each.key]
      at       = plantimestamp()
      cert_pem = lookup(local.answer.public, "${each.key}_cert_pem", "")
      info     = lookup(local.answer.public, "${each.key}_info", "")
    },
    # Only the elements this slot can have in this mode (a missing one reads as ""; records made before
    # 0.5 was released hold them all), chosen by what is known at plan, never by a value: ~150 bytes of
    # state a certificate, and in a key directory no sensitive element at all.
    each.key == "ca" ? { key_alg = lookup(local.answer.public, "ca_key_alg", "") } : {},
    # With a key directory, the key's file instead of its text: a new one (relative to key_dir), or a
    # given CA's own file; its hash is checked at every plan.
    var.settings.key_dir == "" ? { key_pem = sensitive(local.answer.keys[each.key]) } : {},
    var.settings.key_dir == "" ? {} : {
      key_file   = lookup(local.answer.public, "${each.key}_key_file", "")
      key_path   = lookup(local.answer.public, "${each.key}_key_path", "")
      key_sha256 = lookup(local.answer.public, "${each.key}_key_sha256", lookup(local.answer.public, "${each.key}_key_path", "") == "" ? "" : filesha256(local.answer.public["${each.key}_key_path"]))
    },
    contains(keys(local.stage.csr_of), each.key) ? { csr = lookup(local.answer.public, "${each.key}_csr", "") } : {},
  ))

  lifecycle {
    ignore_changes = [
      triggers_replace["role"], triggers_replace["at"], triggers_replace["cert_pem"], triggers_replace["info"],
      triggers_replace["key_alg"], triggers_replace["key_pem"], triggers_replace["key_file"],
      triggers_replace["key_path"], triggers_replace["key_sha256"], triggers_replace["csr"],
    ]
  }
}

locals {
  # Every `kept` as the rest of this stage reads it, through this one map (as the markers).
  kept_records = { for name, k in terraform_data.kept : name => { id = k.id, r = k.triggers_replace } }
  heal = {
    # A `kept` made in this plan while its marker is old: the apply that made the marker failed or was
    # stopped before the program's answer was kept. Known at plan time, so the healing run is counted in
    # exactly then.
    slots = toset([
      for name, k in local.kept_records : name
      if k.r["at"] == plantimestamp() && !contains(local.markers.new, name) && !var.upstream.issuing
    ])
    # Every `kept` without a certificate has a `healed` beside it: one being healed now (`slots`), or one
    # healed before.
    healing = toset([
      for name, k in local.kept_records : name
      if k.r["at"] == plantimestamp() ? !contains(local.markers.new, name) && !var.upstream.issuing : k.r["cert_pem"] == ""
    ])
  }
}

data "external" "heal" {
  count = length(local.heal.slots) > 0 ? 1 : 0

  program = local.stage.run
  query = merge(
    local.stage.run_query,
    { plan_time = plantimestamp() },
    { for name in local.heal.slots : "${name}_issued_at" => plantimestamp() },
  )
}

locals {
  healed_result = try(data.external.heal[0].result, {})
}

resource "terraform_data" "healed" {
  for_each = local.heal.healing

  # The elements of a `kept` (which see).
  triggers_replace = tomap(merge(
    {
      marker   = local.kept_records[each.key].id
      at       = plantimestamp()
      cert_pem = lookup(local.healed_result, "${each.key}_cert_pem", "")
      info     = lookup(local.healed_result, "${each.key}_info", "")
    },
    each.key == "ca" ? { key_alg = lookup(local.healed_result, "ca_key_alg", "") } : {},
    # A key the program read from a file comes back as the file's path (as for `kept`).
    var.settings.key_dir == "" ? { key_pem = sensitive(lookup(local.healed_result, "${each.key}_key_path", "") != "" ? file(local.healed_result["${each.key}_key_path"]) : lookup(local.healed_result, "${each.key}_key_pem", "")) } : {},
    var.settings.key_dir == "" ? {} : {
      key_file   = lookup(local.healed_result, "${each.key}_key_file", "")
      key_path   = lookup(local.healed_result, "${each.key}_key_path", "")
      key_sha256 = lookup(local.healed_result, "${each.key}_key_sha256", lookup(local.healed_result, "${each.key}_key_path", "") == "" ? "" : filesha256(local.healed_result["${each.key}_key_path"]))
    },
    contains(keys(local.stage.csr_of), each.key) ? { csr = lookup(local.healed_result, "${each.key}_csr", "") } : {},
  ))

  lifecycle {
    ignore_changes = [
      triggers_replace["role"], triggers_replace["at"], triggers_replace["cert_pem"], triggers_replace["info"],
      triggers_replace["key_alg"], triggers_replace["key_pem"], triggers_replace["key_file"],
      triggers_replace["key_path"], triggers_replace["key_sha256"], triggers_replace["csr"],
    ]
  }
}

# --- certificates issued by tfext 0.4 or earlier, in the records of that layout ---------------------------------
# They stay as they are (nothing here can change them) until their marker is replaced; tfext 0.1 kept
# the key in the capture itself, and its seal is made here from that copy, as 0.2 did.

resource "terraform_data" "captured" {
  for_each = local.markers.legacy

  input            = null
  triggers_replace = local.markers.id[each.key]

  lifecycle {
    ignore_changes = all
  }
}

resource "terraform_data" "sealed" {
  for_each = local.markers.legacy

  input = {
    role     = "${local.stage.kind}/${each.key}"
    cert_pem = try(terraform_data.captured[each.key].input.cert_pem, "")
    info     = try(terraform_data.captured[each.key].input.info, "")
    key_alg  = try(terraform_data.captured[each.key].input.key_alg, "")
  }
  triggers_replace = tomap({
    marker = terraform_data.captured[each.key].id
    key    = sensitive(try(terraform_data.captured[each.key].input.key_pem, ""))
  })

  lifecycle {
    ignore_changes = all
  }
}

locals {
  records = merge(
    { for name, s in terraform_data.sealed : name => merge(s.input, {
      key_pem    = s.triggers_replace["key"]
      key_file   = try(s.triggers_replace["key_file"], "")
      key_sha256 = try(s.triggers_replace["key_sha256"], "")
    }) },
    { for name, k in local.kept_records : name => contains(local.heal.healing, name) ? terraform_data.healed[name].triggers_replace : k.r },
  )
  # Where each record's key is: in the record (state mode), or a file (key-directory mode) read at every
  # plan, its hash checked. No key directory here (a CI runner's copy of the root): keys are empty, and a
  # check warns.
  found = {
    # (Looked at after this plan's runs, which may have just made it: hence the reference to the records.)
    key_dir_here = var.settings.key_dir == "" ? false : fileexists("${var.settings.key_dir}/${nonsensitive(sensitive(length(local.records)) >= 0) ? ".tfext-key-dir" : ""}")
    # A record naming a key file while this module has no key_dir: its keys were moved into a key
    # directory (tfext move-keys) and the root module does not say where.
    key_dir_missing = sort([for name, r in local.records : "${local.stage.kind}/${name}" if try(r.key_file, "") != "" && var.settings.key_dir == ""])
    key_files = {
      for name, r in local.records : name => (
        try(r.key_file, "") != "" && var.settings.key_dir != "" ? "${var.settings.key_dir}/${r.key_file}" : try(r.key_path, "")
      )
    }
    facts = {
      for name, r in local.records : name => merge(local.stage.no_facts, try(
        { for i, v in jsondecode(r.info) : local.stage.fact_order[i] => v }, # a list (an object has no number index)
        jsondecode(r.info), {}
      ))
    }
  }
  # Each key file looked at: every given one, and a new one only where the key directory is ("present" or
  # "missing"; else "unchecked"). HCL's && does not short-circuit, hence the conditionals.
  key_found = {
    for name, f in local.found.key_files : name => (
      (f == "" ? false : local.found.key_dir_here || try(local.records[name].key_file, "") == "") ? (fileexists(f) ? "present" : "missing") : "unchecked"
    )
  }
  checked = {
    key_file_problems = sort([
      for name, f in local.found.key_files : "${local.stage.kind}/${name} (${f})"
      if local.key_found[name] == "present" ? filesha256(f) != try(local.records[name].key_sha256, "") : local.key_found[name] == "missing"
    ])
    certs = {
      for name, r in local.records : name => {
        cert_pem = r.cert_pem
        key_pem  = local.found.key_files[name] == "" ? try(r.key_pem, "") : (local.key_found[name] == "present" ? sensitive(file(local.found.key_files[name])) : "")
        key_path = local.found.key_files[name]
        key_alg  = try(r.key_alg, "")
        # Every certificate's facts in one type, whatever release recorded them (key ids since 0.3) or
        # none (a record being healed), the SANs a list of strings even when empty: the module outputs
        # are maps of them, and a map holding one still unknown (being issued) takes only equal types.
        info = merge(local.found.facts[name], { sans = compact(local.found.facts[name].sans) })
      }
    }
    # Certificates within the renewal window (TFEXT-E043/E059 below).
    expiring = {
      for name, f in local.found.facts : name => "${local.stage.kind}/${name} (${f.not_after})"
      if timecmp(f.not_after == "" ? "9999-01-01T00:00:00Z" : f.not_after, timeadd(plantimestamp(), "${var.settings.renewal_window_hours}h")) < 0
    }
    # Certificates without their certificate or key: an apply stopped while healing, or a key lost under
    # tfext 0.4 or earlier. Known at plan time unless the program runs during apply. A certificate issued
    # for a CSR has no key of ours, and a key file elsewhere is checked on its own.
    incomplete = sort([
      for name, r in local.records : "${local.stage.kind}/${name}"
      if r.cert_pem == "" || (local.found.key_files[name] == "" && try(r.key_file, "") == "" && try(r.csr, "") == "" && nonsensitive(sensitive(try(r.key_pem, "")) == ""))
    ])
  }
}

check "certificate_expiry" {
  assert {
    condition = length(local.checked.expiring) == 0
    # A CA takes every certificate it signed with it: the way out is a CA rotation, not a re-issue.
    error_message = (var.settings.certs_are_cas ?
      "TFEXT-E059 ${local.stage.kind}/ca expires within ${var.settings.renewal_window_hours} hours: ${join(", ", values(local.checked.expiring))}, and every certificate it signed with it. Start a CA rotation: ca_rotation = { generation = N + 1, phase = \"trust\" } (docs/ca-rotation.md)." :
      "TFEXT-E043 ${local.stage.kind} certificates expire within ${var.settings.renewal_window_hours} hours: ${join(", ", values(local.checked.expiring))}. Rotate them (README: Rotation)."
    )
  }
}

# A copy of the root module where the key directory is not (a CI runner checking the shared state): the
# plan stays quiet and says so, instead of failing.
check "keys_here" {
  assert {
    condition     = var.settings.key_dir == "" || local.found.key_dir_here || length([for name, r in local.records : name if try(r.key_file, "") != ""]) == 0
    error_message = "TFEXT-E076 ${local.stage.kind}: the key directory ${var.settings.key_dir} is not here (no .tfext-key-dir in it), so this plan reads no private key and the *_key_pem outputs are empty. That is expected where only certificates are checked (a CI plan); where keys are written out, run in the directory that holds the keys."
  }
}

check "keys_sealed" {
  assert {
    condition     = alltrue([for c in terraform_data.captured : !can(c.input.key_pem)])
    error_message = "TFEXT-E052 this state still holds private keys where Terraform prints them (written by tfext 0.1). They are sealed now; to drop the old copies run `tfext migrate-state` (docs/upgrading.md)."
  }
}
