// The things compared, all on the same deployed test hosts:
//   defaults    — the program's own config, as deployed;
//   article     — the source article's lsyncd config shape (default.rsyncssh, delay = 3, a
//                 new ssh connection per rsync, temp dir /tmp) on the same hosts and keys;
//   floor       — no lsyncd: one direct rsync node01 → node02 over the same ssh setup,
//                 started the moment the write has finished (the physical floor of one hop);
//   relay-floor — no lsyncd: the mesh's three copies by direct rsync, hop by hop.
//   mesh-floor  — the relay-floor as the mesh's design must make it: the quiet period first,
//                 then each hop with the mesh's own rsync options (per-pusher temp dir and
//                 kept versions). What is left between it and the defaults is lsyncd's own
//                 work: its events, batches and pipelining.
import { run, SYNC_DIR } from "../testing/harness/cluster";
import { TestCluster, TestHost } from "../testing/fixture/testHosts";
import { DAEMON_ARCHIVE, sleep } from "./measure";
import { lsyncdShape } from "../components/config/commonKeys";
import {
  KNOWN_HOSTS,
  LSYNCD_CONF,
  LSYNCD_LOG,
  SSH_CONFIG,
  SYNC_AUTHORIZED_KEYS,
  SYNC_KEY,
  peerAlias,
  pusherReplacedDir,
  pusherTempDir,
  targetOf,
} from "../components/hostLayout";

export type ProfileName = "defaults" | "article" | "floor" | "relay-floor" | "mesh-floor";
/** The order they run in on one fixture. */
export const PROFILE_NAMES: readonly ProfileName[] = ["defaults", "article", "floor", "relay-floor", "mesh-floor"];

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
  /** then, once node01's exec returned, shell run in another host, given the same path or glob */
  thenOn?(hosts: TestCluster, pathOrGlob: string): { host: TestHost; cmd: string };
  /** pause after each sample, so the next starts on idle daemons (echo pushes settled) */
  readonly gapMs: number;
}

const alias = (h: TestHost): string => peerAlias(h.name);
/** A host's rsync module as the program's pushers address it. */
const moduleOf = (h: TestHost): string => targetOf(h.name);
/** Who a host pushes to in hub-and-spoke: the exchange pushes to every node, a node to the exchange. */
const targetsOf = (hosts: TestCluster, h: TestHost): TestHost[] => (h === hosts.exchange ? hosts.nodes : [hosts.exchange]);

// ---------------------------------------------------------------- shared steps

function lsyncdPids(hosts: TestCluster, h: TestHost): number[] {
  return hosts
    .processes(h)
    .filter((p) => p.comm === "lsyncd")
    .map((p) => p.pid);
}

export async function stopLsyncdEverywhere(hosts: TestCluster): Promise<void> {
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, "systemctl stop lsyncd")));
  for (let i = 0; i < 100 && hosts.hosts.some((h) => lsyncdPids(hosts, h).length > 0); i++) await sleep(100);
  const left = hosts.hosts.filter((h) => lsyncdPids(hosts, h).length > 0).map((h) => h.name);
  if (left.length) throw new Error(`lsyncd still running after stop on ${left.join(", ")}`);
}

/** Start lsyncd on every host and wait until each sync{} reported its startup sync finished. */
export async function startLsyncdEverywhere(hosts: TestCluster): Promise<void> {
  const offsets = await Promise.all(
    hosts.hosts.map(async (h) => Number((await run(hosts, h, `stat -c %s ${LSYNCD_LOG} 2>/dev/null || echo 0`)).trim())),
  );
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, "systemctl start lsyncd")));
  await Promise.all(
    hosts.hosts.map(async (h, i) => {
      const want = targetsOf(hosts, h).length;
      for (let t = 0; t < 600; t++) {
        const log = await run(hosts, h, `tail -c +${offsets[i] + 1} ${LSYNCD_LOG} 2>/dev/null || true`);
        const done = (log.match(/Startup of .* finished/g) ?? []).length;
        if (done >= want) return;
        if (/Error|error:/.test(log) && lsyncdPids(hosts, h).length === 0)
          throw new Error(`lsyncd on ${h.name} died at startup:\n${log.slice(-2000)}`);
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

/** What the bursts leave in a sync dir: their files, and the new-directory bursts' albums. */
const REMOVE_BURSTS = `rm -rf ${SYNC_DIR}/burst-*.bin ${SYNC_DIR}/album-*/`;

export async function removeBurstFiles(hosts: TestCluster): Promise<void> {
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, `${REMOVE_BURSTS}; rm -rf ${SYNC_DIR}/.lsyncd-tmp/*`)));
}

/**
 * Before every burst (burstSeries): every host back to an empty sync dir of bursts, so each
 * burst lands on the same disk. Left in place, the 2 GiB disks filled up and later bursts
 * ran into their writeback (measured: 2.3 s → 5.4 s for the same burst once 24,000 files
 * were there). Where lsyncd runs it is stopped meanwhile: removed by hand on running
 * hosts, the names would go out as deletes (and the exchange's fuse hold them).
 */
export async function emptyBeforeBurst(hosts: TestCluster): Promise<void> {
  const lsyncdRuns = hosts.hosts.some((h) => lsyncdPids(hosts, h).length > 0);
  if (lsyncdRuns) await stopLsyncdEverywhere(hosts);
  await emptyBurstFiles(hosts);
  if (lsyncdRuns) await startLsyncdEverywhere(hosts);
}

/** The bursts' files removed and the deletions written out, so the next burst meets no writeback of them. */
export async function emptyBurstFiles(hosts: TestCluster): Promise<void> {
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, `${REMOVE_BURSTS} && sync`)));
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

async function prepareArticle(hosts: TestCluster): Promise<void> {
  const keys = new Map<string, string>();
  for (const h of hosts.hosts) keys.set(h.name, (await run(hosts, h, `cat ${SYNC_KEY}.pub`)).trim());
  // rsyncssh runs mv/rm over ssh, which the forced rsync daemon forbids: authorize each pusher for root on its targets.
  for (const h of hosts.hosts) {
    for (const t of targetsOf(hosts, h)) {
      await run(
        hosts,
        t,
        `install -d -m 0700 /root/.ssh && cat >> /root/.ssh/authorized_keys`,
        `${keys.get(h.name)} lsc-bench-article:${h.name}\n`,
      );
    }
  }
  await Promise.all(
    hosts.hosts.map((h) =>
      run(
        hosts,
        h,
        `cat > ${LSYNCD_CONF}`,
        renderArticleConf(
          SYNC_DIR,
          targetsOf(hosts, h).map((t) => ({ address: t.address, alias: alias(t) })),
        ),
      ),
    ),
  );
  // Prove the article's ssh line works before lsyncd relies on it.
  for (const h of hosts.hosts) {
    for (const t of targetsOf(hosts, h)) {
      await run(
        hosts,
        h,
        `/usr/bin/ssh -l root -i ${SYNC_KEY} -o BatchMode=yes -o UserKnownHostsFile=${KNOWN_HOSTS} -o HostKeyAlias=${alias(t)} ${t.address} true`,
      );
    }
  }
  await startLsyncdEverywhere(hosts);
}

// ---------------------------------------------------------------- floor

export const FLOOR_RSYNC = `rsync ${DAEMON_ARCHIVE} --whole-file -e "ssh -F ${SSH_CONFIG}"`;
/** node02's rsync module, reached through node01's ssh setup (forced daemon, as lsyncd uses). */
const FLOOR_TARGET = targetOf("node02");

async function prepareFloor(hosts: TestCluster): Promise<void> {
  const [node01, node02] = hosts.nodes;
  // node01 knows only the exchange: teach it node02 (address, pinned key), and let node02
  // accept node01's sync key with the same forced-daemon line the exchange uses.
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
  await run(hosts, node01, `: > /tmp/lsc-floor-probe && ${FLOOR_RSYNC} /tmp/lsc-floor-probe ${FLOOR_TARGET} && rm -f /tmp/lsc-floor-probe`);
  await run(hosts, node02, `rm -f ${SYNC_DIR}/lsc-floor-probe`);
}

// ---------------------------------------------------------------- relay-floor

/**
 * No lsyncd: the same three copies the mesh makes, by direct rsync over the deployed ssh
 * setup — node01 → exchange right after the write, then the exchange → node02 and node03
 * at once the moment that returns. What a perfect relay could do on these shared CPUs.
 * No -l: the forced daemon refuses links (rsyncdConf.ts) and the mesh does not sync them.
 */
export const RELAY_RSYNC = `rsync -ptu --whole-file -e "ssh -F ${SSH_CONFIG}"`;

/** The nodes the exchange relays a write on node01 to. */
const relayedTo = (hosts: TestCluster): TestHost[] => hosts.nodes.slice(1);

/** rsync `files` to every target at once (with `rsync`, default RELAY_RSYNC); fails if any of them fails. */
function rsyncToAll(files: string, targets: readonly TestHost[], rsync = RELAY_RSYNC): string {
  const starts = targets.map((t) => `${rsync} ${files} ${moduleOf(t)} & pids="$pids $!"`);
  return `pids=; ${starts.join("; ")}; for p in $pids; do wait "$p" || exit 1; done`;
}

// ---------------------------------------------------------------- mesh-floor

/** The program's default lsyncd.quietPeriod, seconds: how long the defaults hold a new file. */
export const DEFAULT_QUIET_SECONDS: number = lsyncdShape.quietPeriod.parse(undefined);

/**
 * What the mesh's pushes from `pusher` pass rsync besides the file list (lsyncdConf.ts):
 * the pusher's temp dir on the receiver (how its intake knows an arrival), the versions a
 * push replaces kept in the pusher's .replaced/, directory times left alone, nanosecond
 * mtimes. No --update, as in the mesh.
 */
export const meshRsync = (pusher: string): string =>
  `rsync -ptW --temp-dir=${pusherTempDir(pusher)} --omit-dir-times --modify-window=-1 --backup --backup-dir=${pusherReplacedDir(pusher)} -e "ssh -F ${SSH_CONFIG}"`;

async function prepareRelayFloor(hosts: TestCluster): Promise<void> {
  // Open every ssh master now (as lsyncd's startup sync does for the defaults).
  const probe = (targets: readonly TestHost[]) =>
    `: > /tmp/lsc-probe && { ${rsyncToAll("/tmp/lsc-probe", targets)}; } && rm -f /tmp/lsc-probe`;
  await run(hosts, hosts.nodes[0], probe([hosts.exchange]));
  await run(hosts, hosts.exchange, probe(relayedTo(hosts)));
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, `rm -f ${SYNC_DIR}/lsc-probe`)));
}

/**
 * The relay-floor's preparation, after each pusher's temp dir on each receiver is made again
 * as the trust step makes it (removeBurstFiles clears .lsyncd-tmp between profiles).
 */
async function prepareMeshFloor(hosts: TestCluster): Promise<void> {
  const tempDir = (pusher: TestHost) => `${SYNC_DIR}/${pusherTempDir(pusher.name)}`;
  // Who pushes to a host is whom it pushes to (hub and spoke).
  const make = (h: TestHost) => `install -d -m 2775 -o lsyncd-sync -g lsyncd-sync ${targetsOf(hosts, h).map(tempDir).join(" ")}`;
  await Promise.all(hosts.hosts.map((h) => run(hosts, h, make(h))));
  await prepareRelayFloor(hosts);
}

// ---------------------------------------------------------------- the profiles

/** Served by node02 and node03 through the exchange, which is watched for the hop split. */
const VIA_EXCHANGE: Pick<Profile, "watchers" | "relay" | "burstTargets"> = {
  watchers: (h) => relayedTo(h),
  relay: (h) => h.exchange,
  burstTargets: (h) => [h.exchange, ...relayedTo(h)],
};

export const PROFILES: Record<ProfileName, Profile> = {
  defaults: {
    name: "defaults",
    description:
      "the program's defaults as deployed (default.rsync into each peer's forced rsync daemon over ssh, delay 0, maxProcesses 1, ssh ControlMaster, the event intake)",
    prepare: assertLsyncdRunning,
    ...VIA_EXCHANGE,
    gapMs: 1500,
  },
  article: {
    name: "article",
    description: "the article's config: default.rsyncssh, -ausS --temp-dir=/tmp, delay 3, new ssh per rsync, root login",
    prepare: prepareArticle,
    ...VIA_EXCHANGE,
    gapMs: 500,
  },
  floor: {
    name: "floor",
    description: "no lsyncd: one direct rsync node01 → node02 over the same ssh (ControlMaster, forced rsync daemon) right after the write",
    prepare: prepareFloor,
    watchers: (h) => [h.nodes[1]],
    relay: () => undefined,
    burstTargets: (h) => [h.nodes[1]],
    afterWrite: (file) => `${FLOOR_RSYNC} ${file} ${FLOOR_TARGET}`,
    afterBurst: (glob) => `${FLOOR_RSYNC} ${glob} ${FLOOR_TARGET}`,
    gapMs: 200,
  },
  "relay-floor": {
    name: "relay-floor",
    description:
      "no lsyncd: the mesh's three copies by direct rsync over the same ssh setup: node01 → exchange right after the write, then exchange → node02 and node03 at once when that returns",
    prepare: prepareRelayFloor,
    ...VIA_EXCHANGE,
    afterWrite: (file) => `${RELAY_RSYNC} ${file} ${targetOf("exchange")}`,
    afterBurst: (glob) => `${RELAY_RSYNC} ${glob} ${targetOf("exchange")}`,
    thenOn: (hosts, files) => ({ host: hosts.exchange, cmd: rsyncToAll(files, relayedTo(hosts)) }),
    gapMs: 200,
  },
  "mesh-floor": {
    name: "mesh-floor",
    description: `no lsyncd: the relay-floor as the mesh's design must make it: ${DEFAULT_QUIET_SECONDS} s quiet period after the writer, then node01 → exchange and exchange → node02 and node03 with the mesh's rsync options (per-pusher --temp-dir, --backup into the pusher's .replaced/, --omit-dir-times, --modify-window=-1)`,
    prepare: prepareMeshFloor,
    ...VIA_EXCHANGE,
    afterWrite: (file) => `sleep ${DEFAULT_QUIET_SECONDS} && ${meshRsync("node01")} ${file} ${targetOf("exchange")}`,
    afterBurst: (glob) => `sleep ${DEFAULT_QUIET_SECONDS} && ${meshRsync("node01")} ${glob} ${targetOf("exchange")}`,
    thenOn: (hosts, files) => ({ host: hosts.exchange, cmd: rsyncToAll(files, relayedTo(hosts), meshRsync(hosts.exchange.name)) }),
    gapMs: 200,
  },
};
