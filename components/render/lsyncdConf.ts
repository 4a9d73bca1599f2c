// lsyncd.conf.lua for one host: one sync{} per target it pushes to. Every value is a
// Lua literal made by lua()/luaList(); numbers are validated integers.
import { LSYNCD_HEARTBEAT, LSYNCD_LOG, LSYNCD_STATUS, SSH_BINARY, SSH_CONFIG, peerAlias } from "../paths";
import { lua, luaList } from "../quote";
import { LsyncdSpec, SYNC_TEMP_DIR_NAME } from "../spec";

export interface LsyncdConfSpec {
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
}

/** rsync's temp dir on the receiver, relative to the sync dir: half-written files live there. */
export const TEMP_DIR_PATTERN = `/${SYNC_TEMP_DIR_NAME}/`;

/**
 * Patterns lsyncd never watches or syncs: ext4's lost+found, which each host has of its
 * own, owned by root. The temp dir is not among them on purpose: lsyncd must watch it so
 * that rsync's rename of a finished file into place arrives as a move (pushed at once),
 * not as a file appearing from nowhere (held until it settles). completeFilesOnly() drops
 * every other event inside it, and rsync is told to exclude it.
 */
export function alwaysExcluded(): string[] {
  return ["/lost+found/"];
}

function int(name: string, value: number): string {
  if (!Number.isInteger(value)) {
    throw new Error(`${name} must be an integer, got ${value}`);
  }
  return String(value);
}

/**
 * lsyncd always acts on IN_CREATE: with a low delay a file still being written is pushed
 * half-done, and its peers serve it truncated until the full version follows (measured).
 * This wraps each sync's event intake (lsyncd 2.2.x keeps it in the `Syncs` upvalue of
 * `sync`): a new file is held until its close-write arrives (then pushed at once), or,
 * when none comes (a hard link, symlink or move-in), until its size has stopped changing
 * for SETTLE seconds. Events inside rsync's temp dir are dropped, except the rename of a
 * finished file out of it, which is pushed at once as that file. Directories and every
 * other event pass straight through. On an lsyncd without that internal the config fails
 * to load, so the lsyncd step fails loudly.
 */
function completeFilesOnly(relayArrivals: boolean): string {
  return `
do
  local SETTLE = 1
  local RELAY_ARRIVALS = ${relayArrivals ? "true" : "false"}
  local Syncs
  for i = 1, 64 do
    local name, value = debug.getupvalue(sync, i)
    if name == nil then break end
    if name == "Syncs" then Syncs = value end
  end
  if type(Syncs) ~= "table" or type(Syncs.get) ~= "function" then
    error("lsyncd-cluster: this lsyncd has no Syncs table; it needs lsyncd 2.2.x")
  end
  local function sizeOf(file)
    local f = io.open(file, "rb")
    if not f then return nil end
    local size = f:seek("end")
    f:close()
    return size
  end
  for n = 1, Syncs.size() do
    local s = Syncs.get(n)
    local push = s.delay
    local pending = {}
    local function settle(path, size)
      if not pending[path] then return end
      local current = sizeOf(s.source .. path:sub(2))
      if current ~= nil and current ~= size then
        alarm(now() + SETTLE, function() settle(path, current) end)
        return
      end
      pending[path] = nil
      push(s, "Create", now(), path)
    end
    local function inTemp(p)
      return p ~= nil and p:sub(1, ${TEMP_DIR_PATTERN.length}) == ${lua(TEMP_DIR_PATTERN)}
    end
    s.delay = function(self, etype, time, path, path2)
      if inTemp(path) then
        -- rsync renamed a complete file from a peer into place: relay it as that file, now.
        if RELAY_ARRIVALS and etype == "Move" and path2 ~= nil and not inTemp(path2) then
          pending[path2] = nil
          return push(self, "Create", time, path2)
        end
        return
      end
      if etype == "Create" and path:sub(-1) ~= "/" then
        pending[path] = true
        local size = sizeOf(s.source .. path:sub(2))
        alarm(now() + SETTLE, function() settle(path, size) end)
        return
      end
      if path ~= nil then pending[path] = nil end
      if path2 ~= nil then pending[path2] = nil end
      return push(self, etype, time, path, path2)
    end
  end
end
`;
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
      `    _extra = ${luaList([`--exclude=${TEMP_DIR_PATTERN}`])},`,
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
  return `${head.join("\n")}\n${syncs.join("\n")}\n${heartbeat.join("\n")}\n${completeFilesOnly(spec.relayArrivals)}`;
}
