// `lsyncd-cluster-audit` on the exchange, so that "OK" means "identical" (issue 15): it
// compares every node's sync dir with the exchange's (names, sizes, mtimes to the
// nanosecond; content hashes with --checksum), prints the differences that persist over
// the grace period, records them for the health check, and with --repair pushes the
// exchange's version of each differing name, which the node's intake weighs against its
// own by the cluster's one rule (newest mtime wins; a newer node version is sent back).
//
// It sees a node only through that node's write-only rsync module, as a dry-run push:
// the node answers which names would change, never their contents, so the sync key
// it uses can do nothing a stolen one cannot do today. Files ride in the lsyncd step.
import { sh } from "./quote";
import { FileSpec } from "./scripts/bash";
import { AuditSpec } from "./spec";
import {
  AUDIT_CHECKSUM_STAMP,
  AUDIT_COMMAND,
  AUDIT_CONTENT_STATE,
  AUDIT_LOCK,
  AUDIT_SERVICE,
  AUDIT_SERVICE_UNIT,
  AUDIT_STATE,
  AUDIT_TIMER,
  AUDIT_TIMER_UNIT,
  FUSE_RULES,
  RSYNC_BINARY,
  RSYNC_MODULE,
  SSH_BINARY,
  SSH_CONFIG,
  SYNC_TEMP_DIR_NAME,
  TEMP_DIR_PATTERN,
  VERSIONS_DIR_NAME,
  alwaysExcluded,
  peerAlias,
  pusherReplacedDir,
  pusherTempDir,
} from "./hostLayout";

export interface AuditScriptSpec {
  readonly syncDir: string;
  /** This host (the exchange): the pusher name its repair pushes use. */
  readonly host: string;
  readonly nodes: readonly string[];
  readonly excludes: readonly string[];
  readonly graceSeconds: number;
  /** The exchange's versions dir, where its deletes are kept; "" when versions are off. */
  readonly versionsDir: string;
}

function whole(name: string, value: number, min: number): string {
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}, got ${value}`);
  return String(value);
}

export function renderAuditScript(spec: AuditScriptSpec): string {
  const excludes = [TEMP_DIR_PATTERN, ...alwaysExcluded(), ...spec.excludes].map((e) => sh(`--exclude=${e}`));
  const targets = spec.nodes.map((n) => `${sh(n)}=${sh(`${peerAlias(n)}::${RSYNC_MODULE}/`)}`);
  return `#!/bin/bash
# Managed by lsyncd-cluster. Compares every node's sync dir with this exchange's; prints the
# differences that persist over the grace period; --repair pushes the agreed version.
# Exit 0: identical; 1: differences (repaired or not, as printed); 64: usage.
set -euo pipefail
sync_dir=${sh(spec.syncDir)}
state=${sh(AUDIT_STATE)}
checksum_stamp=${sh(AUDIT_CHECKSUM_STAMP)}
content_state=${sh(AUDIT_CONTENT_STATE)}
rsync=${sh(RSYNC_BINARY)}
rsh=${sh(`${SSH_BINARY} -F ${SSH_CONFIG}`)}
grace=${whole("graceSeconds", spec.graceSeconds, 0)}
versions_dir=${sh(spec.versionsDir)}
declare -A target=(${targets.map((t) => `[${t.replace("=", "]=")}`).join(" ")})
nodes=(${spec.nodes.map(sh).join(" ")})
excludes=(${excludes.join(" ")})
# Deletes the mass-delete fuse holds (issue 13) are not differences: the operator decides.
protect=()
if [[ -s ${sh(FUSE_RULES)} ]]; then protect=(--filter=${sh(`merge ${FUSE_RULES}`)}); fi

usage() { echo "usage: lsyncd-cluster-audit [--repair] [--checksum | --checksum-every HOURS] [--grace SECONDS] [NODE...]" >&2; exit 64; }
repair=0
checksum=()
every=
only=()
while (($#)); do
  case $1 in
    --repair) repair=1 ;;
    --checksum) checksum=(--checksum) ;;
    --checksum-every) [[ \${2:-} =~ ^[0-9]{1,4}$ ]] || usage; every=$((10#$2)); shift ;;
    --grace) [[ \${2:-} =~ ^[0-9]+$ ]] || usage; grace=$2; shift ;;
    -*) usage ;;
    *) [[ -n \${target[$1]+x} ]] || { echo "lsyncd-cluster-audit: unknown node $1 (nodes: \${nodes[*]})" >&2; exit 64; }
       only+=("$1") ;;
  esac
  shift
done
((\${#only[@]})) && nodes=("\${only[@]}")

# One audit at a time: the timer's and one by hand share the state files.
install -d -m 0755 "$(dirname "$state")"
exec 9>${sh(AUDIT_LOCK)}
if ! flock -n 9; then
  echo "lsyncd-cluster-audit: waiting for the audit that is running" >&2
  flock -w 3600 9 || { echo "lsyncd-cluster-audit: another audit still runs after an hour" >&2; exit 75; }
fi
# The timer's runs: content hashes too when the last complete audit of every node that
# compared them is at least HOURS old (or there was none). Decided under the lock: a run
# that waited for a content check does not repeat it.
if [[ -n $every && \${#checksum[@]} -eq 0 && -z $(find "$checksum_stamp" -mmin -$((every * 60)) 2>/dev/null) ]]; then
  checksum=(--checksum)
fi

# Reads come first: this script and every rsync it starts get the lowest CPU priority and
# idle-class I/O, so nginx on this disk is never kept waiting.
renice -n 19 -p $$ >/dev/null 2>&1 || true
ionice -c 3 -p $$ >/dev/null 2>&1 || true

# One dry-run push per node; its write-only module answers which names would change.
# --omit-dir-times here and in the repairs: directory times are each host's own (the lsyncd
# config says why), so they are neither compared nor set.
# Prints "<node> <kind> <name>" per regular file or symlink, kind = missing | differs | extra.
differences() {
  local node=$1
  "$rsync" -rt --omit-dir-times --dry-run --itemize-changes --delete --modify-window=-1 "\${checksum[@]}" "\${excludes[@]}" "\${protect[@]}" \\
    -e "$rsh" -- "$sync_dir/" "\${target[$node]}" | itemized "$node"
}
itemized() { # node < rsync --itemize-changes
  awk -v node="$1" '
    /^\\*deleting / { name = substr($0, 13); if (name !~ /\\/$/) print node " extra " name; next }
    length($0) > 12 && substr($0, 12, 1) == " " {
      code = substr($0, 1, 11); type = substr(code, 2, 1); name = substr($0, 13)
      if (type != "f" && type != "L") next
      print node " " (substr(code, 3, 9) == "+++++++++" ? "missing" : "differs") " " name
    }'
}
# A run without content hashes still compares, by content, the names the last one with
# them found different: a version with the same size and mtime but other bytes is invisible
# to it, and its warning would otherwise end ten minutes after the daily check found it.
recheck() {
  local node=$1
  grep -q "^$node differs " "$content_state" 2>/dev/null || return 0
  names_of '^differs$' "$node" < "$content_state" |
    "$rsync" -rt --omit-dir-times --dry-run --itemize-changes --modify-window=-1 --checksum --from0 --files-from=- --ignore-missing-args \\
      "\${excludes[@]}" "\${protect[@]}" -e "$rsh" -- "$sync_dir/" "\${target[$node]}" | itemized "$node"
}
# A node that could not be compared is a difference too (it used to pass unseen unless it was
# the last one).
all_differences() {
  local n
  for n in "\${nodes[@]}"; do
    differences "$n" || echo "$n unchecked (rsync exit $?)"
    ((\${#checksum[@]})) || recheck "$n" || echo "$n unchecked (rsync exit $?)"
  done | LC_ALL=C sort -u
}

# Names as rsync printed them (non-printable bytes as \\#ooo), back to bytes, NUL-separated.
names_of() { # kind-regex node < differences
  awk -v k="$1" -v n="$2" '$1 == n && $2 ~ k { print substr($0, length($1) + length($2) + 3) }' |
    perl -ne 'chomp; s/\\\\#([0-7]{3})/chr(oct($1))/ge; print "$_\\0"'
}

repair_node() { # node < differences
  local node=$1 list rc=0
  list=$(cat)
  # The exchange's version of each differing or missing name, pushed as lsyncd pushes (kept
  # copy for the node's intake, which keeps its own if newer and sends that back here).
  # -I: a version with the same size and mtime but other bytes (found by --checksum) too.
  printf '%s\\n' "$list" | names_of '^(differs|missing)$' "$node" |
    "$rsync" -t --omit-dir-times --perms -I --modify-window=-1 --from0 --files-from=- --ignore-missing-args \\
      --temp-dir=${sh(pusherTempDir(spec.host))} --backup --backup-dir=${sh(pusherReplacedDir(spec.host))} \\
      -e "$rsh" -- "$sync_dir/" "\${target[$node]}" || rc=$?
  # A name only the node holds that is a delete this exchange kept (deletable_extras()) is
  # deleted there too. Not after a failed push: a rename's new name would be missing there
  # and the old gone.
  ((rc == 0)) || return "$rc"
  printf '%s\\n' "$list" | names_of '^extra$' "$node" |
    "$rsync" -t --omit-dir-times --from0 --files-from=- --delete-missing-args --ignore-errors \\
      --backup --backup-dir=${sh(pusherReplacedDir(spec.host))} \\
      -e "$rsh" -- "$sync_dir/" "\${target[$node]}"
}

# The extras --repair may delete on a node: a file that is the very version whose delete
# this exchange kept (the newest "~deleted" of its name: same size and mtime to the
# nanosecond, by a dry run of a copy of it against the node). Anything else only a node
# holds is a write that never reached the exchange (its lsyncd was stopped, or its push
# failed) or a delete kept nowhere, and stays: --repair once deleted such a write, the only
# copy (found by a hunt, 2026-12-01), and a bare "a delete of this name was kept" also
# matched a later upload under a reused name (review). Any doubt keeps the file: a name
# that cannot be copied, a dry run that fails. Names as bytes come from names_of(), so a
# name ending in a newline is itself.
deletable_extras() { # node < differences; prints the node's extra lines it may delete
  local node=$1 list v stage differ i rc=0
  local -a lines=() names=() staged=()
  list=$(cat)
  [[ -n $versions_dir ]] || return 0
  # The same lines twice, in the same order: as printed (to answer with) and as bytes.
  mapfile -t lines < <(printf '%s\\n' "$list" | awk -v n="$node" '$1 == n && $2 == "extra"')
  mapfile -d '' names < <(printf '%s\\n' "$list" | names_of '^extra$' "$node")
  ((\${#names[@]})) || return 0
  stage=$(mktemp -d)
  for i in "\${!names[@]}"; do
    v=$(find "$versions_dir/\${names[i]}" -mindepth 1 -maxdepth 1 -type f \\( -name '*~deleted' -o -name '*~deleted~*' \\) -print0 2>/dev/null | LC_ALL=C sort -z | tail -z -n 1 | tr -d '\\0') || v=
    [[ -n $v ]] || continue
    { mkdir -p -- "$stage/$(dirname -- "\${names[i]}")" && cp -p -- "$v" "$stage/\${names[i]}"; } 2>/dev/null || continue
    staged+=("$i")
  done
  if ((\${#staged[@]})); then
    differ=$(for i in "\${staged[@]}"; do printf '%s\\0' "\${names[i]}"; done |
      "$rsync" -t --omit-dir-times --dry-run --itemize-changes --modify-window=-1 --from0 --files-from=- \\
        -e "$rsh" -- "$stage/" "\${target[$node]}" | itemized "$node") || rc=$?
    if ((rc == 0)); then
      for i in "\${staged[@]}"; do
        printf '%s\\n' "$differ" | grep -qxF -e "$node differs \${lines[i]#"$node extra "}" -e "$node missing \${lines[i]#"$node extra "}" ||
          printf '%s\\n' "\${lines[i]}"
      done
    fi
  fi
  rm -rf -- "$stage"
}

# What persisted over the grace period: what both looks found, except that a node either
# look could not compare is "unchecked" and nothing else (its other lines are a half view).
settled() { # first second
  awk '
    FNR == 1 { look++ }
    NF == 0 { next }
    $2 == "unchecked" { bad[$1] = $0; next }
    look == 1 { seen[$0] = 1; next }
    ($0 in seen) { kept[++n] = $0 }
    END {
      for (i = 1; i <= n; i++) { split(kept[i], f, " "); if (!(f[1] in bad)) print kept[i] }
      for (b in bad) print bad[b]
    }' <(printf '%s\\n' "$1") <(printf '%s\\n' "$2") | LC_ALL=C sort -u
}

# The list recheck reads: what this run found different, and an unchecked node's old lines.
still_different() { # found < old list
  awk 'FNR == 1 { look++ }
    look == 1 && $2 == "unchecked" { bad[$1] = 1; next }
    look == 1 && $2 == "differs" { print; next }
    look == 2 && ($1 in bad) { print }' <(printf '%s\\n' "$1") - | LC_ALL=C sort -u
}

first=$(all_differences)
found=
if [[ -n $first ]]; then
  # A file in flight is not a divergence: only what is still different after the grace
  # period counts.
  sleep "$grace"
  found=$(settled "$first" "$(all_differences)")
fi
if [[ -n $found && $repair == 1 ]]; then
  if [[ -z $(find "$sync_dir" -path "$sync_dir/${SYNC_TEMP_DIR_NAME}" -prune -o -type f -print -quit) ]]; then
    echo "lsyncd-cluster-audit: $sync_dir holds no file here; refusing to repair the nodes from it" >&2
    exit 1
  fi
  deletable=$(for n in "\${nodes[@]}"; do printf '%s\\n' "$found" | deletable_extras "$n"; done)
  kept=$(printf '%s\\n' "$found" | awk '$2 == "extra"' | grep -vxF -f <(printf '%s\\n' "$deletable") || true)
  todo=$(printf '%s\\n' "$found" | grep -vxF -f <(printf '%s\\n' "$kept") || true)
  for n in "\${nodes[@]}"; do
    printf '%s\\n' "$todo" | repair_node "$n" || echo "lsyncd-cluster-audit: could not repair $n (rsync exit $?)" >&2
  done
  if [[ -n $todo ]]; then
    echo "repairing $(printf '%s\\n' "$todo" | wc -l) difference(s):"
    printf '%s\\n' "$todo" | sed 's/^\\([^ ]*\\) \\([^ ]*\\) /\\1: \\2: /'
  fi
  if [[ -n $kept ]]; then
    echo "keeping $(printf '%s\\n' "$kept" | wc -l) file(s) only a node holds that are not a delete this exchange kept: a write that never reached it (restart lsyncd on that node to send it here) or a delete kept nowhere (delete it on that node); lsyncd-cluster-restore list NAME shows what the exchange kept of a name:"
    printf '%s\\n' "$kept" | sed 's/^\\([^ ]*\\) \\([^ ]*\\) /\\1: \\2: /'
  fi
  # The nodes' intakes answer within seconds; look again until only what was kept is left,
  # or 60 s passed.
  for _ in $(seq 1 30); do
    sleep 2
    found=$(all_differences)
    [[ -z $(printf '%s\\n' "$found" | grep -vxF -f <(printf '%s\\n' "$kept") || true) ]] && break
  done
fi
# The health check reads this: the differences that outlived the grace period, and when.
if [[ -n $found ]]; then
  { date -u +%s; printf '%s\\n' "$found"; } > "$state.tmp"
else
  : > "$state.tmp"
fi
mv -f "$state.tmp" "$state"
# The names found different stay listed for the runs without content hashes (recheck) until
# a run that compared their node finds them settled; an unchecked node keeps its lines. A
# run over some nodes only leaves the list and the stamp alone, and only a content check
# that compared every node resets the stamp.
if ((\${#only[@]} == 0)); then
  if ((\${#checksum[@]})) || [[ -s $content_state ]]; then
    still_different "$found" < <(cat "$content_state" 2>/dev/null) > "$content_state.tmp"
    mv -f "$content_state.tmp" "$content_state"
  fi
  if ((\${#checksum[@]})) && ! printf '%s\\n' "$found" | grep -q '^[^ ]* unchecked '; then touch "$checksum_stamp"; fi
fi
if [[ -z $found ]]; then
  echo "OK: \${#nodes[@]} node(s) identical with the exchange\${checksum:+ (content hashes compared)}"
  exit 0
fi
echo "DIFFERENT: $(printf '%s\\n' "$found" | wc -l) difference(s) persisted over \${grace}s:"
printf '%s\\n' "$found" | sed 's/^\\([^ ]*\\) \\([^ ]*\\) /\\1: \\2: /'
exit 1
`;
}

export function renderAuditService(checksumHours: number): string {
  const hours = whole("checksumHours", checksumHours, 0);
  const every = hours === "0" ? "" : ` --checksum-every ${hours}`;
  return `# Managed by lsyncd-cluster; local edits are overwritten.
[Unit]
Description=lsyncd-cluster: compare every node's sync dir with the exchange's
After=lsyncd.service

[Service]
Type=oneshot
ExecStart=${AUDIT_COMMAND}${every}
# Differences are its normal output, not a unit failure; the health check reports them.
SuccessExitStatus=1
Nice=19
IOSchedulingClass=idle
`;
}

export function renderAuditTimer(intervalMinutes: number): string {
  return `# Managed by lsyncd-cluster; local edits are overwritten.
[Unit]
Description=lsyncd-cluster: audit the nodes every ${whole("intervalMinutes", intervalMinutes, 1)} min

[Timer]
OnBootSec=5min
OnUnitActiveSec=${intervalMinutes}min
RandomizedDelaySec=30

[Install]
WantedBy=timers.target
`;
}

/** What the lsyncd step installs for the auditor: files, their paths, timers to enable. */
export interface AuditInstall {
  readonly files: FileSpec[];
  readonly paths: string[];
  readonly timers: string[];
}

/** Only the exchange audits (it alone reaches every node); a node gets nothing. */
export function auditInstall(
  spec: {
    readonly syncDir: string;
    readonly audit: AuditSpec;
    readonly lsyncd: { readonly excludes: readonly string[] };
    readonly versions: { readonly keepDays: number };
  },
  host: { readonly name: string; readonly role: "exchange" | "node"; readonly targets: readonly string[] },
): AuditInstall {
  if (host.role !== "exchange") return { files: [], paths: [], timers: [] };
  const files: FileSpec[] = [
    {
      path: AUDIT_COMMAND,
      content: renderAuditScript({
        syncDir: spec.syncDir,
        host: host.name,
        nodes: host.targets,
        excludes: spec.lsyncd.excludes,
        graceSeconds: spec.audit.graceSeconds,
        versionsDir: spec.versions.keepDays > 0 ? `${spec.syncDir.replace(/\/+$/, "")}/${VERSIONS_DIR_NAME}` : "",
      }),
      mode: "0755",
    },
    { path: AUDIT_SERVICE, content: renderAuditService(spec.audit.checksumHours), mode: "0644" },
    { path: AUDIT_TIMER, content: renderAuditTimer(spec.audit.intervalMinutes), mode: "0644" },
  ];
  return {
    files,
    paths: [...files.map((f) => f.path), AUDIT_STATE, AUDIT_CHECKSUM_STAMP, AUDIT_CONTENT_STATE, AUDIT_LOCK],
    timers: [AUDIT_TIMER_UNIT],
  };
}

export { AUDIT_SERVICE_UNIT };
