// Issue 14, "Scale": how propagation, bursts, deploys and the exchange's CPU grow with the
// number of nodes, and how restarts, seeding, latency and lsyncd's footprint grow with the
// size of the tree. Each measurement is compared with its floor on the same fixture, side
// by side (see bench/README.md, "Scale").
import { readdirSync, readFileSync, statSync } from "fs";
import { randomBytes } from "crypto";
import { seedCreate } from "../components/scripts/seedScript";
import { stepRun } from "../components/remote/provider";
import { sh } from "../components/quote";
import { LiveCluster, run, SYNC_DIR } from "../testing/harness/cluster";
import { longestChain } from "../testing/harness/deploy";
import { TestCluster, TestHost } from "../testing/fixture/testHosts";
import {
  burst,
  burstClusterCpuSeconds,
  cpuSnapshot,
  DAEMON_ARCHIVE,
  logOffsets,
  lsyncdLogCounts,
  cpuUsed,
  CpuSnapshot,
  propagationSample,
  sleep,
} from "./measure";
import { burstSeries } from "./burstSeries";
import { emptyBeforeBurst, PROFILES, removeBurstFiles, stopLsyncdEverywhere } from "./profiles";
import { LsyncdFootprint, NodeCountResult, TreeSizeResult, TreeSizesResult } from "./scaleReport";
import { median, summarize } from "./stats";
import {
  LSYNCD_HEARTBEAT,
  LSYNCD_LOG,
  SSH_CONFIG,
  TEMP_DIR_PATTERN,
  alwaysExcluded,
  pusherTempDir,
  targetOf,
} from "../components/hostLayout";

export interface ScaleContext {
  readonly log: (line: string) => void;
  /** a fresh fixture with the defaults deployed; the caller tears it down on any exit */
  readonly start: (nodes: number, opts: { root: string; addressBase: string; diskMiB?: number }) => Promise<LiveCluster>;
  readonly stop: (c: LiveCluster) => Promise<void>;
  readonly samples: number;
  readonly burstFiles: number;
  /** bursts per series (node counts); the median one is reported */
  readonly bursts: number;
  /** a line for the report's notes */
  readonly note: (line: string) => void;
}

const FILE_BYTES = 300 * 1024;
const BURST_BYTES = 50 * 1024;
const GAP_MS = 1500;

async function propagation(hosts: TestCluster, samples: number, tag: string): Promise<NodeCountResult["propagation"]> {
  const [node01, ...others] = hosts.nodes;
  const one = (name: string) =>
    propagationSample({ hosts, source: node01, watchers: others, relay: hosts.exchange, name, data: randomBytes(FILE_BYTES) });
  await one(`lat-${tag}-warmup.bin`);
  await sleep(GAP_MS);
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    ms.push((await one(`lat-${tag}-${String(i).padStart(3, "0")}.bin`)).totalMs);
    await sleep(GAP_MS);
  }
  return { ...summarize(ms), samplesMs: ms };
}

// ---------------------------------------------------------------- node count

export async function measureNodeCount(ctx: ScaleContext, nodes: number, addressBase: string): Promise<NodeCountResult> {
  ctx.log(`scale: ${nodes} nodes, deploying on ${addressBase}.x`);
  const c = await ctx.start(nodes, { root: `/tmp/lsc-bench-n${nodes}`, addressBase, diskMiB: 1024 });
  try {
    const hosts = c.hosts;
    const chain = longestChain(c.deployment.ran);
    ctx.log(`scale: ${nodes} nodes deployed in ${(c.deployment.wallMs / 1000).toFixed(1)} s, chain ${chain}`);
    const prop = await propagation(hosts, ctx.samples, `n${nodes}`);
    ctx.log(`scale: ${nodes} nodes p50 ${prop.p50Ms} ms, p95 ${prop.p95Ms} ms`);

    // `writer: "rename"`: each file under a hidden temp name, then renamed in (README
    // "Writers"): no quiet period, so the mesh's own cost shows without that second.
    const fanOut = async (profile: "defaults" | "relay-floor", prefix: string, writer: "inPlace" | "rename") => {
      const p = PROFILES[profile];
      let before: CpuSnapshot | undefined;
      let after: CpuSnapshot | undefined;
      const file = (glob: string) => `${SYNC_DIR}/${glob}`;
      const logAt = await logOffsets(hosts);
      const b = await burst({
        hosts,
        source: hosts.nodes[0],
        targets: p.burstTargets(hosts),
        prefix,
        files: ctx.burstFiles,
        bytes: BURST_BYTES,
        writer,
        afterWrite: p.afterBurst?.(file(`${prefix}-*.bin`)),
        thenOn: p.thenOn?.(hosts, file(`${prefix}-*.bin`)),
        around: { before: () => (before = cpuSnapshot(hosts)), after: () => (after = cpuSnapshot(hosts)) },
      });
      const cpu = cpuUsed(before!, after!);
      const runs = profile === "defaults" ? (await lsyncdLogCounts(hosts, logAt)).rsyncRuns : undefined;
      return { b, cpu, runs, cpuSeconds: burstClusterCpuSeconds(b, cpu), exchange: cpu.hostSeconds[hosts.exchange.name] ?? 0 };
    };
    // ctx.bursts bursts per series, each on emptied sync dirs, the median (by time)
    // reported, as the main bench's series (burstSeries says why). For the mesh, lsyncd is
    // stopped while the dirs are emptied (emptyBeforeBurst says why); then the defaults'
    // own pause between bursts: the restart's settling is not the burst's.
    type FanOut = Awaited<ReturnType<typeof fanOut>>;
    const series = async (label: string, one: (k: number) => Promise<FanOut>) => {
      const empty = async () => {
        await emptyBeforeBurst(hosts);
        await sleep(GAP_MS);
      };
      const logged = async (k: number) => {
        const r = await one(k);
        ctx.log(`scale: ${nodes} nodes ${label} ${k}/${ctx.bursts}: ${r.b.seconds.toFixed(2)} s, ${r.cpuSeconds.toFixed(2)} CPU s`);
        return r;
      };
      const s = await burstSeries(ctx.bursts, empty, logged, (r) => r.b.seconds);
      return { ...s.chosen, allSeconds: s.allSeconds };
    };
    const mesh = await series("burst", (k) => fanOut("defaults", `burst-n${nodes}-${k}`, "inPlace"));
    // Its own prefix: "burst-nN-…" would also match these names (the probe counts by prefix).
    const renamed = await series("burst renamed in", (k) => fanOut("defaults", `burst-renamed-n${nodes}-${k}`, "rename"));
    await stopLsyncdEverywhere(hosts);
    await removeBurstFiles(hosts);
    await PROFILES["relay-floor"].prepare(hosts);
    const floor = await series("relay-floor burst", (k) => fanOut("relay-floor", `burst-floor-n${nodes}-${k}`, "inPlace"));
    // Copies the exchange sends: one per file per node other than the writer.
    const copies = ctx.burstFiles * (nodes - 1);
    return {
      nodes,
      deploySeconds: c.deployment.wallMs / 1000,
      chain,
      commands: c.deployment.ran.length,
      propagation: prop,
      burst: {
        files: ctx.burstFiles,
        seconds: mesh.b.seconds,
        cpuSeconds: mesh.cpuSeconds,
        exchangeCpuSeconds: mesh.exchange,
        exchangeCpuMsPerFilePerNode: (1000 * mesh.exchange) / copies,
        otherCpus: mesh.cpu.otherCpus,
        kindSeconds: mesh.cpu.kindSeconds,
        rsyncRuns: mesh.runs,
        allSeconds: mesh.allSeconds,
      },
      burstRenamed: {
        seconds: renamed.b.seconds,
        cpuSeconds: renamed.cpuSeconds,
        exchangeCpuSeconds: renamed.exchange,
        exchangeCpuMsPerFilePerNode: (1000 * renamed.exchange) / copies,
        otherCpus: renamed.cpu.otherCpus,
        kindSeconds: renamed.cpu.kindSeconds,
        rsyncRuns: renamed.runs,
        allSeconds: renamed.allSeconds,
      },
      relayFloorBurst: {
        allSeconds: floor.allSeconds,
        seconds: floor.b.seconds,
        cpuSeconds: floor.cpuSeconds,
        exchangeCpuSeconds: floor.exchange,
        kindSeconds: floor.cpu.kindSeconds,
        execCpuSeconds: floor.b.writerExecCpuSeconds + (floor.b.thenOnExecCpuSeconds ?? 0),
      },
    };
  } finally {
    await ctx.stop(c);
  }
}

// ---------------------------------------------------------------- tree size

export const TREE_DIR = `${SYNC_DIR}/tree`;
export const FILES_PER_DIR = 1000;
/** One fixed mtime (whole seconds, so nanoseconds are 0) makes every host's tree identical. */
const TREE_MTIME = 1_700_000_000;

/**
 * Grow the tree from `fromDirs` to `toDirs` directories of FILES_PER_DIR files, the same
 * bytes, modes and mtimes on every host it runs on (lsyncd's startup sync then has nothing
 * to send: size and mtime match to the nanosecond).
 */
export function growTreeCommand(fromDirs: number, toDirs: number, fileBytes: number): string {
  const perl =
    `my ($root, $from, $to, $per, $bytes, $t) = @ARGV; mkdir $root;` +
    ` for my $d ($from .. $to - 1) { my $dir = sprintf("%s/d%04d", $root, $d); mkdir $dir or die "$dir: $!";` +
    ` for my $f (0 .. $per - 1) { my $p = sprintf("%s/f%04d.bin", $dir, $f); open(my $o, ">", $p) or die "$p: $!";` +
    ` print $o substr(("$d/$f " x (1 + int($bytes / 4))), 0, $bytes); close($o) or die "$p: $!"; utime($t, $t, $p) }` +
    ` utime($t, $t, $dir) } utime($t, $t, $root);`;
  return `umask 022 && perl -e ${sh(perl)} ${TREE_DIR} ${fromDirs} ${toDirs} ${FILES_PER_DIR} ${fileBytes} ${TREE_MTIME}`;
}

const EXCLUDES = [TEMP_DIR_PATTERN, ...alwaysExcluded()].map((e) => `--exclude=${e}`).join(" ");
const RSH = `-e ${sh(`ssh -F ${SSH_CONFIG}`)}`;
/** The whole sync dir to a peer's daemon, as `rsync -a` (-n: list only) would if the daemon let it. */
export const copyTo = (to: TestHost, dryRun: boolean): string =>
  `rsync ${DAEMON_ARCHIVE}${dryRun ? "n" : ""} ${EXCLUDES} ${RSH} ${SYNC_DIR}/ ${targetOf(to.name)}`;

/**
 * run(), without its 2-minute limit: growing, copying or seeding a million files takes
 * longer than that on these shared CPUs (the first 1M attempt died of it).
 */
async function runLong(hosts: TestCluster, h: TestHost, cmd: string): Promise<string> {
  const r = await hosts.exec(h, cmd, { timeoutMs: 3_600_000 });
  if (r.code !== 0) throw new Error(`${h.name}: \`${cmd.slice(0, 200)}\` exited ${r.code}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

/** Wall seconds of one exec (the exec's own ~30 ms included: every compared side pays it). */
/**
 * Seconds `cmd` ran inside the host, stamped there: the exec that reaches the host (about
 * 36 ms here, see the harness overhead) is no part of what is compared.
 */
async function timed(hosts: TestCluster, h: TestHost, cmd: string): Promise<number> {
  const out = await runLong(hosts, h, `s=$(date +%s%N); { ${cmd}; } >/dev/null; rc=$?; e=$(date +%s%N); echo "LSC_TIMED $s $e"; exit $rc`);
  const m = /LSC_TIMED (\d+) (\d+)/.exec(out);
  if (!m) throw new Error(`no timing from ${h.name}: ${out}`);
  return Number(BigInt(m[2]) - BigInt(m[1])) / 1e9;
}

/** Read a file inside a host without an exec (polling must not take the CPU being measured). */
function inHost(h: TestHost, path: string): string {
  try {
    return readFileSync(`/proc/${h.initPid}/root${path}`, "utf8");
  } catch {
    return "";
  }
}
function mtimeMsInHost(h: TestHost, path: string): number {
  try {
    return statSync(`/proc/${h.initPid}/root${path}`).mtimeMs;
  } catch {
    return 0;
  }
}

async function stopLsyncdOn(hosts: TestCluster, h: TestHost): Promise<void> {
  await run(hosts, h, "systemctl stop lsyncd");
  for (let i = 0; i < 300 && hosts.processes(h).some((p) => p.comm === "lsyncd"); i++) await sleep(100);
  if (hosts.processes(h).some((p) => p.comm === "lsyncd")) throw new Error(`lsyncd on ${h.name} did not stop`);
}

/**
 * Start lsyncd on `h` and time it until ready: every sync{} logged "Startup of ... finished"
 * and the heartbeat file was rewritten after the start (what the health check reads).
 */
async function startUntilReady(hosts: TestCluster, h: TestHost, syncs: number): Promise<{ readySeconds: number; syncSeconds: number }> {
  const offset = inHost(h, LSYNCD_LOG).length;
  const before = Date.now();
  // Polled while the start command runs: a small tree is ready before it returns.
  const starting = run(hosts, h, "systemctl start lsyncd");
  let failed: Error | undefined;
  starting.catch((e: unknown) => (failed = e instanceof Error ? e : new Error(`systemctl start lsyncd on ${h.name}: ${String(e)}`)));
  // From lsyncd's own start, stamped by the fixture's systemctl right before it: that
  // shim's bash start-up (50-90 ms) and the exec into the host are not a restart's cost.
  let t0: number | undefined;
  let syncAt: number | undefined;
  for (;;) {
    const now = Date.now();
    if (t0 === undefined) {
      const started = Number(inHost(h, "/run/fixture-units/lsyncd.started").trim()) * 1000;
      if (started >= before - 5) t0 = started;
    }
    if (t0 !== undefined && syncAt === undefined) {
      const done = (
        inHost(h, LSYNCD_LOG)
          .slice(offset)
          .match(/Startup of .* finished/g) ?? []
      ).length;
      if (done >= syncs) syncAt = now;
    }
    if (t0 !== undefined && syncAt !== undefined && mtimeMsInHost(h, LSYNCD_HEARTBEAT) >= t0) {
      await starting;
      return { readySeconds: (now - t0) / 1000, syncSeconds: (syncAt - t0) / 1000 };
    }
    if (failed !== undefined) throw failed;
    if (now - before > 1_800_000) throw new Error(`lsyncd on ${h.name} not ready within 30 min`);
    await sleep(5);
  }
}

/** Resident memory and inotify watches of the host's lsyncd (read in /proc of this machine). */
function footprint(hosts: TestCluster, h: TestHost): LsyncdFootprint {
  const pid = hosts.processes(h).find((p) => p.comm === "lsyncd")?.pid;
  if (pid === undefined) return { rssKiB: 0, inotifyWatches: 0 };
  const rss = Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  let watches = 0;
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      watches += (readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8").match(/^inotify wd:/gm) ?? []).length;
    } catch {
      // fd closed meanwhile
    }
  }
  return { rssKiB: rss, inotifyWatches: watches };
}

function footprints(hosts: TestCluster): Record<string, LsyncdFootprint> {
  return Object.fromEntries(hosts.hosts.map((h) => [h.name, footprint(hosts, h)]));
}

export async function measureTreeSizes(
  ctx: ScaleContext,
  sizes: readonly number[],
  fileBytes: number,
  addressBase: string,
): Promise<TreeSizesResult> {
  const largest = Math.max(...sizes);
  // ext4 makes one inode per 16 KiB: room for the largest tree's inodes, and for a 4 KiB block per file.
  const diskMiB = Math.max(2048, Math.ceil((largest * 1.25 * 16) / 1024));
  ctx.log(`scale: tree sizes ${sizes.join(", ")} on exchange + 2 nodes, ${diskMiB} MiB disks (${addressBase}.x)`);
  const c = await ctx.start(2, { root: "/tmp/lsc-bench-tree", addressBase, diskMiB });
  try {
    const hosts = c.hosts;
    const { exchange } = hosts;
    const [node01, node02] = hosts.nodes;
    const emptyPropagation = await propagation(hosts, ctx.samples, "tree0");
    const emptyLsyncd = footprints(hosts);
    ctx.log(`scale: no tree: p50 ${emptyPropagation.p50Ms} ms`);
    const out: TreeSizeResult[] = [];
    let dirs = 0;
    // A size that fails ends the series but keeps what the smaller sizes measured.
    try {
      for (const files of [...sizes].sort((a, b) => a - b)) {
        const toDirs = Math.ceil(files / FILES_PER_DIR);
        await stopLsyncdEverywhere(hosts);
        const g0 = Date.now();
        await Promise.all(hosts.hosts.map((h) => runLong(hosts, h, growTreeCommand(dirs, toDirs, fileBytes))));
        const generateSeconds = (Date.now() - g0) / 1000;
        dirs = toDirs;
        ctx.log(`scale: ${files} files grown on every host in ${generateSeconds.toFixed(0)} s`);
        // The exchange pushes to both nodes, a node to the exchange: one startup sync per target.
        await Promise.all(hosts.hosts.map((h) => startUntilReady(hosts, h, h === exchange ? hosts.nodes.length : 1)));
        // Warm: one list-only pass brings the tree into every cache before anything is timed.
        await runLong(hosts, node01, copyTo(exchange, true));
        const reps = files <= 100_000 ? 3 : 1;
        const restart: Array<{ readySeconds: number; syncSeconds: number }> = [];
        const listFloor: number[] = [];
        const exRestart: number[] = [];
        const exFloor: number[] = [];
        for (let i = 0; i < reps; i++) {
          await stopLsyncdOn(hosts, node01);
          listFloor.push(await timed(hosts, node01, copyTo(exchange, true)));
          restart.push(await startUntilReady(hosts, node01, 1));
          await stopLsyncdOn(hosts, exchange);
          exFloor.push(await timed(hosts, exchange, `${copyTo(node01, true)} & a=$!; ${copyTo(node02, true)} && wait $a`));
          exRestart.push((await startUntilReady(hosts, exchange, 2)).readySeconds);
        }
        ctx.log(
          `scale: ${files} files: node01 ready ${median(restart.map((r) => r.readySeconds))} s vs list-only ${median(listFloor)} s; exchange ${median(exRestart)} s vs ${median(exFloor)} s`,
        );
        const propagationWithTree = await propagation(hosts, ctx.samples, `tree${files}`);
        const lsyncd = footprints(hosts);
        ctx.log(`scale: ${files} files: p50 ${propagationWithTree.p50Ms} ms; lsyncd ${JSON.stringify(lsyncd)}`);

        // A new node: node02 emptied (its lsyncd stopped), then filled by the deploy's own seed
        // step, or by a direct rsync. Alternated seed, copy, copy, seed (one pair from 1M
        // files on): whichever runs first meets colder caches, and the machine is shared.
        await stopLsyncdOn(hosts, node02);
        const empty = `rm -rf ${TREE_DIR} ${SYNC_DIR}/lat-*.bin`;
        // The seed step as the provider runs it for a new node: its first run.
        const seedStep = `bash -c ${sh(seedCreate(SYNC_DIR, exchange.name, node02.name, []))}`;
        const seedCmd = stepRun(seedStep, "create");
        // Diagnostics: the step's later run (a re-seed, through the exchange's temp dir), and
        // the direct copy with that --temp-dir (what the temp dir alone costs).
        const reseedCmd = stepRun(seedStep, "update");
        const viaTemp = `${copyTo(node02, false)} --temp-dir=${sh(pusherTempDir(exchange.name))}`;
        const seeds: number[] = [];
        const copies: number[] = [];
        const tempCopies: number[] = [];
        const reseeds: number[] = [];
        const order = ["seed", "copy", "temp", "reseed", "reseed", "temp", "copy", "seed"];
        // From 1M files on, each run takes a minute or more: no diagnostics, but still both
        // orders (the first run after the tree is grown meets its writeback).
        for (const which of reps > 1 ? order : ["seed", "copy", "copy", "seed"]) {
          await runLong(hosts, node02, empty);
          if (which === "seed") seeds.push(await timed(hosts, exchange, seedCmd));
          else if (which === "copy") copies.push(await timed(hosts, exchange, copyTo(node02, false)));
          else if (which === "temp") tempCopies.push(await timed(hosts, exchange, viaTemp));
          else reseeds.push(await timed(hosts, exchange, reseedCmd));
        }
        const seedSeconds = median(seeds)!;
        const copyFloorSeconds = median(copies)!;
        const join = await startUntilReady(hosts, node02, 1);
        ctx.log(
          `scale: ${files} files: seed ${seeds.join(", ")} s vs rsync ${copies.join(", ")} s (with --temp-dir ${tempCopies.join(", ")} s; re-seed ${reseeds.join(", ")} s); join ${join.readySeconds} s`,
        );
        out.push({
          files,
          dirs: toDirs,
          generateSeconds,
          restartSeconds: median(restart.map((r) => r.readySeconds))!,
          restartSyncSeconds: median(restart.map((r) => r.syncSeconds))!,
          listFloorSeconds: median(listFloor)!,
          exchangeRestartSeconds: median(exRestart)!,
          exchangeListFloorSeconds: median(exFloor)!,
          seedSeconds,
          copyFloorSeconds,
          seedRunsSeconds: seeds,
          copyRunsSeconds: copies,
          copyWithTempDirRunsSeconds: tempCopies,
          reseedRunsSeconds: reseeds,
          joinSeconds: join.readySeconds,
          propagation: propagationWithTree,
          lsyncd,
          reps,
        });
      }
    } catch (e) {
      ctx.note(`tree size after ${dirs * FILES_PER_DIR} files FAILED: ${(e as Error).message.split("\n").slice(0, 3).join(" | ")}`);
    }
    return { filesPerDir: FILES_PER_DIR, fileBytes, diskMiB, emptyPropagation, emptyLsyncd, sizes: out };
  } finally {
    await ctx.stop(c);
  }
}
