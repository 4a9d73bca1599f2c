// lsyncd.conf.lua for one host: one sync{} per target it pushes to. Every value is a
// Lua literal made by lua()/luaList(); numbers are validated integers.
import { LSYNCD_HEARTBEAT, LSYNCD_LOG, LSYNCD_STATUS, SSH_BINARY, SSH_CONFIG, peerAlias } from "../paths";
import { lua, luaList } from "../quote";
import { LsyncdSpec, SYNC_TEMP_DIR_NAME } from "../spec";

export interface LsyncdConfSpec {
  readonly syncDir: string;
  readonly lsyncd: LsyncdSpec;
  /** Names of the hosts this one pushes to (the exchange for a node; every node for the exchange). */
  readonly targets: readonly string[];
}

/**
 * Patterns never synced: rsync's temp dir on the receiver (half-written files live there)
 * and ext4's lost+found, which each host has of its own, owned by root.
 */
export function alwaysExcluded(): string[] {
  return [`/${SYNC_TEMP_DIR_NAME}/`, "/lost+found/"];
}

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
      `  source = ${lua(source)},`,
      // rrsync on the target maps "/" to its sync dir; the alias resolves via ssh_config.
      `  target = ${lua(`${peerAlias(target)}:/`)},`,
      `  delay = ${int("delay", spec.lsyncd.delay)},`,
      `  maxProcesses = ${int("maxProcesses", spec.lsyncd.maxProcesses)},`,
      // Never delete at startup: an empty or stale host must not erase everyone's files.
      `  delete = ${lua("running")},`,
      `  exclude = ${luaList(excludes)},`,
      "  rsync = {",
      `    rsh = ${lua(`${SSH_BINARY} -F ${SSH_CONFIG}`)},`,
      // Relative to the receiver's restricted root: same filesystem, so the final rename
      // is atomic and nginx never serves a half-written image.
      `    temp_dir = ${lua(`/${SYNC_TEMP_DIR_NAME}/`)},`,
      // rrsync refuses -s; the receiver is unprivileged, so ownership cannot be kept.
      "    protect_args = false,",
      "    owner = false,",
      "    group = false,",
      "    perms = true,",
      "    times = true,",
      "    links = true,",
      // --update plus preserved mtimes is what stops a pushed file echoing back.
      "    update = true,",
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
    "  if f then f:write(os.time(), \"\\n\") f:close() end",
    `  alarm(now() + ${int("statusInterval", spec.lsyncd.statusInterval)}, lscHeartbeat)`,
    "end",
    "alarm(now() + 1, lscHeartbeat)",
  ];
  return `${head.join("\n")}\n${syncs.join("\n")}\n${heartbeat.join("\n")}\n`;
}
