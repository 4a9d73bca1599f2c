// Where the program puts things on every host. One list, so scripts, renderers, the
// health check and the tests agree on every path.
import { SYNC_TEMP_DIR_NAME, SYNC_USER, VERSIONS_DIR_NAME } from "./spec";

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

export { SYNC_USER };
