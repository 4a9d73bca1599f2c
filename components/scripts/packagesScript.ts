// packages: install what is missing, and remember what we installed, so delete removes
// exactly that and leaves a server's own nginx or rsync alone.
import { sh } from "../quote";
import { script } from "./bash";
import { RSYNC_BINARY, SSH_BINARY, STATE_DIR } from "../hostLayout";

/**
 * Debian package and the binary whose presence means it is already there; a library has
 * no binary, so dpkg is asked instead (binary absent).
 */
export interface PackageNeed {
  readonly name: string;
  readonly binary?: string;
}

/** A shell test that succeeds when the need is met. */
function present(p: PackageNeed): string {
  return p.binary !== undefined
    ? `[ -x ${sh(p.binary)} ]`
    : `[ "$(dpkg-query -W -f='\${db:Status-Status}' ${sh(p.name)} 2>/dev/null)" = installed ]`;
}

export function packagesFor(web: boolean): PackageNeed[] {
  const base: PackageNeed[] = [
    { name: "lsyncd", binary: "/usr/bin/lsyncd" },
    { name: "rsync", binary: RSYNC_BINARY },
    { name: "openssh-client", binary: SSH_BINARY },
    { name: "e2fsprogs", binary: "/sbin/mkfs.ext4" },
    // lstat for lsyncd's Lua: the event intake must never open a FIFO (lsyncdIntake.ts).
    { name: "lua-filesystem" },
  ];
  return web ? [...base, { name: "nginx", binary: "/usr/sbin/nginx" }] : base;
}

const RECORD = `${STATE_DIR}/installed-packages`;

export function packagesCreate(needs: readonly PackageNeed[]): string {
  const lines = [
    "missing=()",
    ...needs.map((p) => `${present(p)} || missing+=(${sh(p.name)})`),
    'if [ "${#missing[@]}" -gt 0 ]; then',
    "  export DEBIAN_FRONTEND=noninteractive",
    "  apt-get -q update -o DPkg::Lock::Timeout=300",
    '  apt-get -q install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}"',
    `  printf '%s\\n' "\${missing[@]}" >>${sh(RECORD)}`,
    `  sort -u -o ${sh(RECORD)} ${sh(RECORD)}`,
    "fi",
    ...needs.map((p) => `${present(p)} || { echo ${sh(`${p.binary ?? p.name} is still missing after apt-get install`)} >&2; exit 1; }`),
  ];
  return script(lines);
}

export function packagesDelete(): string {
  return script([
    `if [ -s ${sh(RECORD)} ]; then`,
    "  export DEBIAN_FRONTEND=noninteractive",
    `  mapfile -t ours <${sh(RECORD)}`,
    '  apt-get -q remove -y -o DPkg::Lock::Timeout=300 "${ours[@]}"',
    "fi",
    `rm -f ${sh(RECORD)}`,
  ]);
}
