// The seed step (sh/seed.sh), run as deployed: the exchange's tree reaches an emptied node
// whole, through several rsync streams, with the excludes honoured at every level the
// tree is split at, and hostile names intact; a stream that fails fails the step.
import { checksums, LiveCluster, run, startCluster, SYNC_DIR } from "../../testing/harness/cluster";

jest.setTimeout(300_000);

let live: LiveCluster;

beforeAll(async () => {
  // Excludes at the top, one level down (only right if the split asks rsync before it
  // splits a directory), and by name anywhere.
  live = await startCluster(1, {
    root: "/tmp/lsc-seed",
    addressBase: "127.0.21",
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

// A tree with one directory at the top (so the seed has to split below it), hostile
// names at every level, excluded directories and files, and an empty directory.
const MAKE_TREE = [
  "set -eu",
  `cd ${SYNC_DIR}`,
  `names=(plain 'sp ace' '-dash' $'new\\nline' '*glob?[x]' "quote'd" 'ünï' 'x.part')`,
  `for d in 'albums/2026/01' 'albums/2026/02' 'albums/private' 'albums/-odd dir' $'albums/nl\\ndir' 'albums/*[g]?' 'cache/thumbs'; do`,
  '  mkdir -p -- "$d"',
  '  for n in "${names[@]}"; do head -c $((RANDOM % 4000 + 1)) /dev/urandom > "$d/$n.jpg"; done',
  '  head -c 50 /dev/urandom > "$d/upload.part"',
  "done",
  "mkdir -p albums/empty",
  'for n in "${names[@]}"; do head -c 300 /dev/urandom > "albums/$n"; done',
  'for i in $(seq 1 200); do head -c 100 /dev/urandom > "albums/2026/01/bulk-$i.jpg"; done',
].join("\n");

/** What the node must hold after a seed: the exchange's files, less what is excluded. */
function expected(onExchange: Map<string, string>): Map<string, string> {
  return new Map(
    [...onExchange].filter(([name]) => !name.startsWith("cache/") && !name.startsWith("albums/private/") && !name.endsWith(".part")),
  );
}

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

  it("copies every file byte for byte in several streams, and nothing excluded", async () => {
    const onExchange = await checksums(h(), exchange());
    const want = expected(onExchange);
    expect(want.size).toBeGreaterThan(240);
    expect(onExchange.size - want.size).toBeGreaterThan(20);
    const pushesBefore = Number((await run(h(), node01(), "wc -l < /var/log/lsyncd/pushes.log")).trim());

    const out = await run(h(), exchange(), seedStep().create);
    expect(out).toMatch(/seeded in [2-4] stream\(s\)/);

    const got = await checksums(h(), node01());
    const diff = [...new Set([...want.keys(), ...got.keys()])].filter((n) => want.get(n) !== got.get(n));
    expect(diff).toEqual([]);
    // The receiving daemons on the node: one per stream, each with its own pid in the log.
    const receivers = await run(
      h(),
      node01(),
      `tail -n +${pushesBefore + 1} /var/log/lsyncd/pushes.log | grep -o '^[^]]*\\[[0-9]*\\]' | sed 's/.*\\[//' | sort -u | wc -l`,
    );
    expect(Number(receivers.trim())).toBeGreaterThanOrEqual(2);
  });

  it("runs again as a no-op on a node that already matches", async () => {
    const before = await checksums(h(), node01());
    await run(h(), exchange(), seedStep().create);
    expect(await checksums(h(), node01())).toEqual(before);
  });

  it("fails the step when one stream fails, after the others finished", async () => {
    await emptyNode();
    // The sync user may not write into albums/2026 on the node: the stream with it exits 23.
    await run(
      h(),
      node01(),
      `install -d -m 2775 -o lsyncd-sync -g lsyncd-sync ${SYNC_DIR}/albums && install -d -m 0755 -o root -g root ${SYNC_DIR}/albums/2026`,
    );
    const r = await h().exec(exchange(), seedStep().create, { timeoutMs: 120_000 });
    expect(r.code).toBe(23);
    expect(r.stderr).toContain("seeding failed: rsync exit 23");
    // Everything outside the refused directory still arrived.
    const want = [...expected(await checksums(h(), exchange())).keys()].filter((n) => !n.startsWith("albums/2026/"));
    const got = await checksums(h(), node01());
    expect(want.filter((n) => !got.has(n))).toEqual([]);
    await run(h(), node01(), `rm -rf ${SYNC_DIR}/albums`);
  });
});
