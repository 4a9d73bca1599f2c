// seed: one push of the exchange's whole sync dir to a node that is new or was rebuilt,
// before that node's lsyncd starts. lsyncd never deletes at startup (delete = "running"),
// so without this an empty node would only get files written after it joined.
import { sh } from "../quote";
import { script } from "./bash";
import type { StepRun } from "../remote/provider";
import { SSH_BINARY, SSH_CONFIG, STATE_DIR, TEMP_DIR_PATTERN, alwaysExcluded, pusherTempDir, targetOf } from "../hostLayout";

/** Held by a seed of `node` while it runs, on the exchange. */
export function seedLock(node: string): string {
  return `${STATE_DIR}/seed-${node}.lock`;
}

/** The step's first run, as the provider names it to the script ($1). */
const FIRST_RUN: StepRun = "create";

/**
 * Take `lock` on fd 9 for the rest of the script, saying so when another holder makes it
 * wait: a seed cut off from its ssh still runs until its timeout (provider.ts).
 */
function holdLock(lock: string, waitingFor: string): string[] {
  return [
    `exec 9>>${sh(lock)}`,
    `if ! flock -n 9; then echo ${sh(`waiting for ${waitingFor}, still running on this host`)} >&2; flock 9; fi`,
  ];
}

export function seedCreate(syncDir: string, exchange: string, node: string, excludes: readonly string[], lock = seedLock(node)): string {
  const args = [
    "--recursive",
    // No --links: the node's daemon refuses links (rsyncdConf.ts); rsync skips them.
    "--perms",
    "--times",
    // As the mesh's pushes (lsyncdConf.ts): a directory time set on a live node is an
    // attribute change its lsyncd would push back; nothing serves or audits those times.
    "--omit-dir-times",
    "--update",
    "--whole-file",
    ...[TEMP_DIR_PATTERN, ...alwaysExcluded(), ...excludes].map((e) => `--exclude=${e}`),
    `--rsh=${SSH_BINARY} -F ${SSH_CONFIG}`,
    `${syncDir}/`,
    targetOf(node),
  ];
  return script([
    // One seed of a node at a time: a run whose ssh connection was cut goes on here until
    // its timeout (provider.ts), and the next run waits for it rather than copy beside it.
    // rsync inherits the lock's descriptor and ends with the seed; ssh closes every
    // inherited descriptor first thing (close_range(3, ...)), so the ControlMaster it may
    // leave running (ControlPersist) never holds the lock.
    ...holdLock(lock, `an earlier seed of ${node}`),
    // Any later run (a node whose disk was replaced, an upgrade) may find the node's lsyncd
    // running: the copies then go through the exchange's own temp dir on the node, as its
    // lsyncd's pushes do (the node's trust made it), so the node's intake takes them as
    // arrivals and does not push the tree back. On the step's first run (the provider
    // passes "create") the node is new: its lsyncd starts only after this seed (meshPlan.ts),
    // nothing there reads the temp dir, and rsync writes beside each file as a direct copy
    // does. That is the fast path a new node needs: rsync 3.5 walks the temp dir's path
    // again for every operation on every file, 1.4-1.5x a direct copy of 10k-100k files
    // (issue 14; docs/performance.md, "Tree size, run by run"). A first run into a live
    // node (a forced --replace, a lost state, a node renamed on its server) copies the fast
    // way too: what it copies is then pushed back once, a no-op where the exchange already
    // has it (docs/architecture.md).
    `temp_dir=(${sh(`--temp-dir=${pusherTempDir(exchange)}`)})`,
    `how=${sh("through the exchange's temp dir (a later run)")}`,
    `if [ "\${1:-}" = ${sh(FIRST_RUN)} ]; then`,
    "  temp_dir=()",
    `  how=${sh("straight into place (the step's first run: a new node)")}`,
    "fi",
    // Either way a half-copied file lives under a dot name (the temp dir, or rsync's
    // `.name.XXXXXX` beside it) until it is renamed into place, and nginx never serves a dot
    // name (nginxSite.ts). rsync removes its half-copied file when the copy is cut off; only
    // a node that crashes during its first seed keeps one, and that hidden file then
    // spreads like any other (README, "Recovering from mistakes").
    // 24 = files vanished while being read: the next lsyncd event covers them.
    `rc=0; rsync "\${temp_dir[@]}" ${args.map(sh).join(" ")} || rc=$?`,
    'if [ "$rc" -ne 0 ] && [ "$rc" -ne 24 ]; then echo "seeding failed: rsync exit $rc" >&2; exit "$rc"; fi',
    `echo ${sh(`seeded ${node} `)}"$how"`,
  ]);
}

/** Nothing of the node's to undo: its copies are the cluster's data, never deleted by a destroy. */
export function seedDelete(node: string): string {
  // The lock goes only once no seed of the node holds it (one cut off may still run, at
  // most until its own timeout; this delete's timeout bounds the wait too).
  return script([
    `if [ -d ${sh(STATE_DIR)} ]; then`,
    ...holdLock(seedLock(node), `a seed of ${node}`).map((line) => `  ${line}`),
    `  lsc_remove ${sh(seedLock(node))}`,
    "fi",
    `echo ${sh(`seed of ${node}: files stay in place`)}`,
  ]);
}
