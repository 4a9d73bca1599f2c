// Node counts and tree sizes: their result shape, targets (issue 14) and Markdown tables.
import { Summary } from "./stats";

export interface NodeCountResult {
  readonly nodes: number;
  readonly deploySeconds: number;
  readonly chain: number;
  readonly commands: number;
  /** a 300 kB write on node01 until every other node's nginx serves it */
  readonly propagation: Summary & { readonly samplesMs: number[] };
  readonly burst: {
    readonly files: number;
    readonly seconds: number;
    /** every host tree plus the writer exec */
    readonly cpuSeconds: number;
    readonly exchangeCpuSeconds: number;
    /** exchange CPU / (files × nodes it sends them to): the price of one relayed copy */
    readonly exchangeCpuMsPerFilePerNode: number;
    /** other work on this machine during the burst, average CPUs */
    readonly otherCpus: number;
    /** CPU s by kind of work over all hosts (measure.ts CPU_KINDS), and lsyncd's log */
    readonly kindSeconds?: Record<string, number>;
    readonly rsyncRuns?: number;
    /** every burst of the series in run order, the median one above (absent in runs before 2026-12-01 15:57: one burst) */
    readonly allSeconds?: number[];
  };
  /**
   * The same burst written the way README "Writers" recommends (each file under a hidden
   * temp name, then renamed in: no quiet period), after the in-place series. Absent in
   * results from before 2026-12-01 15:14.
   */
  readonly burstRenamed?: {
    readonly seconds: number;
    readonly cpuSeconds: number;
    readonly exchangeCpuSeconds: number;
    /** absent in the 15:14 and 15:20 runs */
    readonly exchangeCpuMsPerFilePerNode?: number;
    readonly otherCpus?: number;
    readonly kindSeconds?: Record<string, number>;
    readonly rsyncRuns?: number;
    readonly allSeconds?: number[];
  };
  /** the same N-node fan-out by direct rsync (no lsyncd), lsyncd stopped, after both mesh series, same fixture */
  readonly relayFloorBurst: {
    readonly allSeconds?: number[];
    readonly seconds: number;
    readonly cpuSeconds: number;
    readonly exchangeCpuSeconds: number;
    readonly kindSeconds?: Record<string, number>;
    readonly execCpuSeconds?: number;
  };
}

export interface LsyncdFootprint {
  readonly rssKiB: number;
  readonly inotifyWatches: number;
}

export interface TreeSizeResult {
  readonly files: number;
  readonly dirs: number;
  /** wall seconds to grow every host's tree to this size (lsyncd stopped) */
  readonly generateSeconds: number;
  /** node01: lsyncd started on a tree that already matches, until startup sync done and heartbeat fresh (median) */
  readonly restartSeconds: number;
  /** of which: until the startup sync finished (median) */
  readonly restartSyncSeconds: number;
  /** list-only rsync of the same tree node01 → exchange over the same ssh (median) */
  readonly listFloorSeconds: number;
  /** the exchange (two targets at once) restarted, and its floor: both list-only rsyncs at once */
  readonly exchangeRestartSeconds: number;
  readonly exchangeListFloorSeconds: number;
  /** the seed step's first run (a new node), exchange → an emptied node02 */
  readonly seedSeconds: number;
  /** direct rsync -rtp (rsync -a minus what the daemon refuses) of the same tree, exchange → emptied node02 */
  readonly copyFloorSeconds: number;
  /** every timed run, in run order (seed, copy, temp, re-seed, re-seed, temp, copy, seed; from 1M files on seed, copy, copy, seed; the best of each is reported) */
  readonly seedRunsSeconds?: number[];
  readonly copyRunsSeconds?: number[];
  /** diagnostic: the direct copy with the exchange's --temp-dir (what a later run of the seed uses) */
  readonly copyWithTempDirRunsSeconds?: number[];
  /** diagnostic: the seed step's later run (through the exchange's temp dir) into the emptied node */
  readonly reseedRunsSeconds?: number[];
  /** node02's lsyncd started right after its seed, until ready (a new node joining) */
  readonly joinSeconds: number;
  readonly propagation: Summary & { readonly samplesMs: number[] };
  /** per host, with lsyncd running on the full tree */
  readonly lsyncd: Record<string, LsyncdFootprint>;
  /** repetitions behind each median above */
  readonly reps: number;
}

export interface TreeSizesResult {
  readonly filesPerDir: number;
  readonly fileBytes: number;
  readonly diskMiB: number;
  /** propagation with no tree, measured first on the same fixture */
  readonly emptyPropagation: Summary & { readonly samplesMs: number[] };
  readonly emptyLsyncd: Record<string, LsyncdFootprint>;
  readonly sizes: TreeSizeResult[];
}

export interface ScaleResults {
  readonly nodeCounts?: NodeCountResult[];
  readonly treeSizes?: TreeSizesResult;
}

interface ScaleTarget {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

const r2 = (v: number): string => v.toFixed(2);

export function scaleTargets(s: ScaleResults): ScaleTarget[] {
  const out: ScaleTarget[] = [];
  const counts = s.nodeCounts ?? [];
  if (counts.length >= 2) {
    const lo = counts[0];
    const hi = counts[counts.length - 1];
    const ratio = hi.propagation.p50Ms / lo.propagation.p50Ms;
    out.push({
      name: `p50 at ${hi.nodes} nodes ≤ 1.5× p50 at ${lo.nodes}`,
      pass: ratio <= 1.5,
      detail: `${r2(ratio)}× (${hi.propagation.p50Ms} ms / ${lo.propagation.p50Ms} ms)`,
    });
  }
  for (const c of counts) {
    const ratio = c.burst.seconds / c.relayFloorBurst.seconds;
    out.push({
      name: `burst at ${c.nodes} nodes ≤ 1.25× relay-floor to ${c.nodes}`,
      pass: ratio <= 1.25,
      detail: `${r2(ratio)}× (${r2(c.burst.seconds)} s / ${r2(c.relayFloorBurst.seconds)} s)`,
    });
  }
  for (const c of counts) {
    const r = c.burstRenamed;
    if (!r) continue;
    const f = c.relayFloorBurst;
    out.push({
      name: `burst renamed in at ${c.nodes} nodes ≤ 1.25× relay-floor to ${c.nodes}`,
      pass: r.seconds / f.seconds <= 1.25,
      detail: `${r2(r.seconds / f.seconds)}× (${r2(r.seconds)} s / ${r2(f.seconds)} s)`,
    });
    out.push({
      name: `burst renamed in at ${c.nodes} nodes, CPU ≤ 1.3× relay-floor to ${c.nodes}`,
      pass: r.cpuSeconds / f.cpuSeconds <= 1.3,
      detail: `${r2(r.cpuSeconds / f.cpuSeconds)}× (${r2(r.cpuSeconds)} CPU s / ${r2(f.cpuSeconds)} CPU s)`,
    });
  }
  const t = s.treeSizes;
  for (const z of t?.sizes ?? []) {
    const restart = z.restartSeconds / z.listFloorSeconds;
    out.push({
      name: `${z.files} files: restart ready ≤ 1.5× list-only rsync`,
      pass: restart <= 1.5,
      detail: `${r2(restart)}× (${r2(z.restartSeconds)} s / ${r2(z.listFloorSeconds)} s)`,
    });
    const seed = z.seedSeconds / z.copyFloorSeconds;
    out.push({
      name: `${z.files} files: seed ≤ 1.1× direct rsync`,
      pass: seed <= 1.1,
      detail: `${r2(seed)}× (${r2(z.seedSeconds)} s / ${r2(z.copyFloorSeconds)} s)`,
    });
    const p = z.propagation.p50Ms / t!.emptyPropagation.p50Ms;
    out.push({
      name: `${z.files} files present: p50 ≤ 1.2× p50 with no tree`,
      pass: p <= 1.2,
      detail: `${r2(p)}× (${z.propagation.p50Ms} ms / ${t!.emptyPropagation.p50Ms} ms)`,
    });
  }
  return out;
}

function footprint(f: Record<string, LsyncdFootprint>): string {
  return Object.entries(f)
    .map(([h, v]) => `${h} ${Math.round(v.rssKiB / 1024)} MiB / ${v.inotifyWatches}`)
    .join(", ");
}

/** How many bursts each series ran, with each one's seconds where they were recorded. */
function burstsNote(counts: readonly NodeCountResult[]): string {
  const each = counts.filter((c) => c.burst.allSeconds?.length);
  if (!each.length) return "One burst per series.";
  const list = (v?: number[]) => (v?.length ? v.map(r2).join(" / ") : "–");
  const n = each[0].burst.allSeconds!.length;
  return `${n === 1 ? "One burst per series, on emptied sync dirs" : `The median of ${n} bursts per series, each on emptied sync dirs`}; each burst s: ${each
    .map(
      (c) =>
        `${c.nodes} nodes in place ${list(c.burst.allSeconds)}, renamed in ${list(c.burstRenamed?.allSeconds)}, relay-floor ${list(c.relayFloorBurst.allSeconds)}`,
    )
    .join("; ")}.`;
}

export function renderScaleMarkdown(s: ScaleResults): string[] {
  const L: string[] = [];
  if (s.nodeCounts?.length) {
    L.push("## Node count (fresh fixture per count, the defaults as deployed)");
    L.push("");
    L.push(
      "| nodes | deploy s | longest chain | commands | p50 ms | p95 ms | burst s | relay-floor burst s | burst ÷ relay-floor | burst CPU s | relay-floor CPU s | exchange CPU s | exchange CPU ms per file per node | other CPUs |",
    );
    L.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const c of s.nodeCounts) {
      L.push(
        `| ${c.nodes} | ${c.deploySeconds.toFixed(1)} | ${c.chain} | ${c.commands} | ${c.propagation.p50Ms} | ${c.propagation.p95Ms} | ${r2(c.burst.seconds)} | ${r2(c.relayFloorBurst.seconds)} | ${r2(c.burst.seconds / c.relayFloorBurst.seconds)} | ${r2(c.burst.cpuSeconds)} | ${r2(c.relayFloorBurst.cpuSeconds)} | ${r2(c.burst.exchangeCpuSeconds)} | ${c.burst.exchangeCpuMsPerFilePerNode.toFixed(3)} | ${r2(c.burst.otherCpus)} |`,
      );
    }
    const renamed = s.nodeCounts.filter((c) => c.burstRenamed);
    if (renamed.length) {
      L.push("");
      L.push(
        "The same burst renamed in (each file under a hidden temp name, then renamed: no quiet period), against the same relay-floor:",
      );
      L.push("");
      L.push(
        "| nodes | renamed-in burst s | ÷ relay-floor | CPU s | ÷ relay-floor CPU | exchange CPU s | exchange CPU ms per file per node | lsyncd rsync runs | other CPUs |",
      );
      L.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
      for (const c of renamed) {
        const r = c.burstRenamed!;
        const f = c.relayFloorBurst;
        const perCopy = r.exchangeCpuMsPerFilePerNode === undefined ? "–" : r.exchangeCpuMsPerFilePerNode.toFixed(3);
        L.push(
          `| ${c.nodes} | ${r2(r.seconds)} | ${r2(r.seconds / f.seconds)} | ${r2(r.cpuSeconds)} | ${r2(r.cpuSeconds / f.cpuSeconds)} | ${r2(r.exchangeCpuSeconds)} | ${perCopy} | ${r.rsyncRuns ?? "–"} | ${r.otherCpus === undefined ? "–" : r2(r.otherCpus)} |`,
        );
      }
    }
    if (s.nodeCounts.some((c) => c.burst.kindSeconds)) {
      const kinds = Object.keys(s.nodeCounts.find((c) => c.burst.kindSeconds)!.burst.kindSeconds!);
      L.push("");
      L.push("Burst CPU by kind of work, all hosts, seconds (relay-floor's senders ran in benchmark execs: their own column):");
      L.push("");
      L.push(`| nodes | run | ${kinds.join(" | ")} | benchmark execs | lsyncd rsync runs |`);
      L.push(`|---:|---|${kinds.map(() => "---:").join("|")}|---:|---:|`);
      for (const c of s.nodeCounts) {
        if (!c.burst.kindSeconds) continue;
        L.push(
          `| ${c.nodes} | mesh | ${kinds.map((k) => r2(c.burst.kindSeconds![k] ?? 0)).join(" | ")} | – | ${c.burst.rsyncRuns ?? "–"} |`,
        );
        const r = c.burstRenamed;
        if (r?.kindSeconds)
          L.push(
            `| ${c.nodes} | mesh, renamed in | ${kinds.map((k) => r2(r.kindSeconds![k] ?? 0)).join(" | ")} | – | ${r.rsyncRuns ?? "–"} |`,
          );
        const f = c.relayFloorBurst;
        L.push(
          `| ${c.nodes} | relay-floor | ${kinds.map((k) => r2(f.kindSeconds?.[k] ?? 0)).join(" | ")} | ${r2(f.execCpuSeconds ?? 0)} | – |`,
        );
      }
    }
    L.push("");
    L.push(
      `- propagation: a 300 kB write on node01 until every other node's nginx serves it (${s.nodeCounts[0].propagation.samples} samples per count; with the defaults' lsyncd.quietPeriod of 1 s it includes that second, by design — see the notes for the quiet period of this run). Burst: ${s.nodeCounts[0].burst.files} × 50 kB on node01 until every host has every file${renamed.length ? ", written in place, then the same renamed in" : ""}; relay-floor: the same fan-out by direct rsync (node01 → exchange, then exchange → every other node at once), lsyncd stopped, on the same fixture after both. ${burstsNote(s.nodeCounts)}`,
    );
    L.push("");
  }
  const t = s.treeSizes;
  if (t?.sizes.length) {
    L.push(
      `## Tree size (exchange + 2 nodes, the same tree on every host: ${t.filesPerDir} files of ${t.fileBytes} B per directory, ${t.diskMiB} MiB disks)`,
    );
    L.push("");
    L.push(
      "| files | dirs | grow s | node01 restart ready s (sync done s) | list-only rsync s | ratio | exchange restart s | its floor s | seed s | direct rsync s | ratio | join s | p50 ms | p95 ms | p50 ÷ no-tree p50 | lsyncd RSS / inotify watches |",
    );
    L.push("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    L.push(
      `| 0 | 0 | – | – | – | – | – | – | – | – | – | – | ${t.emptyPropagation.p50Ms} | ${t.emptyPropagation.p95Ms} | 1.00 | ${footprint(t.emptyLsyncd)} |`,
    );
    for (const z of t.sizes) {
      L.push(
        `| ${z.files} | ${z.dirs} | ${z.generateSeconds.toFixed(0)} | ${r2(z.restartSeconds)} (${r2(z.restartSyncSeconds)}) | ${r2(z.listFloorSeconds)} | ${r2(z.restartSeconds / z.listFloorSeconds)} | ${r2(z.exchangeRestartSeconds)} | ${r2(z.exchangeListFloorSeconds)} | ${r2(z.seedSeconds)} | ${r2(z.copyFloorSeconds)} | ${r2(z.seedSeconds / z.copyFloorSeconds)} | ${r2(z.joinSeconds)} | ${z.propagation.p50Ms} | ${z.propagation.p95Ms} | ${r2(z.propagation.p50Ms / t.emptyPropagation.p50Ms)} | ${footprint(z.lsyncd)} |`,
      );
    }
    L.push("");
    const runs = t.sizes.filter((z) => z.seedRunsSeconds);
    if (runs.length) {
      L.push("Seed runs in run order, seconds (the best of each kind is in the table):");
      L.push("");
      L.push(
        "| files | seed (seedScript.ts, first run: a new node) | direct rsync -rtp | direct rsync -rtp --temp-dir (the exchange's temp dir) | re-seed (the step's later run, through that temp dir) |",
      );
      L.push("|---:|---|---|---|---|");
      const list = (v?: number[]) => (v?.length ? v.map((x) => x.toFixed(2)).join(", ") : "–");
      for (const z of runs)
        L.push(
          `| ${z.files} | ${list(z.seedRunsSeconds)} | ${list(z.copyRunsSeconds)} | ${list(z.copyWithTempDirRunsSeconds)} | ${list(z.reseedRunsSeconds)} |`,
        );
      L.push("");
    }
    L.push(
      "- restart: node01's lsyncd stopped and started on a tree that already matches, until every sync{} logged its startup finished and the heartbeat file was rewritten, timed from lsyncd's own start (stamped by the fixture's systemctl right before it: that shim's bash start-up, 50-90 ms, is not what systemd costs); floor: `rsync -rtpn` (list only) of the same tree node01 → exchange over the same ssh and daemon. Floors, seeds and copies are timed inside the host (date stamps around the command), without the exec that reaches it. Exchange: its two startup syncs vs two list-only rsyncs at once. Seed: node02's lsyncd stopped, its tree removed, then the seed step run on the exchange as the provider runs it for a new node (its first run: straight into place; a later run goes through the exchange's temp dir, as a re-seed of a live node must); floor: the same emptied node filled by `rsync -rtp` (what `rsync -a` is once the options the daemon refuses, -l and -D, and the no-op -o -g for its unprivileged receiver are left out); join: node02's lsyncd started right after, until ready. Propagation: node01 → node02 through the exchange with the tree in place.",
    );
    L.push("");
  }
  return L;
}
