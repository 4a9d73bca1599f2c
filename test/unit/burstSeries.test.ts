// A benchmark series must empty the sync dirs before every burst, not once per series:
// left to accumulate, each burst met the files and writeback of those before it and the
// series got slower burst by burst (bench/burstSeries.ts has the figures).
import { burstSeries } from "../../bench/burstSeries";

describe("burstSeries", () => {
  it("empties before every burst, then runs it", async () => {
    const calls: string[] = [];
    await burstSeries(
      3,
      async () => {
        calls.push("empty");
      },
      async (k) => {
        calls.push(`burst ${k}`);
        return k;
      },
      (k) => k,
    );
    expect(calls).toEqual(["empty", "burst 1", "empty", "burst 2", "empty", "burst 3"]);
  });

  it("waits for the emptying to finish before the burst starts", async () => {
    const calls: string[] = [];
    await burstSeries(
      2,
      async () => {
        await new Promise((r) => setTimeout(r, 20));
        calls.push("emptied");
      },
      async (k) => {
        calls.push(`burst ${k}`);
        return k;
      },
      (k) => k,
    );
    expect(calls).toEqual(["emptied", "burst 1", "emptied", "burst 2"]);
  });

  it("reports the median burst whole, and every burst's seconds in run order", async () => {
    const bursts = [
      { seconds: 2.0004, cpu: "second" },
      { seconds: 1.0, cpu: "first" },
      { seconds: 3.5, cpu: "third" },
    ];
    const s = await burstSeries(
      3,
      async () => undefined,
      async (k) => bursts[k - 1],
      (b) => b.seconds,
    );
    expect(s.chosen).toBe(bursts[0]);
    expect(s.allSeconds).toEqual([2, 1, 3.5]);
  });
});
