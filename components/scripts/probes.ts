// Read-only scripts that print what each step put on a host. `pulumi refresh` runs them
// (components/remote/provider.ts, read); an answer that differs from the one recorded at
// the last create or update marks the step drifted, and the next `up` runs its create
// again. They print hashes and names, never file contents or keys' private halves.
import { sh } from "../quote";
import {
  HOST_NAME_FILE,
  KNOWN_HOSTS,
  LSYNCD_CONF,
  LSYNCD_UNIT,
  NGINX_SITE,
  RSYNCD_CONF,
  SSH_CONFIG,
  STATE_DIR,
  SYNC_AUTHORIZED_KEYS,
  SYNC_KEY,
  SYNC_USER,
  SYSCTL_FILE,
} from "../hostLayout";

/** One line per file: its hash, or "missing <path>". */
function fileHashes(paths: readonly string[]): string[] {
  return paths.map((p) => `if [ -f ${sh(p)} ]; then sha256sum -- ${sh(p)}; else echo ${sh(`missing ${p}`)}; fi`);
}

/**
 * Every probe also prints the server's claim (scripts/ownerGuard.ts): removing it on a host
 * makes every step there drift, so `pulumi up --refresh` runs them all again.
 */
function probe(lines: readonly string[]): string {
  return `set -uo pipefail\n${[`cat -- ${sh(HOST_NAME_FILE)} 2>/dev/null || echo unclaimed`, ...lines].join("\n")}\n`;
}

export function readyProbe(): string {
  return probe([`[ -d ${sh(STATE_DIR)} ] && echo state-dir`]);
}

export function packagesProbe(names: readonly string[]): string {
  return probe([`dpkg-query -W -f '\${Package} \${db:Status-Status}\\n' ${names.map(sh).join(" ")} 2>&1 | sort`]);
}

/** The filesystem that holds the sync dir: a new or wiped disk answers with a new UUID. */
export function diskProbe(syncDir: string): string {
  return probe([`findmnt -n -o UUID,FSTYPE --target ${sh(syncDir)} || echo ${sh(`no filesystem at ${syncDir}`)}`]);
}

export function sysctlProbe(): string {
  return probe(fileHashes([SYSCTL_FILE]));
}

export function identityProbe(): string {
  return probe([`id -u ${sh(SYNC_USER)} 2>/dev/null || echo ${sh(`no ${SYNC_USER}`)}`, ...fileHashes([`${SYNC_KEY}.pub`])]);
}

export function trustProbe(): string {
  return probe(fileHashes([SYNC_AUTHORIZED_KEYS, RSYNCD_CONF, KNOWN_HOSTS, SSH_CONFIG]));
}

export function lsyncdProbe(): string {
  return probe([...fileHashes([LSYNCD_CONF, LSYNCD_UNIT]), "systemctl is-active lsyncd 2>&1 || true"]);
}

export function webProbe(): string {
  return probe([...fileHashes([NGINX_SITE]), "systemctl is-active nginx 2>&1 || true"]);
}
