// `npm run bench` (Linux, root): propagation latency, burst convergence and deploy time of
// the program's defaults vs the article's settings vs a direct rsync, in one run, on real
// test hosts (see bench/README.md). Writes bench/results/latest.{md,json} and its charts,
// and a dated copy of each.
//
// Knobs for trying things out (any of them set ⇒ results go to bench/results/tmp/):
//   BENCH_SAMPLES=n         propagation samples per profile (default 30)
//   BENCH_BURST_FILES=n     files in the burst (default 2000)
//   BENCH_PROFILES=a,b      subset of defaults,article,floor,relay-floor,mesh-floor (run in that order)
//   BENCH_SKIP_DEPLOY=1     skip the 2- and 4-node deploy measurements
//   BENCH_BURSTS=n          bursts per profile and per node-count series, the median is reported (default 3)
//   BENCH_SUBDIR_WRITES=n   defaults: single writes into a subdirectory, in rsync runs (default 5)
//   BENCH_PROFILES=none     no profile at all (scale only)
//   BENCH_IDLE_SECONDS=n    idle-cost window on the bench fixture (default 60; 0 skips it)
// Scale (issue 14), off unless asked for; each on fresh fixtures of its own:
//   BENCH_NODE_COUNTS=2,4,8        propagation, burst vs relay-floor, deploy per node count
//   BENCH_TREE_SIZES=10000,100000  restart, seed, propagation, lsyncd footprint per tree size
//   BENCH_TREE_FILE_BYTES=n        bytes per tree file (default 100)
//   BENCH_SCALE_SAMPLES=n          propagation samples per count / size (default 15)
//   BENCH_QUIET_PERIOD=s           deploy every fixture with this lsyncd.quietPeriod instead of the default
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as os from "os";
import { join } from "path";
import { LiveCluster, run, startCluster, SYNC_DIR } from "../testing/harness/cluster";
import { longestChain } from "../testing/harness/deploy";
import { TestCluster } from "../testing/fixture/testHosts";
import {
  burst,
  logOffsets,
  lsyncdLogCounts,
  rsyncRunCost,
  RsyncRunCost,
  cpuSnapshot,
  cpuUsed,
  CpuSnapshot,
  execOverhead,
  httpMissOverhead,
  idleCost,
  IdleCost,
  propagationSample,
  PropagationSample,
  sleep,
} from "./measure";
import { burstSeries } from "./burstSeries";
import { emptyBeforeBurst, PROFILE_NAMES, PROFILES, ProfileName, removeBurstFiles, stopLsyncdEverywhere } from "./profiles";
import {
  BenchResults,
  DeployResult,
  describeMachine,
  evaluateTargets,
  machineLine,
  ProfileResult,
  SubdirWrites,
  renderMarkdown,
  targetLines,
  writeResults,
} from "./report";
import { median, round, summarize } from "./stats";
import { measureNodeCount, measureTreeSizes, ScaleContext } from "./scale";
import { NodeCountResult, ScaleResults } from "./scaleReport";

const FILE_BYTES = 300 * 1024;
const BURST_BYTES = 50 * 1024;

const env = process.env;
const SAMPLES = Number(env.BENCH_SAMPLES ?? 30);
const BURST_FILES = Number(env.BENCH_BURST_FILES ?? 2000);
const ONLY =
  env.BENCH_PROFILES === "none" ? [] : env.BENCH_PROFILES ? (env.BENCH_PROFILES.split(",") as ProfileName[]) : [...PROFILE_NAMES];
const IDLE_SECONDS = Number(env.BENCH_IDLE_SECONDS ?? 60);
const numbers = (v: string | undefined): number[] => (v ? v.split(",").map((x) => Number(x.trim())) : []);
const NODE_COUNTS = numbers(env.BENCH_NODE_COUNTS);
const TREE_SIZES = numbers(env.BENCH_TREE_SIZES);
const TREE_FILE_BYTES = Number(env.BENCH_TREE_FILE_BYTES ?? 100);
const SCALE_SAMPLES = Number(env.BENCH_SCALE_SAMPLES ?? 15);
/** lsyncd.quietPeriod for every fixture (like-for-like with the floors, which wait for nothing); undefined = the program's default */
const QUIET_PERIOD = env.BENCH_QUIET_PERIOD === undefined ? undefined : Number(env.BENCH_QUIET_PERIOD);
const EXTRA_CONFIG = QUIET_PERIOD === undefined ? undefined : { lsyncd: { quietPeriod: QUIET_PERIOD } };
for (const [name, list] of [
  ["BENCH_NODE_COUNTS", NODE_COUNTS],
  ["BENCH_TREE_SIZES", TREE_SIZES],
] as const) {
  if (list.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${name} must be whole numbers ≥ 1, comma-separated`);
}
if (NODE_COUNTS.some((n) => n < 2 || n > 50)) throw new Error("BENCH_NODE_COUNTS: 2 to 50 nodes (node01 writes, the others receive)");
const SKIP_DEPLOY = env.BENCH_SKIP_DEPLOY === "1";
const BURSTS = Number(env.BENCH_BURSTS ?? 3);
/** defaults only: single writes into a subdirectory, counted in rsync runs */
const SUBDIR_WRITES = Number(env.BENCH_SUBDIR_WRITES ?? 5);
const TRIAL =
  env.BENCH_SAMPLES !== undefined ||
  env.BENCH_BURST_FILES !== undefined ||
  env.BENCH_PROFILES !== undefined ||
  SKIP_DEPLOY ||
  env.BENCH_BURSTS !== undefined ||
  env.BENCH_SUBDIR_WRITES !== undefined ||
  env.BENCH_IDLE_SECONDS !== undefined ||
  env.BENCH_SCALE_SAMPLES !== undefined ||
  env.BENCH_TREE_FILE_BYTES !== undefined ||
  env.BENCH_QUIET_PERIOD !== undefined;
const RESULTS_DIR = join(__dirname, "results", ...(TRIAL ? ["tmp"] : []));

const t0 = Date.now();
const log = (line: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);

/** Every fixture alive right now: torn down on any exit path, SIGINT included. */
const live = new Set<TestCluster>();
async function stopAll(): Promise<void> {
  for (const c of [...live]) {
    live.delete(c);
    try {
      await c.stop();
    } catch (e) {
      console.error(`cleanup of ${c.root} failed: ${(e as Error).message}`);
    }
  }
}
// A failing remote command also rejects the Pulumi resource's own promise, which nobody
// awaits; during a deploy that is expected (deploy() rejects with the same error, and
// startClusterNoted handles it), so it must not end the process. Anywhere else it does.
let deploying = 0;
process.on("unhandledRejection", (e) => {
  if (deploying > 0) return;
  console.error("unhandled rejection:", e);
  void stopAll().then(() => process.exit(1));
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    console.error(`\n${sig}: stopping the test hosts ...`);
    void stopAll().then(() => process.exit(130));
  });
}

async function measureProfile(hosts: TestCluster, name: ProfileName): Promise<ProfileResult> {
  const p = PROFILES[name];
  const [node01] = hosts.nodes;
  log(`${name}: preparing (${p.description})`);
  await p.prepare(hosts);

  const sample = (file: string): Promise<PropagationSample> =>
    propagationSample({
      hosts,
      source: node01,
      watchers: p.watchers(hosts),
      relay: p.relay(hosts),
      name: file,
      data: randomBytes(FILE_BYTES),
      afterWrite: p.afterWrite?.(`${SYNC_DIR}/${file}`),
      thenOn: p.thenOn?.(hosts, `${SYNC_DIR}/${file}`),
    });
  const warm = await sample(`lat-${name}-warmup.bin`);
  const sampleLog = await logOffsets(hosts);
  const sampleCpu0 = cpuSnapshot(hosts);
  log(`${name}: warm-up ${warm.totalMs} ms (discarded)`);
  await sleep(p.gapMs);
  const detail: PropagationSample[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const s = await sample(`lat-${name}-${String(i).padStart(3, "0")}.bin`);
    detail.push(s);
    if (i % 10 === 9 || i === SAMPLES - 1) log(`${name}: ${i + 1}/${SAMPLES} samples, last ${s.totalMs} ms`);
    await sleep(p.gapMs);
  }
  const samplesMs = detail.map((d) => d.totalMs);
  const propagationCpu = cpuUsed(sampleCpu0, cpuSnapshot(hosts));
  const propagationLog = await lsyncdLogCounts(hosts, sampleLog);

  // Several bursts, each into files of its own on emptied sync dirs (burstSeries says
  // why); the median one is reported (a single burst on shared CPUs was seen to vary by
  // ±15% from run to run). The defaults also burst
  // into a directory the writer makes first, as uploads into a new album land: lsyncd's
  // event for the directory took every later batch off the file list until issue 14 (1.71×
  // the hosts' CPU), which bursts into the sync dir's root never showed. And they burst
  // with each file written under a temp name and renamed in (README "Writers": never
  // served partial, so no quiet period): lsyncd sent each rename as a delete of a name no
  // peer had plus a create, 141-175 rsync runs and 5.5-5.9 s for such a burst until the
  // intake's rule 10 (issue 14, docs/performance.md), which in-place bursts never showed.
  type Series = "burst" | "new-directory burst" | "renamed-in burst";
  const series = async (which: Series) => {
    const intoNewDir = which === "new-directory burst";
    const one = async (k: number) => {
      await sleep(p.gapMs);
      const burstLog = await logOffsets(hosts);
      log(`${name}: ${which} ${k}/${BURSTS} of ${BURST_FILES} × ${BURST_BYTES / 1024} kB`);
      const files = `${SYNC_DIR}/burst-${name}-${k}-*.bin`;
      let before: CpuSnapshot | undefined;
      let after: CpuSnapshot | undefined;
      const b = await burst({
        hosts,
        source: node01,
        targets: p.burstTargets(hosts),
        ...(intoNewDir
          ? { newDir: `album-${name}-${k}`, prefix: "p" }
          : which === "renamed-in burst"
            ? { prefix: `burst-renamed-${name}-${k}` }
            : { prefix: `burst-${name}-${k}`, afterWrite: p.afterBurst?.(files), thenOn: p.thenOn?.(hosts, files) }),
        files: BURST_FILES,
        bytes: BURST_BYTES,
        writer: which === "renamed-in burst" ? "rename" : "inPlace",
        around: { before: () => (before = cpuSnapshot(hosts)), after: () => (after = cpuSnapshot(hosts)) },
      });
      const cpu = cpuUsed(before!, after!);
      log(
        `${name}: ${which} ${k} converged in ${b.seconds.toFixed(2)} s (writer ${b.writeSeconds.toFixed(2)} s; lsyncd CPU ${cpu.lsyncdSeconds.toFixed(2)} s; hosts CPU ${cpu.hostsTotalSeconds.toFixed(2)} s)`,
      );
      return { ...b, cpu, log: await lsyncdLogCounts(hosts, burstLog) };
    };
    const s = await burstSeries(
      BURSTS,
      () => emptyBeforeBurst(hosts),
      one,
      (r) => r.seconds,
    );
    const { log: logCounts, ...chosen } = s.chosen;
    return { chosen: { ...chosen, allSeconds: s.allSeconds }, logCounts };
  };
  // Defaults only: writes into a subdirectory, where images usually live, counted in rsync
  // runs. A directory's mtime set by a receiving rsync was sent back as that host's own
  // change: 11 runs per write on these 4 hosts until issue 14's fix, one per copy (3) after.
  const subdirWrites = async (): Promise<SubdirWrites> => {
    await run(hosts, node01, `mkdir -p ${SYNC_DIR}/lat-sub`);
    await sleep(3000); // the directory's own copies settle first
    const offsets = await logOffsets(hosts);
    const ms: number[] = [];
    for (let i = 0; i < SUBDIR_WRITES; i++) {
      ms.push((await sample(`lat-sub/${String(i).padStart(3, "0")}.bin`)).totalMs);
      await sleep(p.gapMs);
    }
    await sleep(3000); // echoes, if any, come after the copies
    const counts = await lsyncdLogCounts(hosts, offsets);
    log(`${name}: ${SUBDIR_WRITES} writes into a subdirectory, ${counts.rsyncRuns} rsync runs, p50 ${median(ms) ?? 0} ms`);
    return {
      writes: SUBDIR_WRITES,
      copies: hosts.nodes.length, // node01 → exchange, then the exchange → every other node
      p50Ms: median(ms) ?? 0,
      rsyncRuns: counts.rsyncRuns,
      runsPerWrite: counts.rsyncRuns / SUBDIR_WRITES,
      retries: counts.retries,
    };
  };
  const subdir = name === "defaults" && SUBDIR_WRITES > 0 ? await subdirWrites() : undefined;

  const bursts = await series("burst");
  const newDir = name === "defaults" ? await series("new-directory burst") : undefined;
  const renamed = name === "defaults" ? await series("renamed-in burst") : undefined;
  return {
    description: p.description,
    propagation: {
      ...summarize(samplesMs),
      samplesMs,
      warmupMs: warm.totalMs,
      bytes: FILE_BYTES,
      split: {
        writtenMs: median(detail.map((d) => d.writtenMs)),
        relayMs: median(detail.map((d) => d.relayMs)),
        afterWriteMs: median(detail.map((d) => d.afterWriteMs)),
      },
      detail,
      cpu: propagationCpu,
    },
    burst: bursts.chosen,
    ...(newDir ? { burstNewDir: newDir.chosen } : {}),
    ...(renamed ? { burstRenamed: renamed.chosen } : {}),
    ...(subdir ? { subdirWrites: subdir } : {}),
    lsyncdLog: {
      propagation: propagationLog,
      burst: bursts.logCounts,
      ...(newDir ? { burstNewDir: newDir.logCounts } : {}),
      ...(renamed ? { burstRenamed: renamed.logCounts } : {}),
    },
  };
}

/**
 * startCluster, again on failure (at most 3 attempts, fresh hosts each time): a deploy can
 * lose a race the benchmark must not hide, so every failed attempt becomes a note.
 */
async function startClusterNoted(nodes: number, opts: { root: string; addressBase: string; diskMiB?: number }): Promise<LiveCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      deploying++;
      return await startCluster(nodes, { ...opts, extraConfig: EXTRA_CONFIG });
    } catch (e) {
      const first = (e as Error).message.split("\n").slice(0, 3).join(" | ");
      notes.push(`deploy of ${nodes} nodes on ${opts.addressBase}.x, attempt ${attempt} FAILED: ${first}`);
      log(`deploy attempt ${attempt} failed: ${first}`);
      if (attempt >= 3) throw e;
    } finally {
      deploying--;
    }
  }
}

async function measureDeploy(
  nodes: number,
  root: string,
  addressBase: string,
): Promise<{ seconds: number; chain: number; commands: number }> {
  log(`deploy: ${nodes} nodes on fresh test hosts (${addressBase}.x)`);
  const c = await startClusterNoted(nodes, { root, addressBase });
  live.add(c.hosts);
  try {
    const chain = longestChain(c.deployment.ran);
    log(
      `deploy: ${nodes} nodes in ${(c.deployment.wallMs / 1000).toFixed(1)} s, ${c.deployment.ran.length} commands, longest chain ${chain}`,
    );
    return { seconds: c.deployment.wallMs / 1000, chain, commands: c.deployment.ran.length };
  } finally {
    live.delete(c.hosts);
    await c.hosts.stop();
  }
}

/** The commit measured, and whether the files that shape the deployed config differ from it. */
function sourceRevision(): string {
  const git = (...args: string[]): string => spawnSync("git", args, { cwd: join(__dirname, ".."), encoding: "utf8" }).stdout?.trim() ?? "";
  const head = git("rev-parse", "--short", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--", "components", "index.ts");
  return `commit ${head}${dirty ? " + uncommitted changes in components/ or index.ts" : ""}`;
}

const notes: string[] = [];

async function main(): Promise<void> {
  if (process.platform !== "linux" || process.getuid?.() !== 0)
    throw new Error("the benchmark makes test hosts (namespaces, loop devices): run it as root on Linux");
  const machineInfo = describeMachine();
  notes.push(`program under test: ${sourceRevision()}`);
  notes.push(
    QUIET_PERIOD === undefined
      ? "lsyncd.quietPeriod: the program's default (1 s): every local write waits until quiet for 1 s before it is pushed, by design; the floors wait for nothing"
      : `lsyncd.quietPeriod: ${QUIET_PERIOD} s on every fixture (BENCH_QUIET_PERIOD)`,
  );
  const startedAt = new Date(t0).toISOString();
  log(`machine: ${machineLine(machineInfo)}; load ${machineInfo.loadAvgAtStart.join(" ")}`);
  const profiles: Partial<Record<ProfileName, ProfileResult>> = {};
  let rsyncCost: RsyncRunCost | undefined;

  log("starting the bench fixture (exchange + 3 nodes on 127.0.40.x) and deploying the defaults");
  // Disks big enough for every profile's bursts (100 MB each at the defaults).
  const main = await startClusterNoted(3, { root: "/tmp/lsc-bench", addressBase: "127.0.40", diskMiB: 2048 });
  live.add(main.hosts);
  const hosts = main.hosts;
  let harness: BenchResults["harness"];
  let idle: IdleCost | undefined;
  try {
    log(`deployed in ${(main.deployment.wallMs / 1000).toFixed(1)} s`);
    const execNoop = await execOverhead(hosts, hosts.nodes[0], 30);
    const httpMiss = await httpMissOverhead(hosts.nodes[1], 30);
    harness = { execNoopMs: summarize(execNoop.map((v) => round(v, 2))), httpMissMs: summarize(httpMiss.map((v) => round(v, 2))) };
    log(`harness: no-op exec p50 ${harness.execNoopMs.p50Ms} ms, HTTP 404 poll p50 ${harness.httpMissMs.p50Ms} ms`);
    if (IDLE_SECONDS > 0) {
      log(`idle: nothing written for ${IDLE_SECONDS} s`);
      idle = await idleCost(hosts, IDLE_SECONDS);
      log(
        `idle: ${Object.entries(idle.hostCpuPercent)
          .map(([h, v]) => `${h} ${v.toFixed(3)}%`)
          .join(", ")} of a CPU`,
      );
    }

    for (const name of PROFILE_NAMES.filter((n) => ONLY.includes(n))) {
      if (name !== "defaults") {
        await stopLsyncdEverywhere(hosts);
        await removeBurstFiles(hosts);
      }
      profiles[name] = await measureProfile(hosts, name);
      if (name === "floor" && profiles.defaults) {
        // lsyncd is stopped now: the fixed price of one rsync run that transfers nothing.
        rsyncCost = await rsyncRunCost(hosts, hosts.nodes[0], hosts.exchange, "lat-defaults-000.bin", 20);
        log(`one no-op rsync run node01 → exchange: ${rsyncCost.wallMs.toFixed(0)} ms wall, ${rsyncCost.cpuSeconds.toFixed(3)} CPU s`);
      }
    }
    for (const [n, p] of Object.entries(profiles)) {
      for (const [phase, cpu] of [
        ["samples", p.propagation.cpu],
        ["burst", p.burst.cpu],
      ] as const) {
        if (cpu.otherCpus > 0.25) {
          notes.push(
            `CONTENDED: ${n} ${phase} ran while ${cpu.otherCpus.toFixed(2)} of ${os.cpus().length} CPUs did other work (unattributed CPU); its times are inflated, compare with care.`,
          );
        }
      }
    }
    const restarts = Object.entries(profiles).filter(([, p]) => p && p.burst.cpu.restarted > 0);
    for (const [n, p] of restarts)
      notes.push(`${n}: ${p.burst.cpu.restarted} lsyncd process(es) appeared or vanished during the burst; its CPU sum is incomplete.`);
  } finally {
    live.delete(hosts);
    await hosts.stop();
  }

  let deploy: DeployResult | undefined;
  if (!SKIP_DEPLOY) {
    const d2 = await measureDeploy(2, "/tmp/lsc-bench-d2", "127.0.41");
    const d4 = await measureDeploy(4, "/tmp/lsc-bench-d4", "127.0.42");
    deploy = {
      nodes2Seconds: round(d2.seconds, 2),
      nodes4Seconds: round(d4.seconds, 2),
      chain2: d2.chain,
      chain4: d4.chain,
      commands2: d2.commands,
      commands4: d4.commands,
      nodes3Seconds: round(main.deployment.wallMs / 1000, 2),
      chain3: longestChain(main.deployment.ran),
    };
  }

  let scale: ScaleResults | undefined;
  if (NODE_COUNTS.length || TREE_SIZES.length) {
    const ctx: ScaleContext = {
      log,
      start: async (nodes, opts) => {
        const c = await startClusterNoted(nodes, opts);
        live.add(c.hosts);
        return c;
      },
      // A teardown failure is a note: thrown from a finally it would hide the error that ended the measurement.
      stop: async (c) => {
        live.delete(c.hosts);
        try {
          await c.hosts.stop();
        } catch (e) {
          notes.push(`teardown of ${c.hosts.root} failed: ${(e as Error).message.split("\n")[0]}`);
        }
      },
      samples: SCALE_SAMPLES,
      burstFiles: BURST_FILES,
      bursts: BURSTS,
      note: (line) => {
        notes.push(`scale: ${line}`);
        log(`scale: ${line}`);
      },
    };
    const nodeCounts: NodeCountResult[] = [];
    // One address block per fixture (127.0.50.x, 127.0.51.x, ...), each torn down before the next.
    // A failure is a note, not a lost run: what was measured before it is still written.
    const noted = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await f();
      } catch (e) {
        const first = (e as Error).message.split("\n").slice(0, 3).join(" | ");
        notes.push(`scale: ${what} FAILED: ${first}`);
        log(`scale: ${what} failed: ${first}`);
        return undefined;
      }
    };
    for (const [i, n] of [...NODE_COUNTS].sort((a, b) => a - b).entries()) {
      const r = await noted(`${n} nodes`, () => measureNodeCount(ctx, n, `127.0.${50 + i}`));
      if (r) nodeCounts.push(r);
    }
    const treeSizes = TREE_SIZES.length
      ? await noted(`tree sizes ${TREE_SIZES.join(",")}`, () => measureTreeSizes(ctx, TREE_SIZES, TREE_FILE_BYTES, "127.0.60"))
      : undefined;
    scale = { nodeCounts: nodeCounts.length ? nodeCounts : undefined, treeSizes };
  }

  const partial = { profiles, deploy, idle, scale };
  const results: BenchResults = {
    machine: machineLine(machineInfo),
    machineInfo,
    startedAt,
    durationSeconds: (Date.now() - t0) / 1000,
    harness,
    rsyncRunCost: rsyncCost,
    profiles,
    deploy,
    idle,
    scale,
    targets: evaluateTargets(partial),
    notes,
  };
  notes.push(
    `load average at end: ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(" / ")} (this machine has ${os.cpus().length} CPUs; anything else running competes with the test hosts)`,
  );
  const written = writeResults(RESULTS_DIR, results);
  console.log(`\n${renderMarkdown(results)}`);
  console.log(targetLines(results.targets).join("\n"));
  console.log(`\nwritten: ${written.join(", ")}`);
}

main()
  .catch(async (e) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    await stopAll();
    process.exitCode = 1;
  })
  .finally(() => stopAll());
