// lsyncd.conf.lua for one host: one sync{} per target it pushes to. Every value is a
// Lua literal made by lua()/luaList(); numbers are validated integers.
import { lua, luaList } from "../quote";
import { DeleteFuseSpec, LsyncdSpec, VersionsSpec } from "../spec";
import { renderAction } from "./lsyncdAction";
import { renderIntake } from "./lsyncdIntake";
import {
  alwaysExcluded,
  FUSE_DIR,
  FUSE_RULES,
  pusherReplacedDir,
  pusherTempDir,
  pusherTempPath,
  targetOf,
  TEMP_DIR_PATTERN,
  LSYNCD_HEARTBEAT,
  LSYNCD_LOG,
  LSYNCD_STATUS,
  SSH_BINARY,
  SSH_CONFIG,
  VERSIONS_DIR_NAME,
} from "../hostLayout";

export interface LsyncdConfSpec {
  /** This host's name: it pushes into its own temp dir on every target. */
  readonly host: string;
  readonly syncDir: string;
  readonly lsyncd: LsyncdSpec;
  /**
   * Whether files that arrive from a peer are pushed on: yes on the exchange (that is the
   * relay), no on a node, whose only peer is the exchange they came from. A node pushing
   * them back is a pure echo, and a late echo re-creates on the exchange a file another
   * node deleted meanwhile (seen in the e2e suite: a delete that never converged).
   */
  readonly relayArrivals: boolean;
  /** Names of the hosts this one pushes to (the exchange for a node; every node for the exchange). */
  readonly targets: readonly string[];
  /**
   * Issue 13, on the exchange only: keep what pushes replace as versions (keepDays > 0) and
   * hold one origin's mass delete (files > 0). Absent on a node.
   */
  readonly nothingLost?: { readonly versions: VersionsSpec; readonly deleteFuse: DeleteFuseSpec };
}

/** Seconds a new file without close-write must keep its size before it is pushed. */
export const SETTLE_SECONDS = 1;

/** Defence in depth: config validated every number (configSchema.ts); Lua gets digits only. */
function int(name: string, value: number): string {
  if (!Number.isInteger(value)) {
    throw new Error(`${name} must be an integer, got ${value}`);
  }
  return String(value);
}

export function renderLsyncdConf(spec: LsyncdConfSpec): string {
  const excludes = [...alwaysExcluded(), ...spec.lsyncd.excludes];
  const source = spec.syncDir.endsWith("/") ? spec.syncDir : `${spec.syncDir}/`;
  const head = [
    "-- Managed by lsyncd-cluster; local edits are overwritten.",
    "settings {",
    `  logfile = ${lua(LSYNCD_LOG)},`,
    `  statusFile = ${lua(LSYNCD_STATUS)},`,
    `  statusInterval = ${int("statusInterval", spec.lsyncd.statusInterval)},`,
    // A target that is down at startup is retried instead of killing lsyncd.
    "  insist = true,",
    "}",
  ];
  const syncs = spec.targets.map((target) =>
    [
      "",
      "sync {",
      "  default.rsync,",
      // Plain file batches as a file list; everything else as default.rsync does it.
      "  action = lscAction,",
      // The startup sync with --update: it never puts an older copy over a newer one.
      "  init = lscInit,",
      `  source = ${lua(source)},`,
      // The alias resolves via ssh_config; "::" makes rsync talk to the peer's forced
      // rsync daemon (see rsyncdConf.ts) through that ssh.
      `  target = ${lua(targetOf(target))},`,
      `  delay = ${int("delay", spec.lsyncd.delay)},`,
      `  maxProcesses = ${int("maxProcesses", spec.lsyncd.maxProcesses)},`,
      // Never delete at startup: an empty or stale host must not erase everyone's files.
      `  delete = ${lua("running")},`,
      `  exclude = ${luaList(excludes)},`,
      "  rsync = {",
      // Nanosecond mtimes in the quick check: two versions written in the same second with
      // the same size are not "the same file". What is replaced is kept for the receiver
      // to judge (newest mtime wins; see lsyncdIntake.ts, 5.).
      // --omit-dir-times: setting a directory's mtime is an attrib event on the receiver,
      // which its lsyncd sends on as a change of its own, and so back and forth: one image
      // written into a subdirectory cost 11 rsync runs across 4 hosts instead of 3, a
      // 2,000-file burst into a new directory 51–73 instead of 27 (issue 14, measured).
      // A directory's mtime says when its entries last changed on that host; nothing
      // serves it, and the audit compares files only.
      `    _extra = ${luaList([
        `--exclude=${TEMP_DIR_PATTERN}`,
        "--omit-dir-times",
        "--modify-window=-1",
        "--backup",
        `--backup-dir=${pusherReplacedDir(spec.host)}`,
      ])},`,
      `    rsh = ${lua(`${SSH_BINARY} -F ${SSH_CONFIG}`)},`,
      // Relative to the receiving module: same filesystem, so the final rename is atomic
      // and nginx never serves a half-written image.
      `    temp_dir = ${lua(pusherTempDir(spec.host))},`,
      // Arguments travel inside the rsync protocol anyway (daemon mode); the receiver is
      // unprivileged, so ownership cannot be kept.
      "    protect_args = false,",
      "    owner = false,",
      "    group = false,",
      "    perms = true,",
      "    times = true,",
      // Links are not synced: the receiving daemon refuses them (rsyncdConf.ts says why),
      // and without -l rsync skips a link with a note instead of failing the batch.
      "    links = false,",
      // No --update: it compares whole seconds, and with --modify-window=-1 it lets an
      // older file replace a newer one of the same second (rsync 3.5.0, measured). The
      // receiver's intake orders versions instead; an echo of the same version is still a
      // no-op (same size and mtime to the nanosecond).
      // Images are already compressed and the hosts share a LAN.
      "    whole_file = true,",
      "    compress = false,",
      "  },",
      "}",
    ].join("\n"),
  );
  // lsyncd 2.2.3 rewrites its status file only when something happens (measured: an idle
  // daemon's file just ages), so the health check could not tell idle from stuck. The
  // main loop itself writes this heartbeat; a hung loop stops it.
  const heartbeat = [
    "",
    "local function lscHeartbeat()",
    `  local f = io.open(${lua(LSYNCD_HEARTBEAT)}, "w")`,
    '  if f then f:write(os.time(), "\\n") f:close() end',
    `  alarm(now() + ${int("statusInterval", spec.lsyncd.statusInterval)}, lscHeartbeat)`,
    "end",
    // The first one on the first loop (after the watches are set): a restart is ready as
    // soon as its startup sync is, not a second later (issue 14, measured on 10k files).
    "alarm(now(), lscHeartbeat)",
  ];
  const versions = spec.nothingLost && spec.nothingLost.versions.keepDays > 0 ? `${source}${VERSIONS_DIR_NAME}/` : undefined;
  const fuse =
    spec.nothingLost && spec.nothingLost.deleteFuse.files > 0
      ? { files: spec.nothingLost.deleteFuse.files, seconds: spec.nothingLost.deleteFuse.seconds, dir: `${FUSE_DIR}/`, rules: FUSE_RULES }
      : undefined;
  const intake = renderIntake({
    versionsDir: versions,
    fuse,
    relayArrivals: spec.relayArrivals,
    tempDir: TEMP_DIR_PATTERN,
    originDirOf: spec.targets.map((t) => ({ target: targetOf(t), dir: pusherTempPath(t) })),
    settleSeconds: SETTLE_SECONDS,
    quietSeconds: spec.lsyncd.quietPeriod,
  });
  return `${head.join("\n")}\n${renderAction(fuse?.rules)}${syncs.join("\n")}\n${heartbeat.join("\n")}\n${intake}`;
}
