// The layout of every host: where the program puts things, the sync user, the temp-dir
// and versions rules, peer aliases and rsync targets. One module, so scripts, renderers,
// the health check, the benchmark and the tests agree on every path and name.

/** Small state this program keeps on a host (what it installed, what it disabled). */
export const STATE_DIR = "/var/lib/lsyncd-cluster";
/** The cluster host this server is (components/scripts/ownerGuard.ts). */
export const HOST_NAME_FILE = `${STATE_DIR}/host-name`;
/** Home of the sync user: holds only its authorized_keys. */
export const SYNC_HOME = `${STATE_DIR}/sync-home`;
export const SYNC_AUTHORIZED_KEYS = `${SYNC_HOME}/.ssh/authorized_keys`;
/** Root-only config for the pushing side: the sync key, pinned peers, ssh options. */
export const ETC_DIR = "/etc/lsyncd-cluster";
export const SYNC_KEY = `${ETC_DIR}/sync_ed25519`;
export const KNOWN_HOSTS = `${ETC_DIR}/known_hosts`;
export const SSH_CONFIG = `${ETC_DIR}/ssh_config`;
/** ssh ControlMaster sockets: kept short (sun_path is 108 bytes) and off /tmp. */
export const SSH_CONTROL_DIR = `${STATE_DIR}/cm`;

export const LSYNCD_CONF = "/etc/lsyncd/lsyncd.conf.lua";
export const LSYNCD_LOG_DIR = "/var/log/lsyncd";
export const LSYNCD_LOG = `${LSYNCD_LOG_DIR}/lsyncd.log`;
export const LSYNCD_STATUS = `${LSYNCD_LOG_DIR}/lsyncd.status`;
/** Rewritten by lsyncd's own main loop every statusInterval: proof it is alive and not stuck. */
export const LSYNCD_HEARTBEAT = `${LSYNCD_LOG_DIR}/lsyncd.heartbeat`;
/** Named like Debian's SysV script so our unit replaces it instead of running beside it. */
export const LSYNCD_UNIT = "/etc/systemd/system/lsyncd.service";

export const SYSCTL_FILE = "/etc/sysctl.d/90-lsyncd-inotify.conf";

export const NGINX_SITE = "/etc/nginx/sites-available/lsyncd-cluster";
export const NGINX_SITE_LINK = "/etc/nginx/sites-enabled/lsyncd-cluster";
export const NGINX_DEFAULT_LINK = "/etc/nginx/sites-enabled/default";

export const HEALTH_CHECK = "/usr/local/bin/lsyncd-cluster-health";
/** The exchange's auditor, its systemd units and what its last run found (read by the health check). */
export const AUDIT_COMMAND = "/usr/local/bin/lsyncd-cluster-audit";
export const AUDIT_SERVICE_UNIT = "lsyncd-cluster-audit.service";
export const AUDIT_TIMER_UNIT = "lsyncd-cluster-audit.timer";
export const AUDIT_SERVICE = `/etc/systemd/system/${AUDIT_SERVICE_UNIT}`;
export const AUDIT_TIMER = `/etc/systemd/system/${AUDIT_TIMER_UNIT}`;
export const AUDIT_STATE = `${STATE_DIR}/audit.differences`;
/** Touched by each audit of every node that compared content hashes: the timer's runs read its age. */
export const AUDIT_CHECKSUM_STAMP = `${STATE_DIR}/audit.checksummed`;
/** The names the last content comparison found different: later runs compare them again. */
export const AUDIT_CONTENT_STATE = `${STATE_DIR}/audit.content-differences`;
/** One audit at a time: the timer's and one by hand share the state files. */
export const AUDIT_LOCK = `${STATE_DIR}/audit.lock`;
/**
 * Issue 13, on the exchange: the mass-delete fuse's state (one `<origin>.held` list of held
 * paths per tripped origin, and the rsync protect rules every relay of a delete carries).
 * Root-only, outside the sync dir: a push can neither read nor change it, and it survives
 * a restart of lsyncd or of the host.
 */
export const FUSE_DIR = `${STATE_DIR}/fuse`;
export const FUSE_RULES = `${FUSE_DIR}/protect.rules`;
/** The operator's tools for versions and held deletes, and the prune timer. */
export const RESTORE_COMMAND = "/usr/local/bin/lsyncd-cluster-restore";
export const DELETES_COMMAND = "/usr/local/bin/lsyncd-cluster-deletes";
export const PRUNE_SERVICE_UNIT = "lsyncd-cluster-versions-prune.service";
export const PRUNE_TIMER_UNIT = "lsyncd-cluster-versions-prune.timer";
export const PRUNE_SERVICE = `/etc/systemd/system/${PRUNE_SERVICE_UNIT}`;
export const PRUNE_TIMER = `/etc/systemd/system/${PRUNE_TIMER_UNIT}`;
export const LOGROTATE_FILE = "/etc/logrotate.d/lsyncd-cluster";

export const RSYNC_BINARY = "/usr/bin/rsync";
export const SSH_BINARY = "/usr/bin/ssh";
/**
 * How a peer's push is received: sshd forces every sync key to run rsync in daemon mode
 * with this config, which serves one write-only module, the sync dir. Outside the
 * root-only ETC_DIR because the unprivileged sync user's rsync reads it.
 */
export const RSYNCD_CONF = "/etc/lsyncd-cluster-rsyncd.conf";
/**
 * One line per file pushed into this host (rsyncd transfer logging). Written by the sync
 * user's daemon, so group-writable for it but not readable (root:lsyncd-sync 0620).
 */
export const RSYNCD_PUSH_LOG = `${LSYNCD_LOG_DIR}/pushes.log`;
/** The module name pushers address (`<alias>::sync/`). */
export const RSYNC_MODULE = "sync";

/** rsync's temp dirs inside the sync dir: one subdir per pusher (see lsyncdIntake.ts). */
export function syncTempRoot(syncDir: string): string {
  return `${syncDir}/${SYNC_TEMP_DIR_NAME}`;
}

/**
 * Versions on the exchange (issue 13): every file a push overwrote or deleted, under
 * `<path>/<UTC time>~<origin>~<kind>`. On the sync dir's own filesystem (a version is kept
 * by one rename), but root's 0700: the sync user, and so every sync key, can neither read
 * nor change it; lsyncd and the rsync daemon exclude it, nginx serves no dot path.
 */
export function versionsRoot(syncDir: string): string {
  return `${syncDir}/${VERSIONS_DIR_NAME}`;
}

/** ssh alias of a peer: what known_hosts and ssh_config key on, independent of its address. */
export function peerAlias(hostName: string): string {
  return `lsc-${hostName}`;
}

/** Unix account that receives pushes on every host; unprivileged, locked to the rsync daemon module. */
export const SYNC_USER = "lsyncd-sync";
/** Temp dir for rsync, inside the sync dir (same filesystem: atomic rename), never synced. */
export const SYNC_TEMP_DIR_NAME = ".lsyncd-tmp";
/** The exchange's versions area, inside the sync dir's filesystem (versionsRoot above). */
export const VERSIONS_DIR_NAME = ".lsyncd-versions";

/** Inside a pusher's temp dir: where its push keeps the version it replaced (rsync --backup-dir). */
export const REPLACED_DIR_NAME = ".replaced";

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
export function pusherTempPath(pusher: string): string {
  return `/${pusherTempDir(pusher)}`;
}

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

/** The sync{} target for a peer: its rsync module over ssh ("::" + rsh). */
export function targetOf(peer: string): string {
  return `${peerAlias(peer)}::${RSYNC_MODULE}/`;
}
