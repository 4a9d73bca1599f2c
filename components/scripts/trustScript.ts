// trust: who may push here and how a push is received (authorized_keys of the sync user,
// the rsync daemon config it forces, one temp dir per pusher), and whom this host pushes
// to (pinned known_hosts, ssh_config). Each file is ours alone and rewritten whole, so a
// peer removed from the cluster loses access on the next run.
import { sh } from "../quote";
import { renderRsyncdConf } from "../render/rsyncdConf";
import { Pusher, PushTarget, renderAuthorizedKeys, renderKnownHosts, renderSshConfig } from "../render/sshFiles";
import { script, writeFile } from "./bash";
import {
  KNOWN_HOSTS,
  LSYNCD_LOG_DIR,
  RSYNCD_CONF,
  RSYNCD_PUSH_LOG,
  SSH_CONFIG,
  SYNC_AUTHORIZED_KEYS,
  SYNC_USER,
  syncTempRoot,
} from "../hostLayout";

export interface TrustSpec {
  readonly syncDir: string;
  /** Peers that push to this host. */
  readonly pushers: readonly Pusher[];
  /** Peers this host pushes to. */
  readonly targets: readonly PushTarget[];
}

export function trustCreate(spec: TrustSpec): string {
  const user = sh(SYNC_USER);
  const tmp = syncTempRoot(spec.syncDir);
  const names = spec.pushers.map((p) => p.name);
  return script([
    // Each pusher's half-done files go to a temp dir of its own (rsync requires it to
    // exist), so the rename that completes one names its origin (see lsyncdIntake.ts).
    // The temp root belongs to the sync user, so anything in it may be a planted link:
    // lsc_owned_dir replaces links instead of following them; the temp root first (root's,
    // so its pusher dirs cannot be deleted by the sync user; identityScript.ts), since the
    // sync user owns the sync dir it sits in.
    `lsc_owned_dir 2755 root:root ${sh(tmp)}`,
    ...names.map((n) => `lsc_owned_dir 2775 ${user}:${user} ${sh(`${tmp}/${n}`)}`),
    // A former pusher's dir only holds files that can never complete. find -P lists links
    // as links; rm of a name without a trailing "/" removes a link, never its target, and
    // --one-file-system keeps rm -r off anything mounted inside.
    `if [ -d ${sh(tmp)} ] && [ ! -L ${sh(tmp)} ]; then`,
    `  find -P ${sh(tmp)} -mindepth 1 -maxdepth 1 ${names.map((n) => `! -name ${sh(n)}`).join(" ")} -print0 |`,
    "    xargs -0 -r rm -rf --one-file-system --",
    "fi",
    // The push record rsyncd appends to as the sync user, who may write but not read it.
    `[ -d ${sh(LSYNCD_LOG_DIR)} ] || install -d -m 0755 ${sh(LSYNCD_LOG_DIR)}`,
    `if ! { [ -f ${sh(RSYNCD_PUSH_LOG)} ] && [ ! -L ${sh(RSYNCD_PUSH_LOG)} ]; }; then install -m 0620 -o root -g ${user} /dev/null ${sh(RSYNCD_PUSH_LOG)}; fi`,
    `chown root:${user} ${sh(RSYNCD_PUSH_LOG)}`,
    `chmod 0620 ${sh(RSYNCD_PUSH_LOG)}`,
    // Written before the keys that point at it.
    writeFile({ path: RSYNCD_CONF, content: renderRsyncdConf(spec.syncDir), mode: "0644" }),
    writeFile({
      path: SYNC_AUTHORIZED_KEYS,
      content: renderAuthorizedKeys(spec.pushers),
      // Root's, readable: the sync user can neither change its forced command nor add a key.
      mode: "0644",
    }),
    writeFile({ path: KNOWN_HOSTS, content: renderKnownHosts(spec.targets), mode: "0644" }),
    writeFile({ path: SSH_CONFIG, content: renderSshConfig(spec.targets), mode: "0644" }),
  ]);
}

export function trustDelete(syncDir: string): string {
  const tmp = syncTempRoot(syncDir);
  return script([
    `lsc_remove ${sh(SYNC_AUTHORIZED_KEYS)} ${sh(KNOWN_HOSTS)} ${sh(SSH_CONFIG)} ${sh(RSYNCD_CONF)}`,
    // Links in the temp root are removed as links (find -P, no trailing "/").
    `if [ -d ${sh(tmp)} ] && [ ! -L ${sh(tmp)} ]; then find -P ${sh(tmp)} -mindepth 1 -maxdepth 1 -print0 | xargs -0 -r rm -rf --one-file-system --; fi`,
  ]);
}
