// Issue 13, "nothing lost", on the exchange: the operator's tools over the versions the
// lsyncd intake keeps (lsyncdIntake.ts 6.) and the deletes its fuse holds (7.), and the
// timer that prunes old versions. They ride in the lsyncd step like the auditor.
//
// `lsyncd-cluster-restore` lists versions (by path or glob, time, origin, kind) and puts
// one back by moving a copy in through a staging dir inside the temp root: lsyncd sees
// the rename out of it as an arrival and relays it to every node at once, the normal path.
// `lsyncd-cluster-deletes` shows a tripped fuse and lets the operator decide: `release`
// (the held deletes reach the nodes) or `undo` (what the origin deleted comes back from
// the versions, on the exchange and so everywhere).
import { sh } from "./quote";
import { FileSpec } from "./scripts/bash";
import { DeleteFuseSpec, VersionsSpec } from "./spec";
import {
  DELETES_COMMAND,
  FUSE_DIR,
  FUSE_RULES,
  PRUNE_SERVICE,
  PRUNE_SERVICE_UNIT,
  PRUNE_TIMER,
  PRUNE_TIMER_UNIT,
  RESTORE_COMMAND,
  RSYNC_BINARY,
  RSYNC_MODULE,
  SSH_BINARY,
  SSH_CONFIG,
  STATE_DIR,
  SYNC_USER,
  peerAlias,
  pusherReplacedDir,
  pusherTempDir,
  syncTempRoot,
  versionsRoot,
} from "./hostLayout";
import { scriptFile } from "./scripts/scriptFile";

/** What the prune timer last measured: "<versions KiB> <disk KiB>", read by the health check. */
export const VERSIONS_USAGE = `${STATE_DIR}/versions.usage`;
/** The restore tool's staging dir inside the temp root (root's, so no push can plant anything there). */
export const RESTORE_STAGING_NAME = ".restore";

/** The one grammar of a version's file name, for every tool that reads them. */
export const VERSION_NAME_RE = "^[0-9]{8}T[0-9]{6}Z~[a-z0-9-]+~(overwritten|deleted|conflict)(~[0-9]+)?$";

function whole(name: string, value: number, min: number): string {
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}, got ${value}`);
  return String(value);
}

export function renderRestoreScript(spec: { readonly syncDir: string; readonly keepDays: number }): string {
  return `#!/bin/bash
# Managed by lsyncd-cluster. Lists, restores and prunes the versions the exchange keeps of
# every file a push overwrote or deleted (issue 13). Exit 0: done; 1: nothing matched or a
# restore failed; 64: usage.
set -euo pipefail
shopt -s extglob
sync_dir=${sh(spec.syncDir)}
versions=${sh(versionsRoot(spec.syncDir))}
staging=${sh(`${syncTempRoot(spec.syncDir)}/${RESTORE_STAGING_NAME}`)}
sync_user=${sh(SYNC_USER)}
usage_file=${sh(VERSIONS_USAGE)}
keep_days=${whole("keepDays", spec.keepDays, 0)}
name_re=${sh(VERSION_NAME_RE)}
${scriptFile("restore.sh")}`;
}

export function renderDeletesScript(spec: { readonly syncDir: string; readonly host: string; readonly nodes: readonly string[] }): string {
  const targets = spec.nodes.map((n) => `[${sh(n)}]=${sh(`${peerAlias(n)}::${RSYNC_MODULE}/`)}`);
  return `#!/bin/bash
# Managed by lsyncd-cluster. The exchange's mass-delete fuse: shows which origin's deletes
# are held, and lets the operator release them to the nodes or undo them everywhere.
# Exit 0: done (status: nothing held); 1: something held (status) or failed; 64: usage.
set -euo pipefail
sync_dir=${sh(spec.syncDir)}
fuse_dir=${sh(FUSE_DIR)}
rules=${sh(FUSE_RULES)}
restore=${sh(RESTORE_COMMAND)}
rsync=${sh(RSYNC_BINARY)}
rsh=${sh(`${SSH_BINARY} -F ${SSH_CONFIG}`)}
declare -A target=(${targets.join(" ")})

usage() { echo "usage: lsyncd-cluster-deletes [status] | release ORIGIN | undo ORIGIN" >&2; exit 64; }
held_files() { tr '\\0' '\\n' < "$1" | grep -vc '/$' || true; }

# The protect rules again from the lists still held (the one being decided is gone).
rebuild_rules() {
  local list
  : > "$rules.tmp"
  for list in "$fuse_dir"/*.held; do
    [[ -f $list ]] || continue
    while IFS= read -r -d '' p; do
      [[ $p == *$'\\n'* ]] && continue
      if [[ $p == *[*?[]* ]]; then p=$(printf '%s' "$p" | sed 's/[][*?\\\\]/\\\\&/g'); fi
      printf 'P %s\\n' "$p"
    done < "$list" >> "$rules.tmp"
  done
  mv -f -- "$rules.tmp" "$rules"
}

forget() { # ORIGIN: the fuse is reset (lsyncd sees the list gone at the next delete)
  rm -f -- "$fuse_dir/$1.held" "$fuse_dir/$1.since"
  rebuild_rules
}

command=\${1:-status}
origin=\${2:-}
case $command in
  status)
    found=0
    for list in "$fuse_dir"/*.held; do
      [[ -f $list ]] || continue
      found=1
      name=\${list##*/}
      echo "\${name%.held}: $(held_files "$list") delete(s) held since $(date -u -d "@$(cat "\${list%.held}.since" 2>/dev/null || stat -c %Y "$list")" +%FT%TZ)"
    done
    ((found)) || { echo "no deletes held"; exit 0; }
    exit 1
    ;;
  release|undo)
    [[ $origin =~ ^[a-z0-9-]+$ ]] || usage
    list="$fuse_dir/$origin.held"
    [[ -f $list ]] || { echo "lsyncd-cluster-deletes: no deletes held for $origin" >&2; exit 1; }
    ;;
  *) usage ;;
esac

if [[ $command == undo ]]; then
  # Every held delete that is not undone meanwhile, as it was: the newest version that
  # origin's delete left. They reach every node (and the origin) the normal way; the
  # nodes that still hold a file get nothing new (same size and mtime).
  "$restore" restore --origin "$origin" --kind deleted --missing --paths-from "$list" || true
  # A held name with neither a live file nor a version was deleted without a kept copy
  # (a push that asked for no backup, as a stolen key can; or a local delete here). The
  # nodes still hold it: any node's lsyncd startup sync sends what the exchange lacks.
  lost=0
  while IFS= read -r -d '' p; do
    [[ $p == */ || -e $sync_dir/\${p#/} ]] || lost=$((lost + 1))
  done < "$list"
  forget "$origin"
  echo "undone: the deletes from $origin are restored from the versions and released"
  if ((lost)); then
    echo "$lost held file(s) have no version here; the other nodes still hold them: run systemctl restart lsyncd on one of them (its startup sync sends them back)"
  fi
  exit 0
fi

# release: every held name the exchange no longer holds is deleted on every node, the way
# the relay would have (each node keeps it in its push's .replaced/ until its intake sees it).
tmp=$(mktemp)
trap 'rm -f -- "$tmp"' EXIT
while IFS= read -r -d '' p; do
  p=\${p#/}
  [[ -e $sync_dir/$p ]] || printf '%s\\0' "$p"
done < "$list" > "$tmp"
for node in "\${!target[@]}"; do
  "$rsync" -t --omit-dir-times --from0 --files-from="$tmp" --delete-missing-args --ignore-errors --force \\
    --temp-dir=${sh(pusherTempDir(spec.host))} --backup --backup-dir=${sh(pusherReplacedDir(spec.host))} \\
    -e "$rsh" -- "$sync_dir/" "\${target[$node]}" || echo "lsyncd-cluster-deletes: $node did not take every delete (rsync $?)" >&2
done
forget "$origin"
echo "released: $(tr -cd '\\0' < "$tmp" | wc -c) delete(s) from $origin relayed to \${#target[@]} node(s)"
`;
}

export function renderPruneService(): string {
  return `# Managed by lsyncd-cluster; local edits are overwritten.
[Unit]
Description=lsyncd-cluster: remove versions past their retention, measure what the rest take

[Service]
Type=oneshot
ExecStart=${RESTORE_COMMAND} prune
Nice=19
IOSchedulingClass=idle
`;
}

export function renderPruneTimer(): string {
  return `# Managed by lsyncd-cluster; local edits are overwritten.
[Unit]
Description=lsyncd-cluster: prune the exchange's versions hourly

[Timer]
OnBootSec=10min
OnUnitActiveSec=1h
RandomizedDelaySec=5min

[Install]
WantedBy=timers.target
`;
}

/** What the lsyncd step installs for versions and the fuse: files, their paths, timers, root-only dirs. */
export interface VersionsInstall {
  readonly files: FileSpec[];
  readonly paths: string[];
  readonly timers: string[];
  /** Root-only (0700) dirs the step makes: the versions area and the fuse's state. */
  readonly dirs: string[];
  /** Of those, what delete removes: the fuse's state (the versions are data and stay). */
  readonly stateDirs: string[];
}

/** Only the exchange keeps versions and holds deletes; a node gets nothing. */
export function versionsInstall(
  spec: { readonly syncDir: string; readonly versions: VersionsSpec; readonly deleteFuse: DeleteFuseSpec },
  host: { readonly name: string; readonly role: "exchange" | "node"; readonly targets: readonly string[] },
): VersionsInstall {
  if (host.role !== "exchange") return { files: [], paths: [], timers: [], dirs: [], stateDirs: [] };
  const files: FileSpec[] = [
    { path: RESTORE_COMMAND, content: renderRestoreScript({ syncDir: spec.syncDir, keepDays: spec.versions.keepDays }), mode: "0755" },
    { path: DELETES_COMMAND, content: renderDeletesScript({ syncDir: spec.syncDir, host: host.name, nodes: host.targets }), mode: "0755" },
    { path: PRUNE_SERVICE, content: renderPruneService(), mode: "0644" },
    { path: PRUNE_TIMER, content: renderPruneTimer(), mode: "0644" },
  ];
  // The versions are data, like the images: destroy leaves them; the fuse's state goes.
  return {
    files,
    paths: [...files.map((f) => f.path), VERSIONS_USAGE],
    timers: [PRUNE_TIMER_UNIT],
    dirs: [versionsRoot(spec.syncDir), FUSE_DIR],
    stateDirs: [FUSE_DIR],
  };
}

export { PRUNE_SERVICE_UNIT };
