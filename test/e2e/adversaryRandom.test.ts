// The randomized adversary (issue 11): an attacker holding a sync key makes LSC_PUSHES
// (default 200) seeded random pushes (randomPush.ts), half with node01's key against the
// exchange, half with the exchange's key against node01. After every batch, on every
// host: nothing outside the sync dir changed (manifest.ts of /etc, /root, /usr/local,
// /var/lib, /tmp, /dev/shm), nginx answers no probe with a file from outside, nothing in
// any sync dir is setuid, world-writable, special or a link, lsyncd's heartbeat is fresh
// and lsyncd-cluster-health is green again within 10 s. Replay: LSC_SEED=<printed seed>.
import { readdirSync, rmSync } from "fs";
import { LiveCluster, startCluster, waitFor } from "../../testing/harness/cluster";
import { seedFromEnv } from "../../testing/harness/seeded";
import { TestHost } from "../../testing/fixture/testHosts";
import { heartbeat, manifest, manifestDiff, MARK, push, served, syncDirProblems } from "./adversary/attacker";
import { randomPush, rng } from "./adversary/randomPush";

jest.setTimeout(600_000);

const SEED = seedFromEnv();
const PUSHES = Number(process.env.LSC_PUSHES ?? 200);
const BATCH = 10;
/** Bound on the whole run: the suite stops early (and fails) rather than run for ever. */
const BUDGET_MS = 240_000;

let live: LiveCluster;

beforeAll(async () => {
  console.log(`randomized adversary: LSC_SEED=${SEED} LSC_PUSHES=${PUSHES}`);
  live = await startCluster(2, { root: "/tmp/lsc-advr", addressBase: "127.0.14" });
}, 600_000);

afterAll(async () => {
  await live?.hosts.stop();
  for (const n of readdirSync("/dev/shm").filter((x) => x.includes(MARK))) rmSync(`/dev/shm/${n}`, { force: true, recursive: true });
});

it(`survives ${PUSHES} random pushes with a stolen sync key (seed printed above)`, async () => {
  const h = live.hosts;
  const x = h.exchange;
  const [n1, n2] = h.nodes as [TestHost, TestHost];
  const r = rng(SEED);
  const baseline = new Map<string, string>();
  for (const host of h.hosts) baseline.set(host.name, await manifest(h, host));
  const t0 = Date.now();
  const kinds = new Map<string, { pushes: number; accepted: number }>();
  for (let i = 0; i < PUSHES; i += BATCH) {
    if (Date.now() - t0 > BUDGET_MS) throw new Error(`time budget spent after ${i} pushes (seed ${SEED})`);
    const probes: Array<{ host: TestHost; path: string }> = [];
    const done: string[] = [];
    for (let j = i; j < Math.min(PUSHES, i + BATCH); j++) {
      const p = randomPush(r, j);
      const [from, to] = r() < 0.5 ? [n1, x] : [x, n1];
      const res = await push(h, from, to, p.build, p.args, p.dest);
      const k = kinds.get(p.kind) ?? { pushes: 0, accepted: 0 };
      kinds.set(p.kind, { pushes: k.pushes + 1, accepted: k.accepted + (res.code === 0 ? 1 : 0) });
      done.push(`#${j} ${from.name}->${to.name} ${p.kind}: rsync ${p.args} ::sync/${p.dest} => exit ${res.code}`);
      for (const path of p.probes) probes.push({ host: to === x ? n2 : n1, path }, { host: n1, path });
    }
    const context = () => `seed ${SEED}, pushes ${i}..${i + BATCH - 1}:\n${done.join("\n")}`;
    // Relays of what was accepted run meanwhile; give them their settle time first.
    await new Promise((res) => setTimeout(res, 1500));
    for (const host of h.hosts) {
      const diff = manifestDiff(baseline.get(host.name) ?? "", await manifest(h, host));
      expect(`${host.name} outside the sync dir: ${diff.join("\n")}`).toBe(`${host.name} outside the sync dir: `);
      const problems = await syncDirProblems(h, host);
      if (problems.length > 0) throw new Error(`${host.name} sync dir: ${problems.join("; ")}\n${context()}`);
      const now = Math.floor(Date.now() / 1000);
      const beat = await heartbeat(h, host);
      if (now - beat > 25) throw new Error(`${host.name}: lsyncd heartbeat ${now - beat} s old\n${context()}`);
      try {
        await waitFor(`${host.name} healthy`, async () => (await h.exec(host, "lsyncd-cluster-health")).code === 0, 10_000, 250);
      } catch {
        const why = (await h.exec(host, "lsyncd-cluster-health; tail -n 20 /var/log/lsyncd/lsyncd.log")).stdout;
        throw new Error(`${host.name} not healthy within 10 s: ${why}\n${context()}`);
      }
    }
    for (const { host, path } of probes) {
      const got = await served(host, path);
      if (got.status === "200" && /root:x:0:0|lsyncd-sync|PRIVATE KEY/.test(got.body)) {
        throw new Error(`${host.name} served ${path} from outside the sync dir\n${context()}`);
      }
    }
  }
  const ms = Date.now() - t0;
  console.log(
    `randomized adversary: seed ${SEED}, ${PUSHES} pushes in ${(ms / 1000).toFixed(1)} s\n` +
      [...kinds].map(([k, v]) => `  ${k}: ${v.pushes} pushes, ${v.accepted} accepted`).join("\n"),
  );
});
