// trust: who may push here and how a push is received (authorized_keys of the sync user,
// the rsync daemon config it forces, one temp dir per pusher), and whom this host pushes
// to (pinned known_hosts, ssh_config). Each file is ours alone and rewritten whole, so a
// peer removed from the cluster loses access on the next run.
import { KNOWN_HOSTS, RSYNCD_CONF, SSH_CONFIG, SYNC_AUTHORIZED_KEYS, SYNC_USER, syncTempRoot } from "../paths";
import { sh } from "../quote";
import { renderRsyncdConf } from "../render/rsyncdConf";
import { Pusher, PushTarget, renderAuthorizedKeys, renderKnownHosts, renderSshConfig } from "../render/sshFiles";
import { script, writeFile } from "./bash";

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
    ...(names.length > 0
      ? [`install -d -m 2775 -o ${user} -g ${user} ${names.map((n) => sh(`${tmp}/${n}`)).join(" ")}`]
      : []),
    // A former pusher's dir only holds files that can never complete.
    `for d in ${sh(tmp)}/*/; do`,
    '  [ -d "$d" ] || continue',
    '  name=$(basename "$d")',
    `  case "$name" in ${names.length > 0 ? names.map(sh).join("|") : "''"}) ;; *) rm -rf -- "$d" ;; esac`,
    "done",
    // Written before the keys that point at it.
    writeFile({ path: RSYNCD_CONF, content: renderRsyncdConf(spec.syncDir), mode: "0644" }),
    writeFile({
      path: SYNC_AUTHORIZED_KEYS,
      content: renderAuthorizedKeys(spec.pushers),
      mode: "0600",
      owner: `${SYNC_USER}:${SYNC_USER}`,
    }),
    writeFile({ path: KNOWN_HOSTS, content: renderKnownHosts(spec.targets), mode: "0644" }),
    writeFile({ path: SSH_CONFIG, content: renderSshConfig(spec.targets), mode: "0644" }),
  ]);
}

export function trustDelete(syncDir: string): string {
  const tmp = syncTempRoot(syncDir);
  return script([
    `lsc_remove ${sh(SYNC_AUTHORIZED_KEYS)} ${sh(KNOWN_HOSTS)} ${sh(SSH_CONFIG)} ${sh(RSYNCD_CONF)}`,
    `if [ -d ${sh(tmp)} ]; then find ${sh(tmp)} -mindepth 1 -maxdepth 1 -type d -exec rm -rf -- {} +; fi`,
  ]);
}
