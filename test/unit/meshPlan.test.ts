// The mesh plan as plain data: no mocks, no engine. What waits for what, what replaces,
// what each step reads from its peers, and the names deployed stacks already carry.
import { factsFor, Facts, longestChain, PlanHost, planMesh, PlannedStep } from "../../components/meshPlan";
import { COMMON_SPEC, nodeNames } from "../helpers/meshFixture";
import { filesInScript } from "../helpers/scriptFiles";

const host = (name: string, role: "exchange" | "node"): PlanHost => ({ name, role, diskKind: "device", syncPort: 22, waitForBoot: false });
const plan = (nodes: number, spec = COMMON_SPEC) =>
  planMesh(
    spec,
    host("exchange", "exchange"),
    nodeNames(nodes).map((n) => host(n, "node")),
  );
const step = (steps: readonly PlannedStep[], id: string): PlannedStep => {
  const s = steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
};

/** Facts for every host, as a deploy would find them. */
function fakeFacts(s: PlannedStep): Facts {
  const value = (u: PlannedStep["uses"][number]): unknown => {
    switch (u.kind) {
      case "identity":
        return { syncPublicKey: `ssh-ed25519 AAAAsync${u.host}`, hostKey: `ssh-ed25519 AAAAhost${u.host}` };
      case "syncAddress":
        return `10.9.0.${u.host.length}`;
      case "disk":
        return { kind: "device", path: "/dev/nvme1n1" };
      case "dataFilesystem":
        return `uuid-of-${u.host}\n`;
    }
  };
  return factsFor(s, s.uses.map(value));
}

describe("planMesh", () => {
  it("lists every step after the steps it waits for", () => {
    const { steps } = plan(3);
    const seen = new Set<string>();
    for (const s of steps) {
      for (const a of s.after)
        expect({ step: s.id, waitsFor: a, listedBefore: seen.has(a) }).toEqual({ step: s.id, waitsFor: a, listedBefore: true });
      seen.add(s.id);
    }
    expect(new Set(steps.map((s) => s.id)).size).toBe(steps.length);
  });

  it("keeps the longest chain at 7 steps whatever the node count", () => {
    expect([1, 2, 4, 8, 32].map((n) => plan(n).longestChain)).toEqual([7, 7, 7, 7, 7]);
    // ready → packages → disk → identity → trust → seed → lsyncd
  });

  it("replaces only the disk and identity steps (a payload); everything else updates in place", () => {
    const { steps } = plan(2);
    expect([...new Set(steps.filter((s) => s.payload).map((s) => s.step))].sort()).toEqual(["disk", "identity"]);
  });

  it("keeps the resource names deployed stacks carry (a rename would be a new URN)", () => {
    expect(plan(2).steps.map((s) => s.resourceName)).toEqual([
      "exchange-ready",
      "exchange-packages",
      "exchange-disk",
      "exchange-sysctl",
      "exchange-identity",
      "node01-ready",
      "node01-packages",
      "node01-disk",
      "node01-sysctl",
      "node01-identity",
      "node01-web",
      "node02-ready",
      "node02-packages",
      "node02-disk",
      "node02-sysctl",
      "node02-identity",
      "node02-web",
      "exchange-trust",
      "node01-trust",
      "node02-trust",
      "seed-node01",
      "seed-node02",
      "exchange-lsyncd",
      "node01-lsyncd",
      "node02-lsyncd",
    ]);
  });

  it("has a node trust only the exchange, and the exchange every node", () => {
    const { steps } = plan(3);
    const hostsUsed = (id: string) => [...new Set(step(steps, id).uses.map((u) => `${u.kind}:${u.host}`))].sort();
    expect(hostsUsed("node02/trust")).toEqual(["identity:exchange", "syncAddress:exchange"]);
    expect(hostsUsed("exchange/trust")).toEqual(
      ["node01", "node02", "node03"].flatMap((n) => [`identity:${n}`, `syncAddress:${n}`]).sort(),
    );
    const trust = step(steps, "node02/trust");
    const written = Object.values(filesInScript(trust.create(fakeFacts(trust))))
      .map((f) => f.content)
      .join("\n");
    expect(written).toContain("ssh-ed25519 AAAAhostexchange");
    expect(written).toContain("ssh-ed25519 AAAAsyncexchange");
    expect(written).toContain("10.9.0.8");
    expect(written).not.toContain("AAAAsyncnode01");
  });

  it("starts a node's lsyncd after its seed and the exchange's trust, and the exchange's after every node's trust, not its seed", () => {
    const { steps } = plan(2);
    expect(step(steps, "node01/lsyncd").after).toEqual(expect.arrayContaining(["exchange/seed:node01", "exchange/trust", "node01/trust"]));
    expect(step(steps, "exchange/lsyncd").after).toEqual(expect.arrayContaining(["node01/trust", "node02/trust", "exchange/trust"]));
    // Deletes made during a seed must reach the new node: the exchange pushes to it at once.
    expect(step(steps, "exchange/lsyncd").after.filter((a) => a.includes("seed"))).toEqual([]);
    expect(step(steps, "exchange/seed:node02")).toMatchObject({
      host: "exchange",
      seeds: "node02",
      after: ["exchange/trust", "node02/trust"],
    });
  });

  it("runs the seed again when the node's data filesystem changes, as an update", () => {
    const seed = step(plan(1).steps, "exchange/seed:node01");
    expect(seed.payload).toBeUndefined();
    const a = seed.create(factsFor(seed, ["uuid-a\n"]));
    const b = seed.create(factsFor(seed, ["uuid-b\n"]));
    expect(a).not.toBe(b);
    expect(a).toContain("seeds the data filesystem uuid-a of node01");
  });

  it("refuses a read of a fact the step did not declare (the realizer would not wait for it)", () => {
    const ready = step(plan(1).steps, "node01/ready");
    expect(() => factsFor(ready, []).identity("exchange")).toThrow(
      "node01/ready reads the identity of exchange without declaring it in uses",
    );
    expect(() => ready.create(factsFor(ready, []))).not.toThrow();
    // Every step of the plan reads only what it declared.
    for (const s of plan(3).steps) expect(() => s.create(fakeFacts(s))).not.toThrow();
  });

  it("plans web steps only on nodes, and none when web is off", () => {
    expect(
      plan(2)
        .steps.filter((s) => s.step === "web")
        .map((s) => s.host),
    ).toEqual(["node01", "node02"]);
    expect(plan(2, { ...COMMON_SPEC, web: { enabled: false, port: 80 } }).steps.filter((s) => s.step === "web")).toEqual([]);
  });

  it("waits for boot only in the ready step of a booting host", () => {
    const steps = planMesh(COMMON_SPEC, { ...host("exchange", "exchange"), waitForBoot: true }, [host("node01", "node")]).steps;
    expect(steps.filter((s) => s.waitForBoot).map((s) => [s.id, s.timeoutMinutes])).toEqual([["exchange/ready", 20]]);
  });

  it("refuses two hosts with one name", () => {
    expect(() => planMesh(COMMON_SPEC, host("exchange", "exchange"), [host("node01", "node"), host("node01", "node")])).toThrow(
      "host name node01 appears twice",
    );
  });

  it("finds a cycle or a missing step instead of looping", () => {
    const base = {
      host: "h",
      step: "ready" as const,
      resourceName: "x",
      uses: [],
      create: () => "",
      delete: "",
      timeoutMinutes: 5,
      waitForBoot: false,
    };
    expect(() =>
      longestChain([
        { ...base, id: "a", after: ["b"] },
        { ...base, id: "b", after: ["a"] },
      ]),
    ).toThrow("cycle");
    expect(() => longestChain([{ ...base, id: "a", after: ["zz"] }])).toThrow("a waits for zz, which is not in the plan");
  });
});
