// The seed step (seedScript.ts), run as deployed: the exchange's tree reaches an emptied
// node whole (files byte for byte, every directory, hostile names intact), the excludes
// honoured at every depth, a second run changes nothing, a re-seed of a live node is no
// echo, and a failure fails the step.
import { checksums, FIND_SYNCED, LiveCluster, run, startCluster, SYNC_DIR, waitFor } from "../../testing/harness/cluster";
import { stepRun } from "../../components/remote/provider";
import { LSYNCD_LOG, pusherTempDir, SYNC_USER } from "../../components/hostLayout";
import { rng, seedFromEnv } from "../../testing/harness/seeded";
import { readdirSync } from "fs";
import { join } from "path";
import { TestHost } from "../../testing/fixture/testHosts";

jest.setTimeout(300_000);

let live: LiveCluster;

beforeAll(async () => {
  // Excludes at the top, one level down, and by name anywhere.
  live = await startCluster(1, {
    root: "/tmp/lsc-seed",
    addressBase: "127.0.22",
    extraConfig: { lsyncd: { excludes: ["/cache/", "/albums/private/", "*.part"] } },
  });
}, 600_000);

afterAll(async () => {
  await live?.hosts.stop();
});

const h = () => live.hosts;
const exchange = () => live.hosts.exchange;
const node01 = () => live.hosts.nodes[0];
const seedStep = () => {
  const step = live.deployment.steps.find((s) => s.name === "lsyncd-mesh-seed-node01");
  if (!step) throw new Error(`no seed step among ${live.deployment.steps.map((s) => s.name).join(", ")}`);
  return step;
};

// A tree with hostile names at every level (rsync reads a list line that starts with # or ;
// as a comment), excluded directories and files, an empty directory and one whose only
// entries are excluded.
const MAKE_TREE = [
  "set -eu",
  `cd ${SYNC_DIR}`,
  `names=(plain 'sp ace' '-dash' $'new\\nline' '*glob?[x]' "quote'd" 'ünï' 'x.part')`,
  `for d in 'albums/2026/01' 'albums/2026/02' 'albums/private' 'albums/-odd dir' $'albums/nl\\ndir' 'albums/*[g]?' 'cache/thumbs'; do`,
  '  mkdir -p -- "$d"',
  '  for n in "${names[@]}"; do head -c $((RANDOM % 4000 + 1)) /dev/urandom > "$d/$n.jpg"; done',
  '  head -c 50 /dev/urandom > "$d/upload.part"',
  "done",
  "mkdir -p albums/empty albums/only-parts '#top dir' ';semi'",
  "head -c 50 /dev/urandom > albums/only-parts/a.part",
  'for n in "${names[@]}"; do head -c 300 /dev/urandom > "albums/$n"; done',
  "head -c 300 /dev/urandom > '#top dir/a.jpg'; head -c 300 /dev/urandom > '#top-file'; head -c 300 /dev/urandom > ';semi/b.jpg'",
  'for i in $(seq 1 200); do head -c 100 /dev/urandom > "albums/2026/01/bulk-$i.jpg"; done',
].join("\n");

/** What the node must hold after a seed: the exchange's files, less what is excluded. */
function expected(onExchange: Map<string, string>): Map<string, string> {
  return new Map(
    [...onExchange].filter(([name]) => !name.startsWith("cache/") && !name.startsWith("albums/private/") && !name.endsWith(".part")),
  );
}

/** Every directory of a host's sync dir that is synced, NUL-safe. */
async function directories(host: TestHost): Promise<string[]> {
  const out = await run(h(), host, `cd ${SYNC_DIR} && ${FIND_SYNCED} -type d -print0 | sort -z`);
  return out.split("\0").filter(Boolean);
}

/** name → "mode mtime" and name → inode of every file a host's seed compares (NUL-safe). */
async function fileStats(host: TestHost): Promise<{ modeTime: Map<string, string>; inode: Map<string, string> }> {
  const out = await run(h(), host, `cd ${SYNC_DIR} && ${FIND_SYNCED} -type f -printf '%P\\0%m %T@ %i\\0'`);
  const fields = out.split("\0");
  const modeTime = new Map<string, string>();
  const inode = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [mode, time, ino] = fields[i + 1].split(" ");
    modeTime.set(fields[i], `${mode} ${time}`);
    inode.set(fields[i], ino);
  }
  return { modeTime, inode };
}

/** When the exchange's temp dir on node01 last changed (a copy made or renamed out of it). */
const tempDirChanged = () => run(h(), node01(), `stat -c %y ${SYNC_DIR}/${pusherTempDir("exchange")}`);

async function emptyNode(): Promise<void> {
  await run(
    h(),
    node01(),
    `systemctl stop lsyncd && find ${SYNC_DIR} -mindepth 1 -maxdepth 1 ! -name .lsyncd-tmp ! -name lost+found -exec rm -rf {} +`,
  );
}

describe("seeding an emptied node", () => {
  beforeAll(async () => {
    // The exchange's lsyncd would relay the new tree itself: stopped, the seed is the only way in.
    await run(h(), exchange(), "systemctl stop lsyncd");
    await run(h(), exchange(), "bash -s", MAKE_TREE);
    await emptyNode();
  });

  afterAll(async () => {
    await run(h(), node01(), `chmod -R u+w ${SYNC_DIR} 2>/dev/null; systemctl start lsyncd`).catch(() => undefined);
    await run(h(), exchange(), "systemctl start lsyncd").catch(() => undefined);
  });

  it("copies every file byte for byte and every directory, and nothing excluded", async () => {
    const onExchange = await checksums(h(), exchange());
    const want = expected(onExchange);
    expect(want.size).toBeGreaterThan(240);
    expect(onExchange.size - want.size).toBeGreaterThan(20);
    expect([...want.keys()]).toEqual(
      expect.arrayContaining(["#top-file", "#top dir/a.jpg", ";semi/b.jpg", "albums/2026/01/new\nline.jpg"]),
    );

    // The step's first run, as the provider runs it: the node is new and its lsyncd stopped.
    const tempBefore = await tempDirChanged();
    expect(await run(h(), exchange(), stepRun(seedStep().create, "create"))).toContain(
      "seeded node01 straight into place (the step's first run: a new node)",
    );

    const got = await checksums(h(), node01());
    // Copied straight into place, as a direct rsync does (the fast path: issue 14).
    expect(await tempDirChanged()).toBe(tempBefore);
    const diff = [...new Set([...want.keys(), ...got.keys()])].filter((n) => want.get(n) !== got.get(n));
    expect(diff).toEqual([]);
    const excludedDir = (d: string) => /^\.\/(cache|albums\/private)(\/|$)/.test(d);
    const wantDirs = (await directories(exchange())).filter((d) => !excludedDir(d));
    expect(wantDirs).toEqual(expect.arrayContaining(["./albums/empty", "./albums/only-parts", "./albums/nl\ndir"]));
    expect(await directories(node01())).toEqual(wantDirs);
    // Modes and mtimes (to the nanosecond: newest-mtime arbitration reads them) as on the exchange.
    const [source, copy] = await Promise.all([fileStats(exchange()), fileStats(node01())]);
    const wrongStats = [...want.keys()].filter((n) => source.modeTime.get(n) !== copy.modeTime.get(n));
    expect(wrongStats).toEqual([]);
  });

  it("runs again as a no-op on a node that already matches", async () => {
    const before = await checksums(h(), node01());
    const inodes = (await fileStats(node01())).inode;
    await run(h(), exchange(), stepRun(seedStep().create, "update"));
    expect(await checksums(h(), node01())).toEqual(before);
    // Not copied again either: a copy would be a new file renamed into place.
    expect((await fileStats(node01())).inode).toEqual(inodes);
  });

  it("re-seeds a live node through the exchange's temp dir on a later run: its lsyncd takes the copies as arrivals, not local writes", async () => {
    // A later run (a replaced disk, an upgrade) may find the node's lsyncd running.
    const startups = async () => Number((await run(h(), node01(), `grep -c 'Startup of .* finished' ${LSYNCD_LOG} || true`)).trim());
    const startedBefore = await startups();
    await run(h(), node01(), `rm -f -- ${SYNC_DIR}/albums/2026/01/bulk-*.jpg && systemctl start lsyncd`);
    await waitFor("node01's lsyncd done with its startup sync", async () => (await startups()) > startedBefore, 60_000, 100);
    const logFrom = Number((await run(h(), node01(), `stat -c %s ${LSYNCD_LOG}`)).trim());
    const tempBefore = await tempDirChanged();

    const said = await run(h(), exchange(), stepRun(seedStep().create, "update"));

    expect(said).toContain("seeded node01 through the exchange's temp dir (a later run)");
    const want = expected(await checksums(h(), exchange()));
    const got = await checksums(h(), node01());
    expect([...want.keys()].filter((n) => got.get(n) !== want.get(n))).toEqual([]);
    expect(await tempDirChanged()).not.toBe(tempBefore);
    // A local write is pushed after the 1 s quiet period: none of the 200 copies may be,
    // nor a directory (a time set on one would be an attribute change to push).
    await new Promise((r) => setTimeout(r, 4000));
    const log = await run(h(), node01(), `tail -c +${logFrom + 1} ${LSYNCD_LOG}`);
    expect(log.split("\n").filter((l) => l.includes("/bulk-"))).toEqual([]);
    expect(log).not.toContain("Calling rsync");
    await run(h(), node01(), "systemctl stop lsyncd");
  });

  it("fails the step when rsync fails on the node, after copying what it could", async () => {
    await emptyNode();
    // The sync user may not write into albums/2026 on the node: rsync exits 23.
    await run(
      h(),
      node01(),
      `install -d -m 2775 -o lsyncd-sync -g lsyncd-sync ${SYNC_DIR}/albums && install -d -m 0755 -o root -g root ${SYNC_DIR}/albums/2026`,
    );
    const r = await h().exec(exchange(), stepRun(seedStep().create, "create"), { timeoutMs: 120_000 });
    expect(r.code).toBe(23);
    expect(r.stderr).toContain("seeding failed: rsync exit 23");
    // Everything outside the refused directory still arrived.
    const want = [...expected(await checksums(h(), exchange()))].filter(([n]) => !n.startsWith("albums/2026/"));
    const got = await checksums(h(), node01());
    expect(want.filter(([n, sum]) => got.get(n) !== sum).map(([n]) => n)).toEqual([]);
    await run(h(), node01(), `rm -rf ${SYNC_DIR}/albums`);
  });

  it("leaves no half-copied file in the tree when a first run is cut off at a random moment (seeded), and the next run completes it", async () => {
    const seed = seedFromEnv();
    const random = rng(seed);
    // A seed long enough to cut: 400 images of 200 kB on the exchange.
    await run(
      h(),
      exchange(),
      `mkdir -p ${SYNC_DIR}/big && for i in $(seq 1 400); do head -c 200000 /dev/urandom > ${SYNC_DIR}/big/$i.jpg; done`,
    );
    await emptyNode();
    const cutAt = 1 + Math.floor(random() * 250);
    console.log(`seed.test: LSC_SEED=${seed}: the first run's sending rsync killed once node01 holds ${cutAt} of the 400`);
    // SIGKILL: the sender gets no chance to say goodbye; the node's receiver sees the
    // connection drop. (A step's timeout, an operator's Ctrl-C and a lost network look the
    // same to the node.) node01's tree is read through /proc/<its init>/root: no exec.
    const seeding = run(h(), exchange(), `${stepRun(seedStep().create, "create")} || true`);
    // (pkill finds nothing if the seed finished first: the count below then fails the test.)
    const bigOnNode = join(`/proc/${node01().initPid}/root`, SYNC_DIR, "big");
    const count = () => {
      try {
        return readdirSync(bigOnNode).filter((n) => n.endsWith(".jpg") && !n.startsWith(".")).length;
      } catch {
        return 0;
      }
    };
    await waitFor(`${cutAt} images on node01`, async () => count() >= cutAt, 60_000, 5);
    await run(h(), exchange(), "pkill -KILL -x rsync || true");
    await seeding;
    await waitFor(
      "node01's receiving rsync gone",
      async () => (await h().exec(node01(), `pgrep -u ${SYNC_USER} -x rsync`)).code !== 0,
      30_000,
      50,
    );
    const copied = (await run(h(), node01(), `find ${SYNC_DIR}/big -type f | wc -l`)).trim();
    const leftovers = await run(h(), node01(), `cd ${SYNC_DIR} && ${FIND_SYNCED} -name '.*' -type f -print`);
    console.log(`seed.test: ${copied} of 400 images copied before the cut`);
    expect(Number(copied)).toBeGreaterThanOrEqual(cutAt);
    expect(Number(copied)).toBeLessThan(400);
    expect(leftovers).toBe("");

    expect(await run(h(), exchange(), stepRun(seedStep().create, "create"))).toContain("straight into place");
    const want = expected(await checksums(h(), exchange()));
    const got = await checksums(h(), node01());
    expect([...new Set([...want.keys(), ...got.keys()])].filter((n) => want.get(n) !== got.get(n))).toEqual([]);
    await run(h(), exchange(), `rm -rf ${SYNC_DIR}/big`);
    await run(h(), node01(), `rm -rf ${SYNC_DIR}/big`);
  });
});
