// The burst targets as the benchmark judges them, read back from the runs it recorded: the
// renamed-in series (README "Writers") is judged on its own bursts, against relay-floor.
import { readFileSync } from "fs";
import { join } from "path";
import { BenchResults, evaluateTargets } from "../../bench/report";

function targetsOf(file: string): Record<string, string> {
  const json = JSON.parse(readFileSync(join(__dirname, "../../bench/results", file), "utf8")) as Pick<BenchResults, "profiles">;
  return Object.fromEntries(evaluateTargets({ profiles: json.profiles }).map((t) => [t.name, `${t.pass ? "PASS" : "FAIL"} ${t.detail}`]));
}

describe("burst targets of the renamed-in series", () => {
  it("judge its own bursts, not the in-place ones (13:22 run, rule 10 landed)", () => {
    const t = targetsOf("2026-12-01T1322-rule10-landed.json");
    expect(t["defaults burst ≤ 1.25× relay-floor burst"]).toBe("FAIL 2.35× (2.69 s / 1.15 s)");
    expect(t["defaults burst renamed in ≤ 1.25× relay-floor burst"]).toBe("FAIL 1.28× (1.47 s / 1.15 s)");
    expect(t["defaults burst renamed in CPU s ≤ 1.3× relay-floor's"]).toBe("FAIL 1.53× (2.59 CPU s / 1.7 CPU s)");
  });

  it("judge its own bursts in the run before rule 10 (11:08)", () => {
    const t = targetsOf("2026-12-01T1108-renamed-in.json");
    expect(t["defaults burst ≤ 1.25× relay-floor burst"]).toBe("FAIL 2.09× (3.27 s / 1.56 s)");
    expect(t["defaults burst renamed in ≤ 1.25× relay-floor burst"]).toBe("FAIL 3.58× (5.59 s / 1.56 s)");
    expect(t["defaults burst renamed in CPU s ≤ 1.3× relay-floor's"]).toBe("FAIL 4.47× (10.02 CPU s / 2.24 CPU s)");
  });

  it("read the same in the run with rule 10's first try (09:54)", () => {
    const t = targetsOf("2026-12-01T0954-renamed-in-rule10-tried.json");
    expect(t["defaults burst renamed in ≤ 1.25× relay-floor burst"]).toBe("FAIL 1.36× (2.23 s / 1.63 s)");
    expect(t["defaults burst renamed in CPU s ≤ 1.3× relay-floor's"]).toBe("FAIL 1.58× (4 CPU s / 2.54 CPU s)");
  });

  it("are absent from a run without the series", () => {
    const t = targetsOf("2026-12-01T0207-mesh-floor.json");
    expect(Object.keys(t).filter((n) => n.includes("renamed in"))).toEqual([]);
    expect(t["defaults burst ≤ 1.25× relay-floor burst"]).toMatch(/^FAIL 2\.09×/);
  });
});
