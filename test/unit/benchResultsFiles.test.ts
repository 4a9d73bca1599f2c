// Every run writes latest.md and a dated copy. Both linked latency.svg and scale.svg, which
// the next run overwrote: each of the 25 dated reports in bench/results showed the newest
// run's charts. A dated report must link charts of its own, written beside it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { BenchResults, writeResults } from "../../bench/report";

// The recorded full run (profiles, idle, deploy, node counts and tree sizes): toJson keeps
// what the report renders.
const recorded = JSON.parse(readFileSync(join(__dirname, "../../bench/results/2026-12-01T1756.json"), "utf8")) as BenchResults;
const images = (md: string): string[] => [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);

describe("writeResults", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "lsc-bench-results-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("links the dated report to dated charts written beside it, and latest to latest's", () => {
    writeResults(dir, recorded);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(
      [
        "2026-12-01T1756-latency.svg",
        "2026-12-01T1756-scale.svg",
        "2026-12-01T1756.json",
        "2026-12-01T1756.md",
        "latency.svg",
        "latest.json",
        "latest.md",
        "scale.svg",
      ].sort(),
    );
    const dated = images(readFileSync(join(dir, "2026-12-01T1756.md"), "utf8"));
    expect(dated.sort()).toEqual(["2026-12-01T1756-latency.svg", "2026-12-01T1756-scale.svg"]);
    expect(images(readFileSync(join(dir, "latest.md"), "utf8")).sort()).toEqual(["latency.svg", "scale.svg"]);
    expect(readFileSync(join(dir, "2026-12-01T1756-scale.svg"), "utf8")).toBe(readFileSync(join(dir, "scale.svg"), "utf8"));
  });

  it("a later run leaves an earlier dated report's charts as they were", () => {
    writeResults(dir, recorded);
    const before = readFileSync(join(dir, "2026-12-01T1756-latency.svg"), "utf8");
    writeResults(dir, { ...recorded, startedAt: "2026-12-02T09:00:00.000Z" });
    expect(readFileSync(join(dir, "2026-12-01T1756-latency.svg"), "utf8")).toBe(before);
    expect(readFileSync(join(dir, "latency.svg"), "utf8")).not.toBe(before);
  });
});
