// The node-count targets as the benchmark judges them: the renamed-in burst at N nodes
// (README "Writers": no quiet period) against the relay-floor to the same N, in time and
// in CPU, and nothing of it for results recorded before that series existed.
import { readFileSync } from "fs";
import { join } from "path";
import { NodeCountResult, renderScaleMarkdown, ScaleResults, scaleTargets } from "../../bench/scaleReport";
import { summarize } from "../../bench/stats";

function nodeCount(nodes: number, renamed?: { seconds: number; cpuSeconds: number }): NodeCountResult {
  return {
    nodes,
    deploySeconds: 6,
    chain: 7,
    commands: 25,
    propagation: { ...summarize([1050, 1060]), samplesMs: [1050, 1060] },
    burst: { files: 2000, seconds: 2.4, cpuSeconds: 2.2, exchangeCpuSeconds: 0.9, exchangeCpuMsPerFilePerNode: 0.45, otherCpus: 0 },
    ...(renamed ? { burstRenamed: { ...renamed, exchangeCpuSeconds: 0.8, rsyncRuns: 9 } } : {}),
    relayFloorBurst: { seconds: 1, cpuSeconds: 1.2, exchangeCpuSeconds: 0.45 },
  };
}

const judged = (counts: NodeCountResult[]): Record<string, string> =>
  Object.fromEntries(scaleTargets({ nodeCounts: counts }).map((t) => [t.name, `${t.pass ? "PASS" : "FAIL"} ${t.detail}`]));

describe("node-count targets of the renamed-in burst", () => {
  it("judge its time and CPU against the relay-floor to the same nodes, apart from the in-place burst", () => {
    const t = judged([nodeCount(2, { seconds: 1.2, cpuSeconds: 1.5 }), nodeCount(8, { seconds: 1.3, cpuSeconds: 1.6 })]);
    expect(t["burst at 2 nodes ≤ 1.25× relay-floor to 2"]).toBe("FAIL 2.40× (2.40 s / 1.00 s)");
    expect(t["burst renamed in at 2 nodes ≤ 1.25× relay-floor to 2"]).toBe("PASS 1.20× (1.20 s / 1.00 s)");
    expect(t["burst renamed in at 2 nodes, CPU ≤ 1.3× relay-floor to 2"]).toBe("PASS 1.25× (1.50 CPU s / 1.20 CPU s)");
    expect(t["burst renamed in at 8 nodes ≤ 1.25× relay-floor to 8"]).toBe("FAIL 1.30× (1.30 s / 1.00 s)");
    expect(t["burst renamed in at 8 nodes, CPU ≤ 1.3× relay-floor to 8"]).toBe("FAIL 1.33× (1.60 CPU s / 1.20 CPU s)");
  });

  it("are absent, and so is their table, for results without the series", () => {
    const counts = [nodeCount(2), nodeCount(4)];
    expect(Object.keys(judged(counts)).filter((n) => n.includes("renamed in"))).toEqual([]);
    expect(renderScaleMarkdown({ nodeCounts: counts }).join("\n")).not.toContain("renamed in");
  });

  it("get a table row per node count", () => {
    const md = renderScaleMarkdown({ nodeCounts: [nodeCount(2, { seconds: 1.2, cpuSeconds: 1.5 })] }).join("\n");
    expect(md).toContain("| 2 | 1.20 | 1.20 | 1.50 | 1.25 | 0.80 | 9 |");
  });

  it("read as recorded in the 15:20 run (the first with the series)", () => {
    const json = JSON.parse(readFileSync(join(__dirname, "../../bench/results/2026-12-01T1520-nodes-renamed.json"), "utf8")) as {
      scale: ScaleResults;
    };
    const t = judged(json.scale.nodeCounts!);
    expect(t["burst renamed in at 2 nodes ≤ 1.25× relay-floor to 2"]).toBe("FAIL 1.27× (1.17 s / 0.92 s)");
    expect(t["burst renamed in at 8 nodes ≤ 1.25× relay-floor to 8"]).toBe("FAIL 1.91× (5.10 s / 2.67 s)");
    expect(t["burst renamed in at 8 nodes, CPU ≤ 1.3× relay-floor to 8"]).toBe("FAIL 2.04× (9.42 CPU s / 4.62 CPU s)");
  });
});
