// The three things compared, all on the same deployed test hosts:
//   defaults — the program's own config, as deployed;
//   article  — the source article's lsyncd config shape (default.rsyncssh, delay = 3, a new
//              ssh connection per rsync, temp dir /tmp) on the same hosts and keys;
//   floor    — no lsyncd: one direct rsync node01 → node02 over the same ssh setup,
//              started the moment the write has finished (the physical floor of one hop).
import { run, SYNC_DIR } from "../test/e2e/harness/cluster";
import { TestCluster, TestHost } from "../test/e2e/fixture/testHosts";
import { sleep } from "./measure";

export type ProfileName = "defaults" | "article" | "floor" | "tuned";
/** The order they run in on one fixture. `tuned` is the suggested change, measured last. */
export const PROFILE_NAMES: readonly ProfileName[] = ["defaults", "article", "floor", "tuned"];

export interface Profile {
  readonly name: ProfileName;
  readonly description: string;
  /** Make the hosts run this profile (lsyncd already stopped and bursts removed, except defaults). */
  prepare(hosts: TestCluster): Promise<void>;
  /** nginx hosts that must serve a propagation sample */
  watchers(hosts: TestCluster): TestHost[];
  /** a host on the way, watched from inside for the hop split */
  relay(hosts: TestCluster): TestHost | undefined;
  /** hosts that must have every burst file */
  burstTargets(hosts: TestCluster): TestHost[];
  /** shell run in node01 right after a propagation write of `file` (a path) */
  afterWrite?(file: string): string;
  /** shell run in node01 right after the burst writer, given a glob of its files */
  afterBurst?(glob: string): string;
  /** pause after each sample, so the next starts on idle daemons (echo pushes settled) */
  readonly gapMs: number;
}

const SSH_CONFIG = "/etc/lsyncd-cluster/ssh_config";
const KNOWN_HOSTS = "/etc/lsyncd-cluster/known_hosts";
const SYNC_KEY = "/etc/lsyncd-cluster/sync_ed25519";
const SYNC_AUTHORIZED_KEYS = "/var/lib/lsyncd-cluster/sync-home/.ssh/authorized_keys";
const LSYNCD_CONF = "/etc/lsyncd/lsyncd.conf.lua";
const LSYNCD_LOG = "/var/log/lsyncd/lsyncd.log";
const DEPLOYED_CONF = "/var/lib/lsyncd-cluster/bench-deployed-lsyncd.conf.lua";

const alias = (h: TestHost): string => `lsc-${h.name}`;
/** Who a host pushes to in hub-and-spoke: the exchange pushes to every node, a node to the exchange. */
const targetsOf = (hosts: TestCluster, h: TestHost): TestHost[] => (h === hosts.exchange ? hosts.nodes : [hosts.exchange]);

// ---------------------------------------------------------------- shared steps

function lsyncdPids(hosts: TestCluster, h: TestHost): number[] {
  return hosts.processes(h).filter((p) => p.comm === "lsyncd").map((p) => p.pid);
}

export async function stopLsyncdEverywhere(hosts: TestCluster): Promise<void> {
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, "systemctl stop lsyncd")));
  for (let i = 0; i < 100 && hosts.hosts.some((h) => lsyncdPids(hosts, h).length > 0); i++) await sleep(100);
  const left = hosts.hosts.filter((h) => lsyncdPids(hosts, h).length > 0).map((h) => h.name);
  if (left.length) throw new Error(`lsyncd still running after stop on ${left.join(", ")}`);
}

/** Start lsyncd on every host and wait until each sync{} reported its startup sync finished. */
export async function startLsyncdEverywhere(hosts: TestCluster): Promise<void> {
  const offsets = await Promise.all(hosts.hosts.map(async (h) => Number((await run(hosts, h, `stat -c %s ${LSYNCD_LOG} 2>/dev/null || echo 0`)).trim())));
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, "systemctl start lsyncd")));
  await Promise.all(
    hosts.hosts.map(async (h, i) => {
      const want = targetsOf(hosts, h).length;
      for (let t = 0; t < 600; t++) {
        const log = await run(hosts, h, `tail -c +${offsets[i] + 1} ${LSYNCD_LOG} 2>/dev/null || true`);
        const done = (log.match(/Startup of .* finished/g) ?? []).length;
        if (done >= want) return;
        if (/Error|error:/.test(log) && lsyncdPids(hosts, h).length === 0) throw new Error(`lsyncd on ${h.name} died at startup:\n${log.slice(-2000)}`);
        await sleep(100);
      }
      throw new Error(`lsyncd on ${h.name}: startup sync did not finish within 60 s`);
    }),
  );
}

export async function assertLsyncdRunning(hosts: TestCluster): Promise<void> {
  const down = hosts.hosts.filter((h) => lsyncdPids(hosts, h).length !== 1).map((h) => h.name);
  if (down.length) throw new Error(`lsyncd is not running (exactly once) on ${down.join(", ")}`);
}

export async function removeBurstFiles(hosts: TestCluster): Promise<void> {
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, `rm -f ${SYNC_DIR}/burst-*.bin; rm -rf ${SYNC_DIR}/.lsyncd-tmp/*`)));
}

// ---------------------------------------------------------------- article

/** Lua string literal for values we control (addresses, paths, ssh options). */
function luaString(s: string): string {
  if (!/^[A-Za-z0-9 ._\/=:@-]*$/.test(s)) throw new Error(`refusing to quote ${JSON.stringify(s)} for Lua`);
  return `"${s}"`;
}

/**
 * The article's lsyncd.conf.lua for one host, with only what these hosts need changed:
 * source/targetdir are the sync dir, `host` is the target's address, and ssh logs in as
 * root with the host's sync key and the pinned known_hosts entry (HostKeyAlias).
 */
export function renderArticleConf(syncDir: string, targets: ReadonlyArray<{ address: string; alias: string }>): string {
  const syncs = targets.map((t) => {
    const ssh = `/usr/bin/ssh -l root -i ${SYNC_KEY} -o UserKnownHostsFile=${KNOWN_HOSTS} -o HostKeyAlias=${t.alias}`;
    return [
      "sync {",
      "  default.rsyncssh,",
      `  source = ${luaString(syncDir)},`,
      `  host = ${luaString(t.address)},`,
      `  targetdir = ${luaString(syncDir)},`,
      "  rsync = {",
      `       _extra = { "-ausS", "--temp-dir=/tmp", "-e", ${luaString(ssh)} }`,
      "  },",
      "  delay = 3,",
      "}",
    ].join("\n");
  });
  return [
    "-- lsyncd-cluster bench: the article's settings (seed-article.md)",
    "settings {",
    `  logfile    = ${luaString(LSYNCD_LOG)},`,
    `  statusFile = ${luaString("/var/log/lsyncd/lsyncd.status")},`,
    "  statusInterval = 5,",
    "}",
    "",
    syncs.join("\n\n"),
    "",
  ].join("\n");
}

/** Keep the deployed config (once) so `tuned` can start from it after `article` replaced it. */
async function keepDeployedConf(hosts: TestCluster): Promise<void> {
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, `cp -n ${LSYNCD_CONF} ${DEPLOYED_CONF}`)));
}

async function prepareArticle(hosts: TestCluster): Promise<void> {
  await keepDeployedConf(hosts);
  const keys = new Map<string, string>();
  for (const h of hosts.hosts) keys.set(h.name, (await run(hosts, h, `cat ${SYNC_KEY}.pub`)).trim());
  // rsyncssh runs mv/rm over ssh, which rrsync forbids: authorize each pusher for root on its targets.
  for (const h of hosts.hosts) {
    for (const t of targetsOf(hosts, h)) {
      await run(hosts, t, `install -d -m 0700 /root/.ssh && cat >> /root/.ssh/authorized_keys`, `${keys.get(h.name)} lsc-bench-article:${h.name}\n`);
    }
  }
  await Promise.all(
    hosts.hosts.map((h) =>
      run(
        hosts,
        h,
        `cat > ${LSYNCD_CONF}`,
        renderArticleConf(SYNC_DIR, targetsOf(hosts, h).map((t) => ({ address: t.address, alias: alias(t) }))),
      ),
    ),
  );
  // Prove the article's ssh line works before lsyncd relies on it.
  for (const h of hosts.hosts) {
    for (const t of targetsOf(hosts, h)) {
      await run(hosts, h, `/usr/bin/ssh -l root -i ${SYNC_KEY} -o BatchMode=yes -o UserKnownHostsFile=${KNOWN_HOSTS} -o HostKeyAlias=${alias(t)} ${t.address} true`);
    }
  }
  await startLsyncdEverywhere(hosts);
}

// ---------------------------------------------------------------- floor

const FLOOR_RSYNC = `rsync -a --whole-file -e "ssh -F ${SSH_CONFIG}"`;

async function prepareFloor(hosts: TestCluster): Promise<void> {
  const [node01, node02] = hosts.nodes;
  // node01 knows only the exchange: teach it node02 (address, pinned key), and let node02
  // accept node01's sync key with the same restricted rrsync line the exchange uses.
  await run(
    hosts,
    node01,
    `cat >> ${SSH_CONFIG}`,
    `\nHost ${alias(node02)}\n  HostName ${node02.address}\n  Port ${node02.port}\n  User lsyncd-sync\n  HostKeyAlias ${alias(node02)}\n`,
  );
  await run(hosts, node01, `cat >> ${KNOWN_HOSTS}`, `${alias(node02)} ${node02.hostKey}\n`);
  const line = (await run(hosts, hosts.exchange, `grep ' lsyncd-cluster:${node01.name}$' ${SYNC_AUTHORIZED_KEYS}`)).trim();
  if (!line.startsWith("restrict,command=")) throw new Error(`unexpected authorized_keys line for ${node01.name} on the exchange: ${line}`);
  await run(hosts, node02, `cat >> ${SYNC_AUTHORIZED_KEYS}`, `${line}\n`);
  // Open the ssh master now (as lsyncd's startup sync does for the defaults).
  await run(hosts, node01, `: > /tmp/lsc-floor-probe && ${FLOOR_RSYNC} /tmp/lsc-floor-probe ${alias(node02)}:/ && rm -f /tmp/lsc-floor-probe`);
  await run(hosts, node02, `rm -f ${SYNC_DIR}/lsc-floor-probe`);
}

// ---------------------------------------------------------------- tuned

/**
 * The change this benchmark suggests next, tried on the bench hosts only: an origin-aware
 * relay. The exchange relays every arrival to EVERY node, the one it came from included;
 * that push transfers nothing (same size and mtime) but costs a whole rsync run on both
 * ends (see the fixed price per run). Here each node pushes through its own temp dir on
 * the exchange (`/.lsyncd-tmp/<node>/`), so the rename that completes an arrival names its
 * origin, and the exchange's sync towards that node drops it. Everything else as deployed.
 */
const SYNC_LOOP = "    local s = Syncs.get(n)\n";
const RELAY_MOVE = 'if RELAY_ARRIVALS and etype == "Move" and path2 ~= nil and not inTemp(path2) then';
const NODE_TEMP = 'temp_dir = "/.lsyncd-tmp/",';

function exactlyOnce(conf: string, text: string, what: string): void {
  const at = conf.indexOf(text);
  if (at < 0 || conf.indexOf(text, at + 1) >= 0) {
    throw new Error(`deployed lsyncd config does not contain ${what} exactly once (\`${text.trim()}\`); the tuned profile no longer applies`);
  }
}

/** Exchange side: the sync towards node X does not relay what arrived through X's temp dir. */
export function withOriginAwareRelay(conf: string): string {
  exactlyOnce(conf, SYNC_LOOP, "the per-sync loop");
  exactlyOnce(conf, RELAY_MOVE, "the relay of a temp-dir rename");
  const origin = `    local origin = "/.lsyncd-tmp/" .. (tostring(s.config.target):match("^lsc%-([^:]+):") or "?") .. "/" -- bench (tuned)\n`;
  return conf
    .replace(SYNC_LOOP, `${SYNC_LOOP}${origin}`)
    .replace(RELAY_MOVE, RELAY_MOVE.replace(" then", " and path:sub(1, #origin) ~= origin then -- bench (tuned): not back to its origin"));
}

/** Node side: push through a temp dir of its own on the exchange. */
export function withOwnTempDir(conf: string, node: string): string {
  exactlyOnce(conf, NODE_TEMP, "the temp_dir setting");
  return conf.replace(NODE_TEMP, `temp_dir = "/.lsyncd-tmp/${node}/", -- bench (tuned)`);
}

async function prepareTuned(hosts: TestCluster): Promise<void> {
  await keepDeployedConf(hosts);
  await stopLsyncdEverywhere(hosts);
  const confs = new Map<string, string>();
  for (const h of hosts.hosts) {
    const deployed = await run(hosts, h, `cat ${DEPLOYED_CONF}`);
    confs.set(h.name, h === hosts.exchange ? withOriginAwareRelay(deployed) : withOwnTempDir(deployed, h.name));
  }
  // rrsync insists that --temp-dir exists: one per node on the exchange, like the shared one.
  const tmp = `${SYNC_DIR}/.lsyncd-tmp`;
  await run(
    hosts,
    hosts.exchange,
    hosts.nodes.map((n) => `mkdir -p ${tmp}/${n.name} && chown --reference=${tmp} ${tmp}/${n.name} && chmod --reference=${tmp} ${tmp}/${n.name}`).join(" && "),
  );
  for (const h of hosts.hosts) await run(hosts, h, `cat > ${LSYNCD_CONF}`, confs.get(h.name));
  await startLsyncdEverywhere(hosts);
}

// ---------------------------------------------------------------- the profiles

export const PROFILES: Record<ProfileName, Profile> = {
  defaults: {
    name: "defaults",
    description: "the program's defaults as deployed (default.rsync via rrsync, delay 0, maxProcesses 1, ssh ControlMaster)",
    prepare: assertLsyncdRunning,
    watchers: (h) => [h.nodes[1], h.nodes[2]],
    relay: (h) => h.exchange,
    burstTargets: (h) => [h.exchange, ...h.nodes.slice(1)],
    gapMs: 1500,
  },
  article: {
    name: "article",
    description: "the article's config: default.rsyncssh, -ausS --temp-dir=/tmp, delay 3, new ssh per rsync, root login",
    prepare: prepareArticle,
    watchers: (h) => [h.nodes[1], h.nodes[2]],
    relay: (h) => h.exchange,
    burstTargets: (h) => [h.exchange, ...h.nodes.slice(1)],
    gapMs: 500,
  },
  floor: {
    name: "floor",
    description: "no lsyncd: one direct rsync node01 → node02 over the same ssh (ControlMaster, rrsync) right after the write",
    prepare: prepareFloor,
    watchers: (h) => [h.nodes[1]],
    relay: () => undefined,
    burstTargets: (h) => [h.nodes[1]],
    afterWrite: (file) => `${FLOOR_RSYNC} ${file} lsc-node02:/`,
    afterBurst: (glob) => `${FLOOR_RSYNC} ${glob} lsc-node02:/`,
    gapMs: 200,
  },
  tuned: {
    name: "tuned",
    description: "suggested change, tried on the bench hosts only: as deployed, plus an origin-aware relay — each node pushes through its own temp dir on the exchange, and the exchange does not relay an arrival back to the node it came from",
    prepare: prepareTuned,
    watchers: (h) => [h.nodes[1], h.nodes[2]],
    relay: (h) => h.exchange,
    burstTargets: (h) => [h.exchange, ...h.nodes.slice(1)],
    gapMs: 1500,
  },
};
