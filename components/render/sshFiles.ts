// The files that tell a host how to reach the peers it pushes to (ssh_config, known_hosts)
// and whom it accepts pushes from (authorized_keys). ssh_config and known_hosts have no
// quoting of their own, so every value is checked to be one plain token instead.
import { normalizePublicKey } from "../publicKey";
import { KNOWN_HOSTS, RSYNCD_CONF, RSYNC_BINARY, SSH_CONTROL_DIR, SYNC_KEY, SYNC_USER, peerAlias } from "../hostLayout";

// Defence in depth: the keys were checked where they entered (config, identity step).
export { normalizePublicKey };

function token(what: string, value: string | number): string {
  const text = String(value);
  if (!/^[A-Za-z0-9._:%\[\]\/-]+$/.test(text)) {
    throw new Error(`${what} cannot be written into an ssh config file: ${JSON.stringify(text)}`);
  }
  return text;
}

export interface PushTarget {
  readonly name: string;
  /** Address the pushing host dials. */
  readonly address: string;
  readonly port: number;
  /** The target's ssh host key, pinned. */
  readonly hostKey: string;
}

export function renderSshConfig(targets: readonly PushTarget[]): string {
  const blocks = targets.map((t) =>
    [
      `Host ${token("host name", peerAlias(t.name))}`,
      `  HostName ${token("address", t.address)}`,
      `  Port ${token("port", t.port)}`,
      `  User ${SYNC_USER}`,
      `  HostKeyAlias ${token("host name", peerAlias(t.name))}`,
    ].join("\n"),
  );
  const common = [
    "Host *",
    `  IdentityFile ${SYNC_KEY}`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile ${KNOWN_HOSTS}`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  BatchMode yes",
    // One TCP+SSH handshake per peer instead of one per rsync: the largest latency win measured.
    "  ControlMaster auto",
    `  ControlPath ${SSH_CONTROL_DIR}/%C`,
    "  ControlPersist 300",
    "  ConnectTimeout 10",
    "  ServerAliveInterval 15",
    "  ServerAliveCountMax 3",
    "  Compression no",
  ].join("\n");
  return `# Managed by lsyncd-cluster; local edits are overwritten.\n${[...blocks, common].join("\n\n")}\n`;
}

export function renderKnownHosts(targets: readonly PushTarget[]): string {
  const lines = targets.map((t) => `${token("host name", peerAlias(t.name))} ${normalizePublicKey(`host key of ${t.name}`, t.hostKey)}`);
  return `# Managed by lsyncd-cluster; local edits are overwritten.\n${lines.join("\n")}\n`;
}

export interface Pusher {
  readonly name: string;
  readonly syncPublicKey: string;
}

/**
 * authorized_keys of the sync user: each peer that pushes here may only talk to rsync in
 * daemon mode with our config (one write-only module, the sync dir; see rsyncdConf.ts),
 * whatever command it asks for: no shell, no forwarding, no pty.
 */
export function renderAuthorizedKeys(pushers: readonly Pusher[]): string {
  const lines = pushers.map(
    (p) =>
      `restrict,command="${RSYNC_BINARY} --server --daemon --config=${RSYNCD_CONF} ." ${normalizePublicKey(`sync key of ${p.name}`, p.syncPublicKey)} lsyncd-cluster:${token("host name", p.name)}`,
  );
  return `# Managed by lsyncd-cluster; local edits are overwritten.\n${lines.join("\n")}\n`;
}
