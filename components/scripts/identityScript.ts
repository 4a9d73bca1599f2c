// identity: the unprivileged account that receives pushes, and this host's own sync key,
// generated here so the private half never leaves the host. stdout carries only public
// keys, in lines the program parses (parseIdentity).
import { sh } from "../quote";
import { normalizePublicKey } from "../publicKey";
import { script } from "./bash";
import { SSH_CONTROL_DIR, SYNC_HOME, SYNC_KEY, SYNC_USER, syncTempRoot } from "../hostLayout";

export function identityCreate(syncDir: string): string {
  const user = sh(SYNC_USER);
  return script([
    `if ! id -u ${user} >/dev/null 2>&1; then`,
    `  useradd --system --user-group --home-dir ${sh(SYNC_HOME)} --shell /bin/sh ${user}`,
    "fi",
    // useradd --system leaves "!" (locked): sshd refuses a locked account even for keys.
    // "*" means no password can ever match, but key logins work.
    `usermod -p '*' ${user}`,
    // Home, .ssh and authorized_keys are root's (sshd's StrictModes accepts root as owner):
    // the sync user can neither rewrite its forced command nor swap .ssh for its own.
    `install -d -m 0755 -o root -g root ${sh(SYNC_HOME)} ${sh(`${SYNC_HOME}/.ssh`)}`,
    `install -d -m 0700 ${sh(SSH_CONTROL_DIR)}`,
    `if [ ! -s ${sh(SYNC_KEY)} ]; then`,
    `  rm -f ${sh(SYNC_KEY)} ${sh(`${SYNC_KEY}.pub`)}`,
    `  ssh-keygen -q -t ed25519 -N '' -C ${sh("lsyncd-cluster")} -f ${sh(SYNC_KEY)}`,
    "fi",
    `chmod 0600 ${sh(SYNC_KEY)}`,
    // The sync user writes the tree; root-owned leftovers would make rsync fail to replace them.
    // The sync dir's parent is root's; inside it the sync user may have planted links, so
    // the temp root goes through lsc_owned_dir, find never follows a link (-P) and chown
    // changes a link itself, never its target (-h).
    `install -d -m 2775 -o ${user} -g ${user} ${sh(syncDir)}`,
    // The temp root is root's and not writable by the sync user (2755: mkdir in the setgid sync dir sets g+s anyway): the pushers' dirs in it
    // (the sync user's, see trustScript.ts) cannot be deleted or renamed through a stolen
    // key (an rsync --delete of them stopped every other pusher until the next deploy).
    `lsc_owned_dir 2755 root:root ${sh(syncTempRoot(syncDir))}`,
    `find -P ${sh(syncDir)} -xdev \\( -path ${sh(`${syncDir}/lost+found`)} -o -path ${sh(syncTempRoot(syncDir))} \\) -prune -o \\( ! -user ${user} -o ! -group ${user} \\) -exec chown -h ${user}:${user} {} +`,
    "hostkey=",
    "for type in ed25519 ecdsa rsa; do",
    '  f="/etc/ssh/ssh_host_${type}_key.pub"',
    '  if [ -s "$f" ]; then hostkey=$(cut -d" " -f1,2 "$f"); break; fi',
    "done",
    '[ -n "$hostkey" ] || { echo "no ssh host key found in /etc/ssh" >&2; exit 1; }',
    `echo "LSC_SYNC_KEY=$(cut -d' ' -f1,2 ${sh(`${SYNC_KEY}.pub`)})"`,
    'echo "LSC_HOST_KEY=$hostkey"',
  ]);
}

export function identityDelete(): string {
  const user = sh(SYNC_USER);
  return script([
    `lsc_remove ${sh(SYNC_KEY)} ${sh(`${SYNC_KEY}.pub`)}`,
    // Peers' ssh sessions (ControlPersist masters) would keep the account busy.
    `if id -u ${user} >/dev/null 2>&1; then`,
    `  rc=0; pkill -KILL -u ${user} || rc=$?`,
    '  if [ "$rc" -gt 1 ]; then echo "pkill failed (exit $rc)" >&2; exit "$rc"; fi',
    `  for _ in $(seq 1 50); do pgrep -u ${user} >/dev/null || break; sleep 0.1; done`,
    // Files in the sync dir stay; they keep the (now unnamed) uid, like any deleted user's.
    `  userdel ${user}`,
    "fi",
    `rm -rf -- ${sh(SYNC_HOME)} ${sh(SSH_CONTROL_DIR)}`,
  ]);
}

export interface HostIdentity {
  /** This host's sync public key ("ssh-ed25519 AAAA..."). */
  readonly syncPublicKey: string;
  /** This host's ssh host key ("ssh-ed25519 AAAA..."), pinned by its peers. */
  readonly hostKey: string;
}

/** Read the identity step's stdout; anything that is not a clean public key is refused. */
export function parseIdentity(hostName: string, stdout: string): HostIdentity {
  const value = (key: string): string => {
    const line = stdout.split("\n").find((l) => l.startsWith(`${key}=`));
    if (!line) {
      throw new Error(`identity step of ${hostName} printed no ${key} line`);
    }
    return line.slice(key.length + 1);
  };
  return {
    syncPublicKey: normalizePublicKey(`sync key of ${hostName}`, value("LSC_SYNC_KEY")),
    hostKey: normalizePublicKey(`host key of ${hostName}`, value("LSC_HOST_KEY")),
  };
}
