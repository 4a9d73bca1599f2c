// trust: who may push here (authorized_keys of the sync user) and whom this host pushes
// to (pinned known_hosts, ssh_config). Each file is ours alone and rewritten whole, so a
// peer removed from the cluster loses access on the next run.
import { KNOWN_HOSTS, SSH_CONFIG, SYNC_AUTHORIZED_KEYS, SYNC_USER } from "../paths";
import { sh } from "../quote";
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
  return script([
    writeFile({
      path: SYNC_AUTHORIZED_KEYS,
      content: renderAuthorizedKeys(spec.syncDir, spec.pushers),
      mode: "0600",
      owner: `${SYNC_USER}:${SYNC_USER}`,
    }),
    writeFile({ path: KNOWN_HOSTS, content: renderKnownHosts(spec.targets), mode: "0644" }),
    writeFile({ path: SSH_CONFIG, content: renderSshConfig(spec.targets), mode: "0644" }),
  ]);
}

export function trustDelete(): string {
  return script([`lsc_remove ${sh(SYNC_AUTHORIZED_KEYS)} ${sh(KNOWN_HOSTS)} ${sh(SSH_CONFIG)}`]);
}
