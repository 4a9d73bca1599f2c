// What the e2e suite, the demo and the benchmark share: bring up test hosts, deploy the
// program onto them in existing-hosts mode, and small probes (write, fetch, checksum).
import { createHash } from "crypto";
import { deploy, Deployment } from "./deploy";
import { LSYNCD_LOG } from "../../components/hostLayout";
import { ensureFixturePackages, startTestHosts, TestCluster, TestHost } from "../fixture/testHosts";

export const SYNC_DIR = "/srv/pics";

export interface LiveCluster {
  readonly hosts: TestCluster;
  readonly config: Record<string, unknown>;
  readonly deployment: Deployment;
}

/** Existing-hosts config for the test hosts: each with its disk, pinned key and nginx address. */
export function configFor(hosts: TestCluster, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const host = (h: TestHost) => ({
    name: h.name,
    address: h.address,
    port: h.port,
    user: h.user,
    disk: h.disk,
    hostKey: h.hostKey,
    listenAddress: h.address,
  });
  return {
    hosts: { exchange: host(hosts.exchange), nodes: hosts.nodes.map(host) },
    syncDir: SYNC_DIR,
    ...extra,
  };
}

export async function startCluster(
  nodes: number,
  opts: { extraConfig?: Record<string, unknown>; log?: (line: string) => void; root?: string; addressBase?: string; diskMiB?: number } = {},
): Promise<LiveCluster> {
  ensureFixturePackages();
  const hosts = await startTestHosts({ nodes, root: opts.root, addressBase: opts.addressBase, diskMiB: opts.diskMiB });
  try {
    const config = configFor(hosts, opts.extraConfig);
    const deployment = await deploy(config, hosts.operatorPrivateKey, { log: opts.log });
    return { hosts, config, deployment };
  } catch (e) {
    await hosts.stop();
    throw e;
  }
}

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Run in a host and fail loudly (with its stderr) on a non-zero exit. */
export async function run(hosts: TestCluster, host: TestHost, cmd: string, input?: string): Promise<string> {
  const r = await hosts.exec(host, cmd, { input, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${host.name}: \`${cmd}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** Write a file into a host's sync dir the way an application would (open, write, close). */
export async function writeImage(hosts: TestCluster, host: TestHost, name: string, data: Buffer): Promise<void> {
  await run(hosts, host, `base64 -d > ${SYNC_DIR}/${name}`, data.toString("base64"));
}

/** GET from a host's nginx; undefined on 404 or a refused connection. */
export async function fetchImage(host: TestHost, name: string): Promise<Buffer | undefined> {
  try {
    const res = await fetch(`http://${host.address}/${name}`, { signal: AbortSignal.timeout(5000) });
    if (res.status !== 200) return undefined;
    return Buffer.from(await res.arrayBuffer());
  } catch {
    return undefined;
  }
}

/**
 * Poll until `check` returns true; resolve with the elapsed ms, or throw after timeoutMs.
 * A check that throws counts as "not yet" (a file renamed between `find` and `sha256sum`
 * while sync is in flight); the last such error is in the timeout message.
 */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<number> {
  const t0 = Date.now();
  let lastError = "";
  for (;;) {
    try {
      if (await check()) return Date.now() - t0;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** rsync runs a host's lsyncd has started so far (its log's "Calling rsync" lines). */
/** Waits until `name` holds `sum` (undefined: absent) on the exchange and every node; the ms it took. */
export async function onEveryHost(
  hosts: TestCluster,
  name: string,
  sum: string | undefined,
  timeoutMs = 30_000,
  everyMs = 250,
): Promise<number> {
  const all = [hosts.exchange, ...hosts.nodes];
  return waitFor(
    `${name} = ${sum?.slice(0, 8) ?? "absent"} on every host`,
    async () => (await Promise.all(all.map(async (x) => (await checksums(hosts, x)).get(name)))).every((s) => s === sum),
    timeoutMs,
    everyMs,
  );
}

export async function rsyncRuns(hosts: TestCluster, host: TestHost): Promise<number> {
  return Number((await run(hosts, host, `grep -c 'Calling rsync' ${LSYNCD_LOG} || true`)).trim());
}

/**
 * `find` run in the sync dir, skipping what is never synced (the temp dir, the versions
 * area, lost+found); append the tests and action, e.g. `-type f -print0`.
 */
export const FIND_SYNCED = "find . -path ./.lsyncd-tmp -prune -o -path ./.lsyncd-versions -prune -o -path ./lost+found -prune -o";

/** name → sha256 of every regular file in a host's sync dir (temp dir and the exchange's versions excluded). */
export async function checksums(hosts: TestCluster, host: TestHost): Promise<Map<string, string>> {
  const out = await run(hosts, host, `cd ${SYNC_DIR} && ${FIND_SYNCED} -type f -print0 | sort -z | xargs -0 -r sha256sum`);
  const map = new Map<string, string>();
  for (const line of out.split("\n").filter(Boolean)) {
    // sha256sum marks a line whose name has a newline, carriage return or backslash with a
    // leading "\" and escapes those in the name (coreutils 9.1).
    const escaped = line.startsWith("\\");
    const body = escaped ? line.slice(1) : line;
    let name = body.slice(66);
    if (escaped) name = name.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
    map.set(name.replace(/^\.\//, ""), body.slice(0, 64));
  }
  return map;
}
