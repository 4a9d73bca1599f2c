// Writer patterns (issue 15): whatever way an application puts an image into the sync dir
// of node01, nginx on node02 never answers with anything but a complete version, and serves
// the new one as soon as it is on node02's disk. Each pattern logs its figures: wrong
// answers seen on node02, and how long after the writer finished node02 served it.
import { randomBytes } from "crypto";
import { fetchImage, LiveCluster, run, sha256, startCluster, SYNC_DIR, waitFor, writeImage } from "../../testing/harness/cluster";

jest.setTimeout(300_000);

let live: LiveCluster;
const h = () => live.hosts;
const node = (i: number) => live.hosts.nodes[i];

beforeAll(async () => {
  live = await startCluster(2, { root: "/tmp/lsc-writers", addressBase: "127.0.14" });
}, 600_000);

afterAll(async () => {
  await live?.hosts.stop();
});

const CHUNK = 64 * 1024;
const CHUNKS = 32; // 2 MB
const SRC = "/tmp/writer.src"; // on node01's root filesystem, not the sync disk

interface Pattern {
  readonly name: string;
  /** Bash on node01 that writes SRC's bytes to `$dst` (a path in the sync dir). */
  readonly writer: string;
  /** The name exists, complete and synced, before the writer starts. */
  readonly replaces?: boolean;
}

const chunks = (redirectFirst: string, redirectRest: string) =>
  `for i in $(seq 0 ${CHUNKS - 1}); do if [ $i = 0 ]; then r=${redirectFirst}; else r=${redirectRest}; fi; ` +
  `if [ $r = new ]; then dd if=${SRC} bs=${CHUNK} skip=$i count=1 status=none > "$dst"; ` +
  `else dd if=${SRC} bs=${CHUNK} skip=$i count=1 status=none >> "$dst"; fi; sleep 0.1; done`;

const PATTERNS: Pattern[] = [
  {
    name: "one descriptor held open, 64 kB per 100 ms",
    writer: `for i in $(seq 0 ${CHUNKS - 1}); do dd if=${SRC} bs=${CHUNK} skip=$i count=1 status=none; sleep 0.1; done > "$dst"`,
  },
  { name: "reopen and append per 64 kB chunk, one per 100 ms", writer: chunks("new", "append") },
  {
    name: "truncate and rewrite in place (reopened per chunk)",
    writer: chunks("new", "append"),
    replaces: true,
  },
  { name: "cp of a large file (20 MB)", writer: `cp /tmp/writer.big "$dst"` },
  {
    name: "write to a temp name, then rename in",
    writer: `tmp="$(dirname "$dst")/.upload-$$.part"; ${chunks("new", "append").replace(/"\$dst"/g, '"$tmp"')}; mv "$tmp" "$dst"`,
  },
  { name: "rsync into the dir", writer: `rsync ${SRC} "$dst"` },
  { name: "move in from another filesystem", writer: `cp ${SRC} /tmp/writer.moved && mv /tmp/writer.moved "$dst"` },
];

describe("writer patterns: node02 serves only complete versions", () => {
  let full: Buffer;
  let big: Buffer;

  beforeAll(async () => {
    full = randomBytes(CHUNK * CHUNKS);
    big = randomBytes(20 * 1024 * 1024);
    await run(h(), node(0), `base64 -d > ${SRC}`, full.toString("base64"));
    await run(h(), node(0), "base64 -d > /tmp/writer.big", big.toString("base64"));
  });

  it.each(PATTERNS.map((p, i) => [p.name, i] as const))("%s", async (_name, i) => {
    const p = PATTERNS[i];
    const name = `writer-${i}.jpg`;
    const want = p.name.startsWith("cp ") ? big : full;
    const allowed = new Set([sha256(want)]);
    if (p.replaces) {
      const old = randomBytes(300_000);
      await writeImage(h(), node(0), name, old);
      await waitFor(`old ${name} on node02`, async () => (await fetchImage(node(1), name))?.equals(old) ?? false, 15_000);
      allowed.add(sha256(old));
    }
    const wrong: number[] = [];
    let servedAt = 0;
    let writerDone = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const got = await fetchImage(node(1), name);
        if (got !== undefined) {
          if (!allowed.has(sha256(got))) wrong.push(got.length);
          else if (got.equals(want) && servedAt === 0) servedAt = Date.now();
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    const t0 = Date.now();
    const w = await h().exec(node(0), `dst=${SYNC_DIR}/${name}; ${p.writer}`, { timeoutMs: 60_000 });
    writerDone = Date.now();
    expect(w.stderr).toBe("");
    expect(w.code).toBe(0);
    try {
      await waitFor(`${name} complete on node02`, async () => servedAt !== 0, 20_000, 50);
      // Watch a little longer: nothing wrong may follow the complete version either.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      polling = false;
      await poller;
    }
    console.log(
      `writer "${p.name}": wrote for ${writerDone - t0} ms; node02 served it ${servedAt - writerDone} ms after the writer ended; ` +
        `${wrong.length} wrong answers${wrong.length ? ` (sizes ${[...new Set(wrong)].slice(0, 8).join(", ")})` : ""}`,
    );
    expect(wrong).toEqual([]);
  });
});

describe("nginx serves what is on disk", () => {
  it("answers with the new version as soon as it is on node02's disk, even right after serving the old one", async () => {
    const name = "replaced.jpg";
    const v1 = randomBytes(100_000);
    const v2 = randomBytes(90_000);
    await writeImage(h(), node(0), name, v1);
    await waitFor("v1 on node02", async () => (await fetchImage(node(1), name))?.equals(v1) ?? false, 15_000);
    // Keep nginx busy with v1 while v2 arrives, then ask the moment v2 is on the disk.
    const stop = Date.now() + 20_000;
    await run(h(), node(0), `base64 -d > /tmp/v2 && mv /tmp/v2 ${SYNC_DIR}/${name}`, v2.toString("base64"));
    let stale = 0;
    for (;;) {
      const onDisk = (await run(h(), node(1), `sha256sum < ${SYNC_DIR}/${name}`)).slice(0, 64);
      const served = await fetchImage(node(1), name);
      if (onDisk === sha256(v2)) {
        expect(served?.equals(v2) || served?.equals(v1)).toBe(true);
        // The disk already had v2 before this request: it must be v2.
        const after = await fetchImage(node(1), name);
        if (!after?.equals(v2)) stale++;
        break;
      }
      if (Date.now() > stop) throw new Error("v2 never reached node02's disk");
    }
    expect(stale).toBe(0);
  });
});
