// Convergence after same-name races (issue 15): every host ends with the same bytes for
// every name, by the rule the README states (newest mtime, to the nanosecond, wins).
import { randomBytes } from "crypto";
import { checksums, LiveCluster, run, sha256, startCluster, SYNC_DIR, waitFor, writeImage } from "./harness/cluster";
import { TestHost } from "./fixture/testHosts";

jest.setTimeout(300_000);

let live: LiveCluster;

beforeAll(async () => {
  live = await startCluster(3, { root: "/tmp/lsc-conv", addressBase: "127.0.13" });
}, 600_000);

afterAll(async () => {
  await live?.hosts.stop();
});

const h = () => live.hosts;
const exchange = () => live.hosts.exchange;
const node = (i: number) => live.hosts.nodes[i];
const all = () => [exchange(), ...h().nodes];

/** name → sha256 on each host, as one comparable string per host. */
async function views(hosts: TestHost[]): Promise<string[]> {
  return (await Promise.all(hosts.map((x) => checksums(h(), x)))).map((m) => JSON.stringify([...m].sort()));
}

async function identical(hosts: TestHost[]): Promise<boolean> {
  const v = await views(hosts);
  return v.every((s) => s === v[0]);
}

describe("same name written on two nodes while the exchange is down", () => {
  it.each([
    ["node01 first, node02 newer", 0, 1],
    ["node02 first, node01 newer", 1, 0],
  ])("ends with the newer version on every host (same size, same second, 25 ms apart): %s", async (_what, first, second) => {
    await run(h(), exchange(), "systemctl stop lsyncd");
    await h().stopSshd(exchange());
    try {
      // Sizes equal on purpose: rsync's default quick check (whole seconds, size) calls
      // them the same file.
      const older = randomBytes(40_000);
      const newer = randomBytes(40_000);
      for (let i = 0; i < 20; i++) {
        await writeImage(h(), node(i % 2), `outage-dup-filler-${first}-${i}.bin`, randomBytes(3000));
      }
      // Both writes within one second: wait for the start of a second first.
      await run(h(), node(0), "t=$(date +%N); sleep 0.$(printf %09d $((1000000000 - 10#$t)))");
      const name = `dup-${first}.bin`;
      await writeImage(h(), node(first), name, older);
      await new Promise((r) => setTimeout(r, 25));
      await writeImage(h(), node(second), name, newer);
      const mtimes = await Promise.all([node(first), node(second)].map((n) => run(h(), n, `stat -c %.9Y ${SYNC_DIR}/${name}`)));
      console.log(`${name} mtimes: older ${mtimes[0].trim()} on ${node(first).name}, newer ${mtimes[1].trim()} on ${node(second).name}`);
      // Both nodes retry against the dead exchange for a while.
      await new Promise((r) => setTimeout(r, 5000));
      await h().startSshd(exchange());
      await run(h(), exchange(), "systemctl start lsyncd");
      const ms = await waitFor(
        `every host identical, with ${node(second).name}'s ${name}`,
        async () => (await identical(all())) && (await checksums(h(), node(first))).get(name) === sha256(newer),
        60_000,
        500,
      );
      console.log(`converged ${ms} ms after the exchange came back`);
    } finally {
      await h().startSshd(exchange()).catch(() => undefined);
      await run(h(), exchange(), "systemctl start lsyncd").catch(() => undefined);
    }
  });
});
