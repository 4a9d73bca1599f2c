// Results: their shape, the targets, the Markdown table, and the files written.
import { spawnSync } from "child_process";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as os from "os";
import { join } from "path";
import { renderLatencyChart } from "./chart";
import { renderScaleChart } from "./scaleChart";
import { BurstResult, burstClusterCpuSeconds, CPU_KINDS, CpuUsage, IdleCost, LogCounts, PropagationSample, RsyncRunCost } from "./measure";
import { renderScaleMarkdown, ScaleResults, scaleTargets } from "./scaleReport";
import { ProfileName, PROFILE_NAMES } from "./profiles";
import { median, round, Summary } from "./stats";

export interface MachineInfo {
  readonly cpuModel: string;
  readonly nproc: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly lsyncd: string;
  readonly rsync: string;
  readonly openssh: string;
  readonly nginx: string;
  readonly node: string;
  readonly loadAvgAtStart: readonly number[];
}

export interface PropagationResult extends Summary {
  /** every sample's total, in the order taken */
  readonly samplesMs: number[];
  /** the discarded first write (opens ssh masters, warms caches) */
  readonly warmupMs: number;
  readonly bytes: number;
  /** medians of where the time went (see measure.ts) */
  readonly split: { writtenMs?: number; relayMs?: number; afterWriteMs?: number };
  readonly detail: PropagationSample[];
  /** CPU during the samples (from the first counted write to the last sample) */
  readonly cpu: CpuUsage;
}

export interface SubdirWrites {
  readonly writes: number;
  /** copies each write needs: one to the exchange, one to each other node */
  readonly copies: number;
  readonly p50Ms: number;
  /** "Calling rsync" lines on all hosts from the first write until 3 s after the last */
  readonly rsyncRuns: number;
  readonly runsPerWrite: number;
  readonly retries: Record<string, number>;
}

export interface ProfileResult {
  readonly description: string;
  readonly propagation: PropagationResult;
  /** the median of the profile's bursts (allSeconds: every burst, in run order) */
  readonly burst: BurstResult & { cpu: CpuUsage; allSeconds: number[] };
  /** defaults only: the same bursts into a directory the writer makes first (median) */
  readonly burstNewDir?: BurstResult & { cpu: CpuUsage; allSeconds: number[] };
  /** defaults only: the same bursts, each file written under a temp name and renamed in (median) */
  readonly burstRenamed?: BurstResult & { cpu: CpuUsage; allSeconds: number[] };
  /** defaults only: single writes into a subdirectory, with the rsync runs they cost */
  readonly subdirWrites?: SubdirWrites;
  /** what lsyncd logged on all hosts during the 30 samples and during the burst */
  readonly lsyncdLog: { propagation: LogCounts; burst: LogCounts; burstNewDir?: LogCounts; burstRenamed?: LogCounts };
}

export interface DeployResult {
  readonly nodes2Seconds: number;
  readonly nodes4Seconds: number;
  readonly chain2: number;
  readonly chain4: number;
  readonly commands2: number;
  readonly commands4: number;
  /** the bench fixture's own deploy (3 nodes), for reference */
  readonly nodes3Seconds?: number;
  readonly chain3?: number;
}

export interface Target {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

export interface BenchResults {
  readonly machine: string;
  readonly machineInfo: MachineInfo;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly harness: { readonly execNoopMs: Summary; readonly httpMissMs: Summary };
  /** fixed price of one rsync run that transfers nothing (measured with lsyncd stopped) */
  readonly rsyncRunCost?: RsyncRunCost;
  readonly profiles: Partial<Record<ProfileName, ProfileResult>>;
  readonly deploy?: DeployResult;
  /** CPU of the idle bench fixture (nothing written), per host */
  readonly idle?: IdleCost;
  /** node counts and tree sizes (BENCH_NODE_COUNTS, BENCH_TREE_SIZES) */
  readonly scale?: ScaleResults;
  readonly targets: Target[];
  readonly notes: string[];
}

// ---------------------------------------------------------------- machine

/** First non-empty line a command prints, on stdout or stderr (`ssh -V`, `nginx -v` use stderr). */
function versionLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return (
    `${r.stdout ?? ""}\n${r.stderr ?? ""}`
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean) ?? "unknown"
  );
}

export function describeMachine(): MachineInfo {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  return {
    cpuModel: model,
    nproc: os.cpus().length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: `${os.type()} ${os.release()}`,
    lsyncd: versionLine("lsyncd", ["-version"]).replace(/^Version:\s*/, "lsyncd "),
    rsync: versionLine("rsync", ["--version"])
      .replace(/\s+protocol.*$/, "")
      .replace(/\s+version\s+/, " "),
    openssh: versionLine("ssh", ["-V"]).split(",")[0],
    nginx: versionLine("nginx", ["-v"]).replace(/^nginx version:\s*/, ""),
    node: process.version,
    loadAvgAtStart: os.loadavg().map((v) => round(v, 2)),
  };
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.nproc} CPUs, ${m.memoryGiB} GiB RAM, ${m.kernel}, ${m.lsyncd}, ${m.rsync}, ${m.openssh}, ${m.nginx}, Node ${m.node}`;
}

// ---------------------------------------------------------------- targets

/** Idle cost per host: at most this percent of one CPU (issue 14). */
export const IDLE_CPU_PERCENT_MAX = 0.1;

/** The defaults' burst against a floor's: ≤ 1.25× in time, ≤ 1.3× in CPU (issue 14). */
function burstAgainst(
  prefix: string,
  d: ProfileResult,
  floor: ProfileResult,
  floorName: string,
  which: { burst: ProfileResult["burst"]; label: string } = { burst: d.burst, label: "burst" },
): Target[] {
  const b = which.burst;
  const time = b.seconds / floor.burst.seconds;
  const dCpu = burstClusterCpuSeconds(b, b.cpu);
  const floorCpu = burstClusterCpuSeconds(floor.burst, floor.burst.cpu);
  return [
    {
      name: `${prefix}defaults ${which.label} ≤ 1.25× ${floorName} burst`,
      pass: time <= 1.25,
      detail: `${round(time, 2)}× (${round(b.seconds, 2)} s / ${round(floor.burst.seconds, 2)} s)`,
    },
    {
      name: `${prefix}defaults ${which.label} CPU s ≤ 1.3× ${floorName}'s`,
      pass: dCpu / floorCpu <= 1.3,
      detail: `${round(dCpu / floorCpu, 2)}× (${round(dCpu, 2)} CPU s / ${round(floorCpu, 2)} CPU s)`,
    },
  ];
}

export function evaluateTargets(r: Pick<BenchResults, "profiles" | "deploy" | "idle" | "scale">): Target[] {
  const out: Target[] = [];
  const d = r.profiles.defaults;
  const a = r.profiles.article;
  const f = r.profiles.floor;
  const rf = r.profiles["relay-floor"];
  if (d && rf) out.push(...burstAgainst("", d, rf, "relay-floor"));
  // The same targets for the writer that pays no quiet period (README "Writers": a temp
  // name renamed in); the floors copy the same files either way.
  if (d?.burstRenamed && rf) out.push(...burstAgainst("", d, rf, "relay-floor", { burst: d.burstRenamed, label: "burst renamed in" }));
  // Proposed in issue 14's notes, not its targets: the floor that pays what the design
  // chose (the quiet period, the temp dir that marks an arrival, kept versions), so the
  // ratio is what lsyncd's own work costs.
  const mf = r.profiles["mesh-floor"];
  if (d && mf) out.push(...burstAgainst("proposed: ", d, mf, "mesh-floor"));
  if (d?.burstNewDir) {
    // Not an issue target: the guard for the fix of issue 14 (before it, 2.2× in CPU).
    const nd = d.burstNewDir;
    const cpu = burstClusterCpuSeconds(nd, nd.cpu) / burstClusterCpuSeconds(d.burst, d.burst.cpu);
    out.push({
      name: "defaults burst into a new directory ≤ 1.2× the burst into the sync dir, in CPU",
      pass: cpu <= 1.2,
      detail: `${round(cpu, 2)}× (${round(burstClusterCpuSeconds(nd, nd.cpu), 2)} CPU s / ${round(burstClusterCpuSeconds(d.burst, d.burst.cpu), 2)} CPU s; time ${round(nd.seconds, 2)} s / ${round(d.burst.seconds, 2)} s)`,
    });
  }
  if (d?.subdirWrites) {
    // Not an issue target: the guard for the directory-mtime echo fixed in issue 14.
    const sw = d.subdirWrites;
    out.push({
      name: `defaults: a write into a subdirectory costs one rsync run per copy (${sw.copies})`,
      pass: sw.rsyncRuns <= sw.copies * sw.writes,
      detail: `${round(sw.runsPerWrite, 2)} runs per write (${sw.rsyncRuns} for ${sw.writes} writes; p50 ${sw.p50Ms} ms)`,
    });
  }
  if (r.idle) {
    const worst = Object.entries(r.idle.hostCpuPercent).sort((x, y) => y[1] - x[1])[0];
    out.push({
      name: `idle cluster ≤ ${IDLE_CPU_PERCENT_MAX}% of a CPU per host`,
      pass: worst[1] <= IDLE_CPU_PERCENT_MAX,
      detail: `busiest ${worst[0]} ${worst[1].toFixed(4)}% over ${Math.round(r.idle.seconds)} s`,
    });
  }
  if (r.scale) out.push(...scaleTargets(r.scale));
  if (d) {
    out.push({ name: "defaults p50 ≤ 0.5 s", pass: d.propagation.p50Ms <= 500, detail: `${d.propagation.p50Ms} ms` });
    if (a) {
      const ratio = a.propagation.p50Ms / d.propagation.p50Ms;
      out.push({
        name: "defaults p50 ≥ 10× faster than article p50",
        pass: ratio >= 10,
        detail: `${round(ratio, 1)}× (${a.propagation.p50Ms} ms / ${d.propagation.p50Ms} ms)`,
      });
    }
    out.push({ name: "defaults p95 ≤ 1.0 s", pass: d.propagation.p95Ms <= 1000, detail: `${d.propagation.p95Ms} ms` });
    if (f) {
      const ratio = d.burst.seconds / f.burst.seconds;
      out.push({
        name: "defaults burst ≤ 2.5× floor burst",
        pass: ratio <= 2.5,
        detail: `${round(ratio, 2)}× (${round(d.burst.seconds, 2)} s / ${round(f.burst.seconds, 2)} s)`,
      });
    }
  }
  if (r.deploy) {
    out.push({ name: "chain2 == chain4", pass: r.deploy.chain2 === r.deploy.chain4, detail: `${r.deploy.chain2} vs ${r.deploy.chain4}` });
  }
  return out;
}

export function targetLines(targets: readonly Target[]): string[] {
  return targets.map((t) => `${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.detail}`);
}

// ---------------------------------------------------------------- Markdown

const ms = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? "–" : `${Math.round(v)}`);
const sec = (v: number | undefined, digits = 2): string => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));

/** One table row per measured profile, in run order; `row` returns undefined to skip one. */
function profileRows(r: BenchResults, row: (name: ProfileName, p: ProfileResult) => string | undefined): string[] {
  return PROFILE_NAMES.flatMap((name) => {
    const p = r.profiles[name];
    const line = p && row(name, p);
    return line === undefined ? [] : [line];
  });
}

/** Profiles that run no lsyncd: the benchmark's own rsyncs. */
const NO_LSYNCD: readonly ProfileName[] = ["floor", "relay-floor", "mesh-floor"];

/** The chart files a report links: its own dated ones, or latest's. */
export interface ChartNames {
  readonly latency: string;
  readonly scale: string;
}
const LATEST_CHARTS: ChartNames = { latency: "latency.svg", scale: "scale.svg" };

export function renderMarkdown(r: BenchResults, charts: ChartNames = LATEST_CHARTS): string {
  const L: string[] = [];
  L.push(`# lsyncd-cluster benchmark — ${r.startedAt}`);
  L.push("");
  L.push(
    `Machine: ${r.machine}. Load average at start: ${r.machineInfo.loadAvgAtStart.join(" / ")}. Whole run: ${Math.round(r.durationSeconds)} s.`,
  );
  L.push("");
  L.push(
    "Test hosts: an exchange and 3 nodes, each an sshd in its own namespaces on 127.0.40.x with its own loop-device ext4 disk; all on this one machine (they share its CPUs).",
  );
  L.push("");
  L.push("## Results");
  L.push("");
  L.push(
    "| profile | propagation n | p50 ms | p95 ms | max ms | burst files | burst s (median) | each burst s | lsyncd CPU s | lsyncd children CPU s | all 4 hosts CPU s | machine busy CPU s |",
  );
  L.push("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
  L.push(
    ...profileRows(r, (name, p) => {
      const c = p.burst.cpu;
      return `| ${name} | ${p.propagation.samples} | ${ms(p.propagation.p50Ms)} | ${ms(p.propagation.p95Ms)} | ${ms(p.propagation.maxMs)} | ${p.burst.files} | ${sec(p.burst.seconds)} | ${p.burst.allSeconds.map((v) => sec(v)).join(" / ")} | ${sec(c.lsyncdSeconds)} | ${sec(c.lsyncdChildrenSeconds)} | ${sec(burstClusterCpuSeconds(p.burst, c))} | ${sec(c.machineSeconds)} |`;
    }),
  );
  L.push("");
  L.push(
    "- propagation: a 300 kB random file written on node01 (one exec: `base64 -d > file`) until nginx on node02 AND node03 serve it byte-identical (floor: node02 only, one hop); polled every ~10 ms; nearest-rank percentiles; one discarded warm-up write first.",
  );
  L.push(
    "- burst: 2,000 distinct 50 kB files written by one perl process on node01, until the exchange, node02 and node03 (floor: node02) have all of them with matching sha256; seconds from just before the writer started; each profile runs several bursts (new files each time, on sync dirs emptied of the bursts before) and the median one is reported, with its CPU and split below.",
  );
  L.push(
    "- CPU, during the burst only: `lsyncd` = utime+stime of the lsyncd processes on all hosts; children = cutime+cstime they gained (the rsync senders and ssh clients they waited for); all 4 hosts = every process tree inside the four hosts (sshd sessions with their rsync receivers, lsyncd and its children, ssh masters, nginx) plus the writer exec (perl, and for the floor its rsync); machine = all busy CPU of this machine: the hosts, the benchmark's polling, and anything else running on it.",
  );
  L.push("");
  L.push(
    "Unattributed CPU while measuring, average CPUs: machine busy minus the 4 hosts' processes and the benchmark's own — other users of this machine (the test hosts compete with them) plus kernel threads working for the hosts (loop-device I/O, softirq):",
  );
  L.push("");
  L.push("| profile | during the samples | during the burst |");
  L.push("|---|---:|---:|");
  L.push(...profileRows(r, (name, p) => `| ${name} | ${p.propagation.cpu.otherCpus.toFixed(2)} | ${p.burst.cpu.otherCpus.toFixed(2)} |`));
  L.push("");
  L.push("## Where the time goes (medians, ms from just before the write's exec)");
  L.push("");
  L.push(
    "| profile | write closed | exchange has it (hop 1) | direct rsync returned (floor; relay-floor: hop 1) | served everywhere | hop 2 (served − exchange) |",
  );
  L.push("|---|---:|---:|---:|---:|---:|");
  L.push(
    ...profileRows(r, (name, p) => {
      const s = p.propagation.split;
      const hop2 = median(p.propagation.detail.map((d) => (d.relayMs === undefined ? undefined : d.totalMs - d.relayMs)));
      return `| ${name} | ${ms(s.writtenMs)} | ${ms(s.relayMs)} | ${ms(s.afterWriteMs)} | ${ms(p.propagation.p50Ms)} | ${ms(hop2)} |`;
    }),
  );
  L.push("");
  if (r.rsyncRunCost) {
    const c = r.rsyncRunCost;
    L.push(
      `Fixed price of one rsync run that transfers nothing, node01 → exchange over the deployed ssh setup (ControlMaster, forced rsync daemon), lsyncd stopped: ${c.wallMs.toFixed(0)} ms wall, ${c.cpuSeconds.toFixed(3)} CPU s (mean of ${c.runs}). Every lsyncd batch and every echo pays it.`,
    );
    L.push("");
  }
  L.push("Burst split:");
  L.push("");
  L.push(
    "| profile | writer done s | direct rsync done s (floor; relay-floor: hop 1) | per host all files s | CPU s per host (writer exec) |",
  );
  L.push("|---|---:|---:|---|---|");
  const splitRow = (name: string, b: ProfileResult["burst"]): string => {
    const per = Object.entries(b.perHostSeconds)
      .map(([h, v]) => `${h} ${v.toFixed(2)}`)
      .join(", ");
    const cpu = Object.entries(b.cpu.hostSeconds)
      .map(([h, v]) => `${h} ${v.toFixed(2)}`)
      .join(", ");
    return `| ${name} | ${sec(b.writeSeconds)} | ${sec(b.afterWriteSeconds)} | ${per} | ${cpu} (${b.writerExecCpuSeconds.toFixed(2)}) |`;
  };
  // The defaults' renamed-in bursts (README "Writers") as a row of their own.
  const renamed = r.profiles.defaults?.burstRenamed;
  const RENAMED_ROW = "defaults, renamed in";
  L.push(...profileRows(r, (name, p) => splitRow(name, p.burst)), ...(renamed ? [splitRow(RENAMED_ROW, renamed)] : []));
  L.push("");
  L.push(
    "Burst CPU by kind of work, all 4 hosts, seconds (the floor's sender rsync ran in the writer exec, not in a host tree; relay-floor's hop-2 senders ran in a benchmark exec on the exchange, counted with bash `times` in their own column):",
  );
  L.push("");
  L.push(`| profile | ${CPU_KINDS.join(" | ")} | writer exec | hop-2 exec | total |`);
  L.push(`|---|${CPU_KINDS.map(() => "---:").join("|")}|---:|---:|---:|`);
  const kindRow = (name: string, b: ProfileResult["burst"]): string => {
    const k = b.cpu.kindSeconds;
    return `| ${name} | ${CPU_KINDS.map((c) => sec(k[c])).join(" | ")} | ${sec(b.writerExecCpuSeconds)} | ${sec(b.thenOnExecCpuSeconds)} | ${sec(burstClusterCpuSeconds(b, b.cpu))} |`;
  };
  L.push(...profileRows(r, (name, p) => kindRow(name, p.burst)), ...(renamed ? [kindRow(RENAMED_ROW, renamed)] : []));
  L.push("");
  L.push("lsyncd's own log, all hosts (rsync runs started; runs retried, by rsync exit code):");
  L.push("");
  L.push("| profile | during the samples | during the burst | during the new-directory burst | during the renamed-in burst |");
  L.push("|---|---|---|---|---|");
  const fmtLog = (c: LogCounts): string => {
    const retries = Object.entries(c.retries)
      .map(([code, n]) => `${n}× exit ${code}`)
      .join(", ");
    return `${c.rsyncRuns} rsync runs, ${retries || "no"} retries`;
  };
  L.push(
    ...profileRows(r, (name, p) =>
      NO_LSYNCD.includes(name)
        ? undefined
        : `| ${name} | ${fmtLog(p.lsyncdLog.propagation)} | ${fmtLog(p.lsyncdLog.burst)} | ${p.lsyncdLog.burstNewDir ? fmtLog(p.lsyncdLog.burstNewDir) : "–"} | ${p.lsyncdLog.burstRenamed ? fmtLog(p.lsyncdLog.burstRenamed) : "–"} |`,
    ),
  );
  L.push("");
  L.push("## Harness overhead (not subtracted above)");
  L.push("");
  L.push(
    `- no-op \`exec\` (nsenter + bash -c true): p50 ${r.harness.execNoopMs.p50Ms.toFixed(1)} ms, p95 ${r.harness.execNoopMs.p95Ms.toFixed(1)} ms, max ${r.harness.execNoopMs.maxMs.toFixed(1)} ms (n = ${r.harness.execNoopMs.samples}). Every write starts with one.`,
  );
  L.push(
    `- one HTTP poll that misses (404): p50 ${r.harness.httpMissMs.p50Ms.toFixed(1)} ms, p95 ${r.harness.httpMissMs.p95Ms.toFixed(1)} ms; polls are ~10 ms apart, so "served" is seen at most ~${(10 + r.harness.httpMissMs.p95Ms).toFixed(0)} ms late.`,
  );
  L.push("");
  if (r.deploy) {
    L.push("## Deploy (fresh test hosts, packages already installed)");
    L.push("");
    L.push("| nodes | wall s | remote commands | longest dependency chain |");
    L.push("|---:|---:|---:|---:|");
    L.push(`| 2 | ${sec(r.deploy.nodes2Seconds, 1)} | ${r.deploy.commands2} | ${r.deploy.chain2} |`);
    if (r.deploy.nodes3Seconds !== undefined)
      L.push(`| 3 (bench fixture) | ${sec(r.deploy.nodes3Seconds, 1)} | – | ${r.deploy.chain3 ?? "–"} |`);
    L.push(`| 4 | ${sec(r.deploy.nodes4Seconds, 1)} | ${r.deploy.commands4} | ${r.deploy.chain4} |`);
    L.push("");
  }
  const d = r.profiles.defaults;
  L.push("## Targets");
  L.push("");
  L.push("```");
  L.push(...targetLines(r.targets));
  L.push("```");
  const fl = r.profiles.floor;
  if (d && fl) {
    const cpu = d.burst.cpu.hostsTotalSeconds + d.burst.writerExecCpuSeconds;
    const bound = cpu / r.machineInfo.nproc;
    L.push("");
    L.push(
      `CPU bound of the burst on this machine: the defaults' burst took ${sec(cpu)} CPU s inside the hosts and the floor's ${sec(fl.burst.cpu.hostsTotalSeconds + fl.burst.writerExecCpuSeconds)}; ` +
        `on ${r.machineInfo.nproc} CPUs the defaults cannot finish in less than ${sec(bound)} s even perfectly parallel, i.e. ${sec(bound / fl.burst.seconds)}× the floor's ${sec(fl.burst.seconds)} s. ` +
        "The floor moves the 2,000 files once over one hop; the mesh moves them three times (node01 → exchange → node02, node03), plus an rsync run per batch and per target.",
    );
    const rf = r.profiles["relay-floor"];
    if (rf) {
      const rfCpu = burstClusterCpuSeconds(rf.burst, rf.burst.cpu);
      L.push("");
      L.push(
        `The same three copies made by hand (relay-floor: direct rsyncs, no lsyncd, second hop started the moment the first returned) took ${sec(rf.burst.seconds)} s and ${sec(rfCpu)} CPU s: ` +
          `${sec(rf.burst.seconds / fl.burst.seconds)}× the one-hop floor on these shared CPUs before any lsyncd work (its CPU counts the hop-2 senders' exec, ${sec(rf.burst.thenOnExecCpuSeconds)} CPU s). ` +
          `The defaults took ${sec(d.burst.seconds / rf.burst.seconds)}× the relay-floor's time (${sec(cpu / rfCpu)}× its CPU).`,
      );
    }
    const mf = r.profiles["mesh-floor"];
    if (mf) {
      const mfCpu = burstClusterCpuSeconds(mf.burst, mf.burst.cpu);
      L.push("");
      L.push(
        `The same copies as the design must make them (mesh-floor: the quiet period first, then each hop with the mesh's rsync options) took ${sec(mf.burst.seconds)} s and ${sec(mfCpu)} CPU s; ` +
          `the defaults took ${sec(d.burst.seconds / mf.burst.seconds)}× its time and ${sec(cpu / mfCpu)}× its CPU. The CPU ratio is lsyncd's own work (its inotify events on every host, the intake, one rsync run per batch and target, receiving while relaying); ` +
          "the time ratio is that work less what lsyncd's pipelining saves (it holds each file 1 s after its own last write and relays each arrival at once; the floor waits after the whole writer and relays after the whole first hop).",
      );
    }
  }
  if (r.idle) {
    const i = r.idle;
    L.push("");
    L.push(`## Idle cost (nothing written for ${Math.round(i.seconds)} s, lsyncd heartbeat and status file included)`);
    L.push("");
    L.push("| host | % of one CPU (all its processes) |");
    L.push("|---|---:|");
    for (const [h, v] of Object.entries(i.hostCpuPercent)) L.push(`| ${h} | ${v.toFixed(4)} |`);
    L.push("");
    L.push(
      `lsyncd alone: ${i.lsyncdCpuPercent.toFixed(4)}% of a CPU per host on average. From each process's scheduler runtime (/proc/<pid>/schedstat, ns), not from 10 ms ticks, which never caught these short wake-ups. Processes that started or ended inside the hosts meanwhile: ${i.processesChanged ?? "–"}. Other work on this machine meanwhile: ${i.otherCpus.toFixed(2)} CPUs.`,
    );
  }
  if (r.scale) L.push("", ...renderScaleMarkdown(r.scale), `![cost against node count and tree size](${charts.scale})`);
  if (r.notes.length) {
    L.push("");
    L.push("## Notes");
    L.push("");
    for (const n of r.notes) L.push(`- ${n}`);
  }
  L.push("");
  L.push("Profiles:");
  L.push("");
  for (const name of PROFILE_NAMES) {
    const p = r.profiles[name];
    if (p) L.push(`- **${name}**: ${p.description}`);
  }
  L.push("");
  L.push(`![latency](${charts.latency})`);
  L.push("");
  return L.join("\n");
}

// ---------------------------------------------------------------- files

/** The JSON contract: machine, profiles.{name}.{propagation,burst}, deploy; extra fields allowed. */
export function toJson(r: BenchResults): unknown {
  const profiles: Record<string, unknown> = {};
  for (const name of PROFILE_NAMES) {
    const p = r.profiles[name];
    if (!p) continue;
    const { detail, ...propagation } = p.propagation;
    profiles[name] = {
      description: p.description,
      propagation: { ...propagation, samples: p.propagation.samples, detail },
      burst: { ...p.burst, files: p.burst.files, seconds: round(p.burst.seconds, 3) },
      ...(p.burstNewDir ? { burstNewDir: { ...p.burstNewDir, seconds: round(p.burstNewDir.seconds, 3) } } : {}),
      ...(p.burstRenamed ? { burstRenamed: { ...p.burstRenamed, seconds: round(p.burstRenamed.seconds, 3) } } : {}),
      ...(p.subdirWrites ? { subdirWrites: p.subdirWrites } : {}),
      lsyncdLog: p.lsyncdLog,
    };
  }
  return {
    machine: r.machine,
    machineInfo: r.machineInfo,
    startedAt: r.startedAt,
    durationSeconds: round(r.durationSeconds, 1),
    harness: r.harness,
    rsyncRunCost: r.rsyncRunCost,
    profiles,
    deploy: r.deploy,
    idle: r.idle,
    scale: r.scale,
    targets: r.targets,
    notes: r.notes,
  };
}

export function chartFor(r: BenchResults): string {
  const series = PROFILE_NAMES.filter((n) => r.profiles[n]).map((n) => {
    const p = r.profiles[n]!.propagation;
    return {
      name: n,
      samplesMs: p.samplesMs,
      p50Ms: p.p50Ms,
      p95Ms: p.p95Ms,
      note: n === "floor" ? `n = ${p.samples}, node02 only, 1 hop` : `n = ${p.samples}, node02+03, 2 hops`,
    };
  });
  const m = r.machineInfo;
  const subtitle = `${r.startedAt.slice(0, 16).replace("T", " ")} UTC · ${m.cpuModel}, ${m.nproc} CPUs · ${m.lsyncd}, ${m.rsync}, ${m.openssh.split(" ")[0]} · all hosts on one machine`;
  return renderLatencyChart(series, "lsyncd-cluster: 300 kB write on node01 until served intact", subtitle);
}

/**
 * Writes latest.{md,json} with latency.svg (and scale.svg), and dated copies of all of
 * them into dir; returns the paths. Each dated report links its own dated charts: linked to
 * latest's, every earlier report showed the newest run's charts.
 */
export function writeResults(dir: string, r: BenchResults): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt
    .replace(/[-:]/g, "")
    .replace(/^(\d{8})T(\d{4}).*$/, "$1T$2")
    .replace(/^(\d{4})(\d{2})(\d{2})/, "$1-$2-$3");
  const dated: ChartNames = { latency: `${stamp}-latency.svg`, scale: `${stamp}-scale.svg` };
  const json = `${JSON.stringify(toJson(r), null, 2)}\n`;
  const latency = chartFor(r);
  const files: Array<[string, string]> = [
    ["latest.md", renderMarkdown(r)],
    [`${stamp}.md`, renderMarkdown(r, dated)],
    ["latest.json", json],
    [`${stamp}.json`, json],
    [LATEST_CHARTS.latency, latency],
    [dated.latency, latency],
  ];
  const m = r.machineInfo;
  const scaleSvg =
    r.scale &&
    renderScaleChart(
      r.scale,
      `${r.startedAt.slice(0, 16).replace("T", " ")} UTC · ${m.cpuModel}, ${m.nproc} CPUs · every host on one machine`,
    );
  if (scaleSvg) files.push([LATEST_CHARTS.scale, scaleSvg], [dated.scale, scaleSvg]);
  for (const [name, content] of files) writeFileSync(join(dir, name), content);
  return files.map(([name]) => join(dir, name));
}
