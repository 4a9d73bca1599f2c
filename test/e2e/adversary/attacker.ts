// What an attacker holding a host's sync private key can do, done exactly that way: from
// inside the host whose key was stolen, with rsync over that host's own ssh_config (its
// key, its pinned known_hosts), against a peer's forced rsync daemon. Plus the probes the
// adversarial suites share: what changed outside the sync dir, what nginx serves, whether
// lsyncd's main loop still ticks.
import { request } from "http";
import { TestCluster, TestHost } from "../../../testing/fixture/testHosts";
import { SYNC_DIR } from "../../../testing/harness/cluster";

/** The attacker's scratch dir on the host whose key was stolen (left out of its manifest). */
export const WORK = "/tmp/lscatk";
/** Every name the attacker creates contains this, so leftovers anywhere can be found. */
export const MARK = "lscatk";

/** rsync's remote shell as lsyncd itself uses it on that host: the stolen key. */
const RSH = "ssh -F /etc/lsyncd-cluster/ssh_config";

export interface PushResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Build a tree in WORK on `from` with `build` (bash, cwd = WORK), then run
 * `rsync -e <stolen key> <args> lsc-<to>::sync/<dest>` from there. Never throws: a refused
 * push is a result.
 */
export async function push(hosts: TestCluster, from: TestHost, to: TestHost, build: string, args: string, dest = ""): Promise<PushResult> {
  const cmd = [
    `rm -rf ${WORK} && mkdir -p ${WORK} && cd ${WORK}`,
    `( set -e; ${build} )`,
    `rsync -e '${RSH}' ${args} lsc-${to.name}::sync/${dest}`,
  ].join(" && ");
  return hosts.exec(from, cmd, { timeoutMs: 60_000 });
}

/** Paths whose every change the suite watches: a stolen key must never change any of them. */
export const WATCHED = ["/etc", "/root", "/usr/local", "/var/lib", "/tmp", "/dev/shm"];

/**
 * One line per entry of the watched trees: path, type, mode, owner, group, and for all but
 * directories size and ctime (which no unprivileged process can set back, so any write or
 * chmod shows; a directory's entries are listed themselves, so its own ctime, which the
 * attacker's scratch dir bumps on /tmp, adds nothing), and the sha256 of regular files up
 * to 1 MiB outside /var/lib (there ctime alone: hashing dpkg's thousands of files at every
 * check cost more than the pushes). /dev is shared with the machine and with other
 * engineers' test hosts, so in /dev/shm only entries of the sync user or named like the
 * attacker's are compared. Left out: the ssh ControlMaster sockets (come and go with each
 * push) and the attacker's own scratch dir.
 */
export async function manifest(hosts: TestCluster, host: TestHost): Promise<string> {
  const cmd = String.raw`
set -o pipefail
sync_uid=$(id -u lsyncd-sync)
{
  find -P /etc /root /usr/local /var/lib /tmp -xdev \( -path /var/lib/lsyncd-cluster/cm -o -path ${WORK} \) -prune -o -type d -printf '%p %y %m %u %g\n' -o -printf '%p %y %m %u %g %s %C@\n'
  find -P /dev/shm -xdev \( -uid "$sync_uid" -o -name '*${MARK}*' \) -printf '%p %y %m %u %g %s %C@\n'
} | LC_ALL=C sort
find -P /etc /root /usr/local /tmp -xdev -path ${WORK} -prune -o -type f -size -1025k -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
`;
  const r = await hosts.exec(host, cmd, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`manifest of ${host.name} failed: ${r.stderr}`);
  return r.stdout;
}

/** Lines of `after` that are not in `before` and vice versa, for a readable failure. */
export function manifestDiff(before: string, after: string): string[] {
  const a = new Set(before.split("\n"));
  const b = new Set(after.split("\n"));
  return [...[...a].filter((l) => !b.has(l)).map((l) => `- ${l}`), ...[...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`)];
}

/**
 * What is wrong inside a host's sync dir: setuid/setgid files, world-writable entries,
 * devices, FIFOs, sockets, and links (the daemon refuses them; anything there came another
 * way). One line each; empty = clean.
 */
export async function syncDirProblems(hosts: TestCluster, host: TestHost): Promise<string[]> {
  const r = await hosts.exec(
    host,
    `find -P ${SYNC_DIR} -xdev \\( -type f -perm /6000 -printf 'setuid/setgid file %p %m\\n' \\) -o ` +
      `\\( ! -type l -perm -0002 -printf 'world-writable %p %m\\n' \\) -o ` +
      `\\( \\( -type b -o -type c -o -type p -o -type s \\) -printf 'special %y %p\\n' \\) -o ` +
      `\\( -type l -printf 'symlink %p -> %l\\n' \\)`,
  );
  if (r.code !== 0) throw new Error(`find in ${host.name} failed: ${r.stderr}`);
  return r.stdout.split("\n").filter(Boolean);
}

/** lsyncd's heartbeat (epoch seconds its main loop last wrote), or 0 when absent. */
export async function heartbeat(hosts: TestCluster, host: TestHost): Promise<number> {
  const r = await hosts.exec(host, "cat /var/log/lsyncd/lsyncd.heartbeat 2>/dev/null || echo 0");
  return Number(r.stdout.trim()) || 0;
}

/** nginx's answer on `host` for a raw path (sent as is: no client-side ".." folding). */
export function served(host: TestHost, path: string): Promise<{ status: string; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: host.address, port: 80, path, method: "GET", timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: String(res.statusCode), body: Buffer.concat(chunks).toString("latin1") }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: `error ${e.message}`, body: "" }));
    req.end();
  });
}
