// The benchmark's floors push into the same forced rsync daemon as lsyncd: an option the
// daemon refuses fails the whole floor (relay-floor asked for -l after the daemon began
// refusing links, and the profile died before measuring anything).
import { REFUSED_OPTIONS } from "../../components/render/rsyncdConf";
import { FLOOR_RSYNC, meshRsync, RELAY_RSYNC } from "../../bench/profiles";
import { copyTo } from "../../bench/scale";
import { TestHost } from "../../testing/fixture/testHosts";

/** rsync's short options that stand for a refused long one. */
const SHORT: Record<string, string> = { l: "links", D: "D", K: "keep-dirlinks" };

function refusedIn(cmd: string): string[] {
  const shorts = [...cmd.matchAll(/ -([A-Za-z]+)\b/g)].flatMap((m) => [...m[1]]);
  const longs = [...cmd.matchAll(/ --([a-z-]+)/g)].map((m) => m[1]);
  // -a implies -l and -D
  const implied = shorts.includes("a") ? ["links", "D"] : [];
  const asked = [...shorts.map((c) => SHORT[c] ?? c), ...longs, ...implied];
  return asked.filter((o) => (REFUSED_OPTIONS as readonly string[]).includes(o));
}

describe("the benchmark's floors ask the forced daemon only for what it accepts", () => {
  const node = { name: "node02" } as TestHost;
  it.each([
    ["floor", FLOOR_RSYNC],
    ["relay-floor", RELAY_RSYNC],
    ["mesh-floor", meshRsync("node01")],
    ["tree copy", copyTo(node, false)],
    ["tree list-only", copyTo(node, true)],
  ])("%s", (_name, cmd) => {
    expect(refusedIn(cmd)).toEqual([]);
  });

  it("would catch -l (the check itself can fail)", () => {
    expect(refusedIn("rsync -lptu --whole-file x y")).toEqual(["links"]);
  });
});
