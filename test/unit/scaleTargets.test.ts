// The node-count targets as the benchmark judges them: the renamed-in burst at N nodes
// (README "Writers": no quiet period) against the relay-floor to the same N, in time and
// in CPU, and nothing of it for results recorded before that series existed.
import { readFileSync } from "fs";
import { join } from "path";
import { NodeCountResult, renderScaleMarkdown, ScaleResults, scaleTargets } from "../../bench/scaleReport";
import { medianItem, summarize } from "../../bench/stats";
import { renderScaleChart } from "../../bench/scaleChart";

interface Renamed {
  seconds: number;
  cpuSeconds: number;
  kindSeconds?: Record<string, number>;
}

/** A node count whose relay-floor differs with N, so a ratio taken against another count's floor shows. */
function nodeCount(nodes: number, renamed?: Renamed): NodeCountResult {
  return {
    nodes,
    deploySeconds: 6,
    chain: 7,
    commands: 25,
    propagation: { ...summarize([1050, 1060]), samplesMs: [1050, 1060] },
    burst: {
      files: 2000,
      seconds: 2.4 * nodes,
      cpuSeconds: 2.2 * nodes,
      exchangeCpuSeconds: 0.9,
      exchangeCpuMsPerFilePerNode: 0.45,
      otherCpus: 0,
      kindSeconds: { lsyncd: 0.11 },
    },
    ...(renamed
      ? { burstRenamed: { exchangeCpuSeconds: 0.8, exchangeCpuMsPerFilePerNode: 0.4, otherCpus: 0.02, rsyncRuns: 9, ...renamed } }
      : {}),
    relayFloorBurst: { seconds: nodes, cpuSeconds: 1.2 * nodes, exchangeCpuSeconds: 0.45, kindSeconds: { lsyncd: 0 } },
  };
}

const judged = (counts: NodeCountResult[]): Record<string, string> =>
  Object.fromEntries(scaleTargets({ nodeCounts: counts }).map((t) => [t.name, `${t.pass ? "PASS" : "FAIL"} ${t.detail}`]));

describe("node-count targets of the renamed-in burst", () => {
  it("judge its time and CPU against the relay-floor to the same nodes, apart from the in-place burst", () => {
    const t = judged([nodeCount(2, { seconds: 2.4, cpuSeconds: 3 }), nodeCount(8, { seconds: 10.4, cpuSeconds: 12.8 })]);
    expect(t["burst at 2 nodes ≤ 1.25× relay-floor to 2"]).toBe("FAIL 2.40× (4.80 s / 2.00 s)");
    expect(t["burst renamed in at 2 nodes ≤ 1.25× relay-floor to 2"]).toBe("PASS 1.20× (2.40 s / 2.00 s)");
    expect(t["burst renamed in at 2 nodes, CPU ≤ 1.3× relay-floor to 2"]).toBe("PASS 1.25× (3.00 CPU s / 2.40 CPU s)");
    expect(t["burst renamed in at 8 nodes ≤ 1.25× relay-floor to 8"]).toBe("FAIL 1.30× (10.40 s / 8.00 s)");
    expect(t["burst renamed in at 8 nodes, CPU ≤ 1.3× relay-floor to 8"]).toBe("FAIL 1.33× (12.80 CPU s / 9.60 CPU s)");
  });

  it("pass at exactly 1.25× in time and 1.3× in CPU", () => {
    const t = judged([nodeCount(4, { seconds: 5, cpuSeconds: 6.24 })]);
    expect(t["burst renamed in at 4 nodes ≤ 1.25× relay-floor to 4"]).toMatch(/^PASS 1\.25×/);
    expect(t["burst renamed in at 4 nodes, CPU ≤ 1.3× relay-floor to 4"]).toMatch(/^PASS 1\.30×/);
    const over = judged([nodeCount(4, { seconds: 5.04, cpuSeconds: 6.25 })]);
    expect(over["burst renamed in at 4 nodes ≤ 1.25× relay-floor to 4"]).toMatch(/^FAIL 1\.26×/);
    expect(over["burst renamed in at 4 nodes, CPU ≤ 1.3× relay-floor to 4"]).toMatch(/^FAIL 1\.30×/);
  });

  it("are absent, and so is their table, for results without the series", () => {
    const counts = [nodeCount(2), nodeCount(4)];
    expect(Object.keys(judged(counts)).filter((n) => n.includes("renamed in"))).toEqual([]);
    const md = renderScaleMarkdown({ nodeCounts: counts }).join("\n");
    expect(md).not.toContain("renamed in");
    expect(md).toContain("One burst per series.");
  });

  it("get a row per node count in their table, and their own row in the CPU by kind", () => {
    const md = renderScaleMarkdown({
      nodeCounts: [
        nodeCount(2, { seconds: 2.6, cpuSeconds: 3, kindSeconds: { lsyncd: 0.27 } }),
        nodeCount(4, { seconds: 5.2, cpuSeconds: 6 }),
      ],
    }).join("\n");
    // seconds, its ratio, CPU, its ratio, exchange CPU, per copy, runs, other CPUs
    expect(md).toContain("| 2 | 2.60 | 1.30 | 3.00 | 1.25 | 0.80 | 0.400 | 9 | 0.02 |");
    expect(md).toContain("| 4 | 5.20 | 1.30 | 6.00 | 1.25 | 0.80 | 0.400 | 9 | 0.02 |");
    expect(md).toContain("| 2 | mesh, renamed in | 0.27 | – | 9 |");
    expect(md).toContain("| 2 | mesh | 0.11 | – | – |");
  });

  it("read as recorded in the 15:20 run (the first with the series, one burst each)", () => {
    const json = JSON.parse(readFileSync(join(__dirname, "../../bench/results/2026-12-01T1520-nodes-renamed.json"), "utf8")) as {
      scale: ScaleResults;
    };
    const t = judged(json.scale.nodeCounts!);
    expect(Object.entries(t).filter(([n]) => n.includes("renamed in"))).toEqual([
      ["burst renamed in at 2 nodes ≤ 1.25× relay-floor to 2", "FAIL 1.27× (1.17 s / 0.92 s)"],
      ["burst renamed in at 2 nodes, CPU ≤ 1.3× relay-floor to 2", "FAIL 1.72× (1.88 CPU s / 1.10 CPU s)"],
      ["burst renamed in at 4 nodes ≤ 1.25× relay-floor to 4", "FAIL 1.60× (2.15 s / 1.34 s)"],
      ["burst renamed in at 4 nodes, CPU ≤ 1.3× relay-floor to 4", "FAIL 1.87× (3.84 CPU s / 2.05 CPU s)"],
      ["burst renamed in at 8 nodes ≤ 1.25× relay-floor to 8", "FAIL 1.91× (5.10 s / 2.67 s)"],
      ["burst renamed in at 8 nodes, CPU ≤ 1.3× relay-floor to 8", "FAIL 2.04× (9.42 CPU s / 4.62 CPU s)"],
    ]);
  });
});

describe("the node-count series with several bursts (15:57 run)", () => {
  const json = JSON.parse(readFileSync(join(__dirname, "../../bench/results/2026-12-01T1557-nodes-3bursts.json"), "utf8")) as {
    scale: ScaleResults;
  };
  const counts = json.scale.nodeCounts!;

  it("report the median burst of each series, the one judged", () => {
    for (const c of counts) {
      for (const series of [c.burst, c.burstRenamed!, c.relayFloorBurst]) {
        const all = series.allSeconds!;
        expect(all).toHaveLength(3);
        expect(series.seconds).toBeCloseTo([...all].sort((a, b) => a - b)[1], 3);
      }
    }
    expect(judged(counts)["burst renamed in at 8 nodes ≤ 1.25× relay-floor to 8"]).toBe("FAIL 1.60× (4.15 s / 2.59 s)");
  });

  it("list every burst in the report", () => {
    const md = renderScaleMarkdown(json.scale).join("\n");
    expect(md).toContain("The median of 3 bursts per series");
    expect(md).toContain("8 nodes in place 5.46 / 5.01 / 5.23, renamed in 4.17 / 4.14 / 4.15, relay-floor 2.59 / 2.72 / 2.56");
  });
});

describe("the scale chart", () => {
  it("colours each panel's series by their place in it: a series added to one panel recolours no other", () => {
    const fill = (svg: string, series: string) => new RegExp(`fill="(#[0-9a-f]{6})"><title>[^<]*, ${series}:`).exec(svg)?.[1];
    const without = renderScaleChart({ nodeCounts: [nodeCount(2)] }, "t")!;
    const withRenamed = renderScaleChart({ nodeCounts: [nodeCount(2, { seconds: 2.6, cpuSeconds: 3 })] }, "t")!;
    for (const svg of [without, withRenamed]) {
      expect(fill(svg, "mesh \\(defaults\\)")).toBe("#1f77b4");
      expect(fill(svg, "relay-floor to the same nodes")).toBe("#9ecae1");
      expect(fill(svg, "exchange CPU ms per file per node")).toBe("#1f77b4");
    }
    expect(fill(withRenamed, "mesh, renamed in")).toBe("#d62728");
  });
});

describe("the report's note on bursts", () => {
  it('says one burst where a series ran one (not "the median of 1 bursts")', () => {
    const one = nodeCount(2, { seconds: 2.6, cpuSeconds: 3 });
    const c: NodeCountResult = {
      ...one,
      burst: { ...one.burst, allSeconds: [4.8] },
      burstRenamed: { ...one.burstRenamed!, allSeconds: [2.6] },
      relayFloorBurst: { ...one.relayFloorBurst, allSeconds: [2] },
    };
    const md = renderScaleMarkdown({ nodeCounts: [c] }).join("\n");
    expect(md).toContain(
      "One burst per series, on emptied sync dirs; each burst s: 2 nodes in place 4.80, renamed in 2.60, relay-floor 2.00.",
    );
    expect(md).not.toContain("median of 1");
  });
});

describe("the burst a series reports", () => {
  it("is one whole burst, the median by time, whatever its CPU", () => {
    const bursts = [
      { seconds: 3, cpu: 1 },
      { seconds: 1, cpu: 9 },
      { seconds: 2, cpu: 5 },
    ];
    expect(medianItem(bursts, (b) => b.seconds)).toEqual({ seconds: 2, cpu: 5 });
    // An even count takes the upper of the two middle ones, as the reports always did.
    expect(medianItem([...bursts, { seconds: 4, cpu: 0 }], (b) => b.seconds)).toEqual({ seconds: 3, cpu: 1 });
    expect(() => medianItem([], (b: { seconds: number }) => b.seconds)).toThrow("medianItem of nothing");
  });
});
