// Files installed with lsyncd on every host: `lsyncd-cluster-health` for monitoring, and
// logrotate for lsyncd's log and the push record. Both ride in the lsyncd step, so they change with it.
import { sh } from "../quote";
import { FileSpec } from "../scripts/bash";
import { CommonSpec } from "../spec";
import { VERSIONS_USAGE } from "../versionsFiles";
import {
  AUDIT_COMMAND,
  AUDIT_STATE,
  DELETES_COMMAND,
  FUSE_DIR,
  HEALTH_CHECK,
  LOGROTATE_FILE,
  LSYNCD_HEARTBEAT,
  LSYNCD_LOG,
  LSYNCD_STATUS,
  RSYNCD_PUSH_LOG,
  SYNC_USER,
} from "../hostLayout";

/**
 * The health check: exit 0 only when lsyncd is running, its heartbeat is younger than
 * 3 × statusInterval and its log shows no failure since the last successful transfer.
 * Prints one line (OK/WARNING/CRITICAL: why) for a monitoring system; exit 1 = warning,
 * 2 = critical, as Nagios. WARNING: the exchange's auditor found nodes that still differ
 * from it after its grace period (lsyncd runs, but "OK" must mean "identical").
 */
export function renderHealthCheck(statusInterval: number, warnVersionsPercent = 20): string {
  if (!Number.isInteger(statusInterval) || statusInterval < 1) {
    throw new Error(`statusInterval must be a positive integer, got ${statusInterval}`);
  }
  if (!Number.isInteger(warnVersionsPercent) || warnVersionsPercent < 1 || warnVersionsPercent > 100) {
    throw new Error(`warnVersionsPercent must be a whole number from 1 to 100, got ${warnVersionsPercent}`);
  }
  return `#!/bin/bash
# Managed by lsyncd-cluster. Health of this host's lsyncd, in one line.
set -euo pipefail
log=${sh(LSYNCD_LOG)}
status=${sh(LSYNCD_STATUS)}
heartbeat=${sh(LSYNCD_HEARTBEAT)}
audit_state=${sh(AUDIT_STATE)}
fuse_dir=${sh(FUSE_DIR)}
versions_usage=${sh(VERSIONS_USAGE)}
versions_warn=${warnVersionsPercent}
max_age=${3 * statusInterval}

crit() { echo "CRITICAL: $*"; exit 2; }

systemctl is-active --quiet lsyncd || crit "lsyncd is not running"
[ -f "$heartbeat" ] || crit "lsyncd has not written $heartbeat yet"
age=$(( $(date +%s) - $(stat -c %Y "$heartbeat") ))
[ "$age" -le "$max_age" ] || crit "lsyncd heartbeat is \${age}s old (limit \${max_age}s): its main loop is stuck"
[ -f "$log" ] || crit "no lsyncd log at $log"

# Outcome lines of lsyncd 2.2.3: success is "Startup of ... finished." or
# "Finished a list after exitcode: 0"; anything else with an exit code, "Retrying"
# or "Error" is a failure. Only the failures after the last success count.
# awk, not grep: with pipefail a grep that finds nothing would end the script.
last_ok=$(awk '/Startup of .* finished|Finished .* after exitcode: 0$/ { n = NR } END { print n + 0 }' "$log")
failure=$(awk -v from="$last_ok" 'NR > from && /Error|Retrying|exitcode: [1-9]|exitcode = [1-9]|Failure/ { line = $0 }
  END { print substr(line, 1, 200) }' "$log")
if [ -n "$failure" ]; then
  crit "sync failing since last success: $failure"
fi
if [ "$last_ok" -eq 0 ]; then
  crit "no successful sync logged yet"
fi
pending=0
if [ -f "$status" ]; then
  pending=$(awk '/^There are [0-9]+ delays/ { n += $3 } END { print n + 0 }' "$status")
fi
# The exchange's mass-delete fuse (issue 13): one list of held deletes per tripped origin.
# Held deletes wait for the operator: CRITICAL until ${DELETES_COMMAND} release or undo.
held=""
for list in "$fuse_dir"/*.held; do
  [ -f "$list" ] || continue
  origin=$(basename "$list" .held)
  files=$(tr '\0' '\n' < "$list" | grep -vc '/$' || true)
  held="\${held:+$held; }$origin deleted $files file(s)"
done
if [ -n "$held" ]; then
  crit "mass delete held by the fuse, not relayed to the other nodes: $held; decide: lsyncd-cluster-deletes release ORIGIN (delete them everywhere) or undo ORIGIN (restore them)"
fi
# Written by ${AUDIT_COMMAND} on the exchange: first line the time, then one line per
# difference that persisted over its grace period. Empty or absent: none.
if [ -s "$audit_state" ]; then
  since=$(head -n 1 "$audit_state")
  count=$(( $(wc -l < "$audit_state") - 1 ))
  first=$(sed -n '2p' "$audit_state" | cut -c 1-150)
  echo "WARNING: lsyncd running, but the audit at $(date -u -d "@$since" +%H:%M:%SZ) found $count difference(s) with the nodes (first: $first); run lsyncd-cluster-audit --repair"
  exit 1
fi
# What the exchange's versions take of its disk, as the prune timer last measured it.
if [ -s "$versions_usage" ]; then
  read -r used size < "$versions_usage" || true
  if [ "\${size:-0}" -gt 0 ] && [ $(( used * 100 / size )) -ge "$versions_warn" ]; then
    echo "WARNING: lsyncd running, but versions take $(( used * 100 / size ))% of the disk (limit \${versions_warn}%): lower versions.keepDays or run lsyncd-cluster-restore prune --keep-days N"
    exit 1
  fi
fi
echo "OK: lsyncd running, heartbeat \${age}s old, last sync succeeded, \${pending} event(s) queued"
`;
}

/**
 * logrotate for lsyncd's log. No postrotate signal on purpose: SIGHUP makes lsyncd run a
 * full startup rsync, and lsyncd reopens its log file for every message anyway.
 */
export function renderLogrotate(): string {
  return `# Managed by lsyncd-cluster; local edits are overwritten.
${rotated(LSYNCD_LOG, "0640 root adm")}
# One line per file pushed into this host (rsyncd transfer logging, see rsyncdConf.ts): the
# sync user's daemon appends but cannot read it. rsync opens it anew for every push.
${rotated(RSYNCD_PUSH_LOG, `0620 root ${SYNC_USER}`)}
`;
}

/** One log's stanza: the same rotation for both, each created anew with its own mode and owners. */
function rotated(log: string, create: string): string {
  return `${log} {
    weekly
    rotate 8
    maxsize 100M
    missingok
    notifempty
    compress
    delaycompress
    create ${create}
    su root root
}`;
}

export function healthFiles(spec: CommonSpec): FileSpec[] {
  return [
    { path: HEALTH_CHECK, content: renderHealthCheck(spec.lsyncd.statusInterval, spec.versions.warnDiskPercent), mode: "0755" },
    { path: LOGROTATE_FILE, content: renderLogrotate(), mode: "0644" },
  ];
}

export function healthPaths(): string[] {
  return [HEALTH_CHECK, LOGROTATE_FILE];
}
