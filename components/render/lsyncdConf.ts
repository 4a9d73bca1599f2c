// lsyncd.conf.lua for one host: one sync{} per target it pushes to. Every value is a
// Lua literal made by lua()/luaList(); numbers are validated integers.
import {
  FUSE_DIR,
  FUSE_RULES,
  LSYNCD_HEARTBEAT,
  LSYNCD_LOG,
  LSYNCD_STATUS,
  RSYNC_MODULE,
  SSH_BINARY,
  SSH_CONFIG,
  peerAlias,
} from "../paths";
import { lua, luaList } from "../quote";
import { DeleteFuseSpec, LsyncdSpec, SYNC_TEMP_DIR_NAME, VERSIONS_DIR_NAME, VersionsSpec } from "../spec";
import { renderAction } from "./lsyncdAction";
import { REPLACED_DIR_NAME, renderIntake } from "./lsyncdIntake";

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

/** rsync's temp dir on the receiver, relative to the sync dir: half-written files live there. */
export const TEMP_DIR_PATTERN = `/${SYNC_TEMP_DIR_NAME}/`;

/**
 * Where `pusher` writes half-done files on any host it pushes to, as rsync's --temp-dir
 * (relative to the receiving module, i.e. the sync dir). One dir per pusher, so the rename
 * that completes a file says where it came from.
 */
export function pusherTempDir(pusher: string): string {
  return `${SYNC_TEMP_DIR_NAME}/${pusher}/`;
}

/**
 * Where a push by `pusher` keeps every version it replaces or deletes (rsync --backup-dir,
 * relative to the receiving module): the receiver's intake compares it with what arrived
 * and keeps the winner (see lsyncdIntake.ts, 5.). Inside the pusher's own temp dir, so the
 * trust step's cleanup and destroy treat it like the rest of that dir.
 */
export function pusherReplacedDir(pusher: string): string {
  return `${pusherTempDir(pusher)}${REPLACED_DIR_NAME}/`;
}

/** The same dir as lsyncd names paths inside the sync dir (leading "/"). */
function pusherTempPath(pusher: string): string {
  return `/${pusherTempDir(pusher)}`;
}

/** Seconds a new file without close-write must keep its size before it is pushed. */
export const SETTLE_SECONDS = 1;

/**
 * Patterns lsyncd never watches or syncs: ext4's lost+found, which each host has of its
 * own, owned by root, and the exchange's versions area (issue 13), which no node receives. The temp dir is not among them on purpose: lsyncd must watch it so
 * that rsync's rename of a finished file into place arrives as a move (pushed at once),
 * not as a file appearing from nowhere (held until it settles). The intake drops
 * every other event inside it, and rsync is told to exclude it.
 */
export function alwaysExcluded(): string[] {
  return ["/lost+found/", `/${VERSIONS_DIR_NAME}/`];
}

/** Defence in depth: config validated every number (configSchema.ts); Lua gets digits only. */
function int(name: string, value: number): string {
  if (!Number.isInteger(value)) {
    throw new Error(`${name} must be an integer, got ${value}`);
  }
  return String(value);
}

/** The sync{} target for a peer: its rsync module over ssh ("::" + rsh). */
export function targetOf(peer: string): string {
  return `${peerAlias(peer)}::${RSYNC_MODULE}/`;
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
      `    _extra = ${luaList([
        `--exclude=${TEMP_DIR_PATTERN}`,
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
