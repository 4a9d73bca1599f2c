// The rsync daemon config every host receives pushes with. authorized_keys forces each
// peer's sync key to run `rsync --server --daemon --config=<this> .` (rsync's "daemon
// over a remote shell"), so a pusher gets exactly one module and no shell. This replaced
// rrsync: the same confinement without a Python process per push (measured on the test
// hosts: a no-op push cost the receiver 38 ms of CPU with rrsync and 8 ms with this, and a
// 2,000-file push 1.0 vs 0.75 CPU-s).
//
// What a stolen sync key can send is cut down to what images need (issue 11, measured by
// test/e2e/adversary.test.ts): regular files and directories, nothing else.
import { plainPath } from "../quote";
import { RSYNCD_PUSH_LOG, RSYNC_MODULE, VERSIONS_DIR_NAME } from "../hostLayout";

/**
 * Options the daemon refuses outright (the whole push fails, with rsync's "option may not
 * be used with this server"):
 * - links, keep-dirlinks: the receiver is the unprivileged sync user, so it cannot chroot,
 *   and without chroot rsync only sanitizes a link's value against the path the sender
 *   *claims*. A link `a -> .` then `a/a/a/a/a/x -> ../../../../..` with -R reached `/`
 *   (nginx served /etc/passwd), and a link planted as a temp dir made rsync write into
 *   /dev/shm. Images never need links, so none are accepted at all.
 * - D, devices, specials: a pushed FIFO blocked lsyncd for ever. Nothing but files and
 *   directories is synced. "D" itself must be listed: a client's -D reaches the daemon as
 *   -D, which refusing the long names does not match (measured).
 * - files-from: `--files-from=:name` makes the *receiving* daemon open a module file and
 *   send it back as the file list, so a write-only module read back any file the sync user
 *   could read (a random hunt, 2026-12-01: a 0640 dot file came back line by line in
 *   rsync's errors). Pushes that read their list locally (`--files-from=-`, lsyncd's and the
 *   audit's) never send the option to the daemon, so refusing it costs them nothing.
 * - H, hard-links, link-dest, inplace, append, append-verify: a hard link made by a push
 *   (`-H`, or `--link-dest=../` onto any file already in the module) shares its inode with
 *   a file the exchange later keeps as a version, and an `--inplace` write through the
 *   other name then rewrote that version, which `lsyncd-cluster-restore` put back on every
 *   host (same hunt). Without links or in-place writes, every push lands as a new inode
 *   renamed into place, and a version is never written again. --append implies --inplace.
 */
export const REFUSED_OPTIONS = [
  "links",
  "keep-dirlinks",
  "D",
  "devices",
  "specials",
  "copy-devices",
  "write-devices",
  "files-from",
  "H",
  "hard-links",
  "link-dest",
  "inplace",
  "append",
  "append-verify",
] as const;

/**
 * Modes as they land, whatever the sender asked for: no setuid/setgid file, nothing
 * world-writable. Group write stays: the sync dir is a 2775 group-shared tree.
 *
 * Directories are not forced to one mode, though a pushed 0700 directory hides its tree
 * from nginx (README Security says so): forcing D2775 was tried (2026-12-01) and made every
 * push into a directory the sync user does not own but may write (an application's 2770,
 * say) fail its chmod with exit 23, and it opened private directories to nginx elsewhere.
 */
export const INCOMING_CHMOD = "Fug-s,Fo-w,Do-w";

export function renderRsyncdConf(syncDir: string): string {
  plainPath("an rsyncd config", syncDir);
  return [
    "# Managed by lsyncd-cluster; local edits are overwritten.",
    "# Read by the rsync that sshd starts for a peer's sync key (see authorized_keys).",
    // One line per pushed file: who pushed what, outside the module (nothing can be read
    // back through a sync key) and not readable by the sync user (0620, see trustScript.ts).
    `log file = ${RSYNCD_PUSH_LOG}`,
    "transfer logging = yes",
    "log format = %o %a %m %f %l",
    "",
    `[${RSYNC_MODULE}]`,
    `    path = ${syncDir}`,
    // The receiver is the unprivileged sync user: it cannot chroot. Links are refused
    // (below), so no path the daemon resolves can pass through one the pusher made.
    "    use chroot = no",
    "    read only = no",
    // Pushes only: nothing can be read back through a sync key.
    "    write only = yes",
    "    list = no",
    `    refuse options = ${REFUSED_OPTIONS.join(" ")}`,
    // Belt and braces should a link get in some other way: stored values can never be followed.
    "    munge symlinks = yes",
    `    incoming chmod = ${INCOMING_CHMOD}`,
    // The exchange's versions (issue 13): a push can neither create, change, delete nor
    // name it as a temp, partial or backup dir (rsync checks those against this too).
    // Root's 0700 besides, so the sync user cannot even look into it.
    `    exclude = /${VERSIONS_DIR_NAME}/`,
    // The peer's address comes from SSH_CONNECTION; no DNS lookup per push.
    "    reverse lookup = no",
    "",
  ].join("\n");
}
