// Issue 13, "nothing lost", on real hosts (exchange + 3 nodes): what pushes overwrite,
// delete or lose is kept on the exchange and can be restored; one origin's mass delete is
// held by the exchange's fuse until the operator releases or undoes it, across a restart
// of the exchange; pruning removes exactly what is past retention; a stolen sync key can
// neither reach the versions nor get them served or synced.
import { randomBytes } from "crypto";
import {
  checksums,
  fetchImage,
  LiveCluster,
  onEveryHost,
  run,
  sha256,
  startCluster,
  SYNC_DIR,
  waitFor,
  writeImage,
} from "../../testing/harness/cluster";
import { TestHost } from "../../testing/fixture/testHosts";
import { rng, seedFromEnv } from "../../testing/harness/seeded";
import { LSYNCD_LOG, RSYNCD_PUSH_LOG } from "../../components/hostLayout";
import { push } from "./adversary/attacker";

jest.setTimeout(300_000);

const VERSIONS = `${SYNC_DIR}/.lsyncd-versions`;
const SEED = seedFromEnv();
const RACE_ROUNDS = 6;
const FUSE_FILES = 200;
// Short, so the suite's separate delete bursts never share one window (each test waits it out).
const FUSE_SECONDS = 20;
let lastDeletes = 0;
/** Waits until deletes made before now have left the fuse's window. */
async function outsideFuseWindow(): Promise<void> {
  const wait = lastDeletes + (FUSE_SECONDS + 2) * 1000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

let live: LiveCluster;

beforeAll(async () => {
  live = await startCluster(3, {
    root: "/tmp/lsc-versions",
    addressBase: "127.0.16",
    extraConfig: { versions: { keepDays: 14 }, deleteFuse: { files: FUSE_FILES, seconds: FUSE_SECONDS } },
  });
}, 600_000);

afterAll(async () => {
  await live?.hosts.stop();
});

const h = () => live.hosts;
const exchange = () => live.hosts.exchange;
const node = (i: number) => live.hosts.nodes[i];
const all = () => [exchange(), ...h().nodes];

interface Version {
  stamp: string;
  origin: string;
  kind: string;
  size: number;
  path: string;
}

async function versions(args = ""): Promise<Version[]> {
  const r = await h().exec(exchange(), `lsyncd-cluster-restore list ${args}`);
  if (r.code === 1 && /no version matches/.test(r.stderr)) return [];
  if (r.code !== 0) throw new Error(`list ${args}: exit ${r.code}: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [stamp, origin, kind, size, ...path] = line.trim().split(/\s+/);
      return { stamp, origin, kind, size: Number(size), path: path.join(" ") };
    });
}

/** sha256 of each version of `path` on the exchange, oldest first. */
async function versionSums(path: string): Promise<{ name: string; sum: string }[]> {
  const out = await run(h(), exchange(), `cd ${VERSIONS}/${path} && ls | LC_ALL=C sort | xargs -r sha256sum`);
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => ({ sum: l.slice(0, 64), name: l.slice(66) }));
}

async function sumEverywhere(name: string): Promise<(string | undefined)[]> {
  return Promise.all(all().map(async (x) => (await checksums(h(), x)).get(name)));
}

/** Every host holds the same names with the same bytes (below `dir`, or everywhere). */
async function identical(dir = ""): Promise<boolean> {
  const v = (await Promise.all(all().map((x) => checksums(h(), x)))).map((m) =>
    JSON.stringify([...m].filter(([n]) => n.startsWith(dir)).sort()),
  );
  return v.every((s) => s === v[0]);
}

/** What each host holds below `dir` and what the exchange's lsyncd said last: for a failure message. */
async function diagnose(dir: string): Promise<string> {
  const per = await Promise.all(all().map((x) => checksums(h(), x)));
  const names = new Set(per.flatMap((m) => [...m.keys()].filter((n) => n.startsWith(dir))));
  const differ = [...names].filter((n) => new Set(per.map((m) => m.get(n))).size > 1).slice(0, 5);
  const log = await run(h(), exchange(), "grep -v 'Calling\\|Finished\\|^/\\|^[a-z0-9]' /var/log/lsyncd/lsyncd.log | tail -n 12");
  const tail = await run(h(), exchange(), "tail -n 8 /run/fixture-units/lsyncd.log 2>/dev/null || true");
  // Where the few names the exchange still holds came from (a name that came back after a
  // delete): every host's record of pushes received and lsyncd's lines naming it.
  const left = [...per[0].keys()].filter((n) => n.startsWith(dir)).slice(0, 3);
  const trail = (
    await Promise.all(
      left.flatMap((n) =>
        all().map(async (x) => {
          const r = await h().exec(
            x,
            `grep -F -- ${JSON.stringify(n)} ${RSYNCD_PUSH_LOG} | tail -n 5; grep -n -B3 -A1 -F -- ${JSON.stringify(`/${n}`)} ${LSYNCD_LOG} | tail -n 24`,
          );
          return `-- ${n} on ${x.name}:\n${r.stdout}`;
        }),
      ),
    )
  ).join("");
  return `${all()
    .map((x, i) => `${x.name}: ${[...per[i].keys()].filter((n) => n.startsWith(dir)).length} names`)
    .join(
      ", ",
    )}; differing: ${differ.map((n) => `${n} ${per.map((m) => m.get(n)?.slice(0, 6) ?? "-").join("/")}`).join("; ")}\nexchange log:\n${log}\nrsync:\n${tail}\n${trail}`;
}

async function waitIdentical(what: string, dir: string, ms: number, extra: () => Promise<boolean> = async () => true): Promise<number> {
  return waitFor(what, async () => (await identical(dir)) && (await extra()), ms, 500).catch(async (e) => {
    throw new Error(`${e}\n${await diagnose(dir)}`);
  });
}

async function health(host: TestHost): Promise<{ code: number; out: string }> {
  const r = await h().exec(host, "lsyncd-cluster-health");
  return { code: r.code, out: r.stdout.trim() };
}

/** Names in `dir` on a host (its sync dir), by find. */
async function countIn(host: TestHost, dir: string): Promise<number> {
  const out = await run(h(), host, `find ${SYNC_DIR}/${dir} -type f 2>/dev/null | wc -l`);
  return Number(out.trim());
}

describe("versions", () => {
  it("an overwrite on three different nodes keeps three versions, and each one is restorable to every host", async () => {
    const contents = [0, 1, 2, 3].map(() => randomBytes(30_000 + Math.floor(Math.random() * 1000)));
    const writers = [node(0), node(1), node(2), node(0)];
    for (let i = 0; i < 4; i++) {
      await writeImage(h(), writers[i], "thrice.bin", contents[i]);
      await onEveryHost(h(), "thrice.bin", sha256(contents[i]));
      // Each overwrite in a second of its own: versions are named by the second.
      await new Promise((r) => setTimeout(r, 1100));
    }
    const kept = await versions("thrice.bin");
    console.log(`versions of thrice.bin:\n${kept.map((v) => `${v.stamp} ${v.origin} ${v.kind}`).join("\n")}`);
    expect(kept.map((v) => `${v.origin} ${v.kind}`)).toEqual(["node02 overwritten", "node03 overwritten", "node01 overwritten"]);
    expect((await versionSums("thrice.bin")).map((v) => v.sum)).toEqual(contents.slice(0, 3).map(sha256));
    // Each version back, by its time, on every host.
    for (let i = 0; i < 3; i++) {
      const out = await run(h(), exchange(), `lsyncd-cluster-restore restore --since ${kept[i].stamp} thrice.bin`);
      expect(out).toMatch(/^restored: thrice.bin/m);
      const ms = await onEveryHost(h(), "thrice.bin", sha256(contents[i]));
      console.log(`restored version ${i} of thrice.bin: on every host within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 1100));
    }
    // Nothing was lost by restoring either: each replaced live file is a version too.
    expect((await versions("thrice.bin")).filter((v) => v.origin === "restore")).toHaveLength(3);
  });

  // Real uploads on two nodes are never exactly simultaneous: the second lands a random
  // fraction of a second after the first (seeded, printed; LSC_SEED=<seed> replays it), before
  // the first could have reached it: neither writer saw the other's image.
  it(`the same name written on two nodes within a second keeps both contents: one live everywhere, the other a conflict version (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const verdicts: string[] = [];
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const name = `both-${round}.bin`;
      // Sizes differ: on these hosts (one kernel clock) two writes within one tick share
      // their mtime to the nanosecond, a tie no push can see (convergence.test.ts).
      const a = randomBytes(20_000);
      const b = randomBytes(20_001);
      // Under half the quiet second: the exchange's reference is when node01's version
      // arrived there, about a second after it was written, and the test hosts share 2 CPUs.
      const gapMs = Math.floor(random() * 500);
      await Promise.all([
        writeImage(h(), node(0), name, a),
        new Promise((r) => setTimeout(r, gapMs)).then(() => writeImage(h(), node(1), name, b)),
      ]);
      await waitIdentical(`${name} identical on every host`, name, 60_000, async () => (await sumEverywhere(name))[0] !== undefined);
      const liveSum = (await sumEverywhere(name))[0];
      expect([sha256(a), sha256(b)]).toContain(liveSum);
      const loser = liveSum === sha256(a) ? sha256(b) : sha256(a);
      // The loser's version may be kept a moment after the winner is everywhere.
      await waitFor(`${name}'s loser kept`, async () => (await versionSums(name)).some((k) => k.sum === loser), 10_000, 250).catch(() => 0);
      const kept = await versionSums(name);
      const asConflict = kept.some((k) => k.sum === loser && /~conflict/.test(k.name));
      verdicts.push(
        `${name}: node02 wrote ${gapMs} ms after node01; live ${liveSum === sha256(a) ? "node01's" : "node02's"}; versions ${kept
          .map((k) => `${k.name}${k.sum === loser ? " (the loser)" : ""}`)
          .join(", ")}: ${asConflict ? "ok" : "the loser is not a conflict version"}`,
      );
    }
    console.log(`same-name races (seed ${SEED}):\n${verdicts.join("\n")}`);
    expect(verdicts.filter((v) => !v.endsWith(": ok"))).toEqual([]);
  });

  it("100 deletes on one node (under the fuse) propagate as before, each one kept as a version", async () => {
    await run(
      h(),
      node(0),
      `umask 002 && mkdir -p ${SYNC_DIR}/few && for i in $(seq 1 100); do head -c 2000 /dev/urandom > ${SYNC_DIR}/few/$i.bin; done`,
    );
    await waitFor(
      "100 files on every host",
      async () => (await Promise.all(all().map((x) => countIn(x, "few")))).every((n) => n === 100),
      60_000,
      500,
    );
    await outsideFuseWindow();
    await run(h(), node(0), `rm -f ${SYNC_DIR}/few/*.bin`);
    lastDeletes = Date.now();
    const ms = await waitFor(
      "the 100 deletes on every host",
      async () => (await Promise.all(all().map((x) => countIn(x, "few")))).every((n) => n === 0),
      30_000,
      250,
    );
    console.log(`100 deletes reached every host within ${ms} ms`);
    lastDeletes = Date.now();
    expect((await versions("--kind deleted --origin node01 few/")).length).toBe(100);
    expect((await health(exchange())).code).toBe(0);
  });
});

describe("the mass-delete fuse", () => {
  async function burst(dir: string): Promise<Map<string, string>> {
    await run(
      h(),
      node(0),
      `umask 002 && mkdir -p ${SYNC_DIR}/${dir} && for i in $(seq 1 500); do head -c 3000 /dev/urandom > ${SYNC_DIR}/${dir}/$i.bin; done`,
    );
    await waitFor(
      `500 files in ${dir} on every host`,
      async () => (await Promise.all(all().map((x) => countIn(x, dir)))).every((n) => n === 500),
      90_000,
      500,
    );
    return checksums(h(), node(1));
  }

  async function tripped(dir: string): Promise<void> {
    await outsideFuseWindow();
    await run(h(), node(0), `rm -rf ${SYNC_DIR}/${dir}`);
    lastDeletes = Date.now();
    await waitFor("the exchange's health CRITICAL", async () => (await health(exchange())).code === 2, 30_000, 250);
    const hc = await health(exchange());
    console.log(`exchange health: ${hc.out}`);
    // The list grows as the deletes arrive (the last may come a moment after the trip).
    await waitFor(
      "the health naming node01 and 500",
      async () => /node01 deleted 500 file/.test((await health(exchange())).out),
      30_000,
      250,
    ).catch(async (e) => {
      throw new Error(`${e}: ${(await health(exchange())).out}\n${await diagnose(`${dir}/`)}`);
    });
    console.log(`exchange health: ${(await health(exchange())).out}`);
    // Given time to (wrongly) relay, the other nodes still hold and serve every file.
    await new Promise((r) => setTimeout(r, 5000));
    expect(await countIn(node(0), dir)).toBe(0);
    expect(await countIn(exchange(), dir)).toBe(0);
    for (const n of [node(1), node(2)]) {
      expect(await countIn(n, dir)).toBe(500);
      for (const i of [1, 250, 500]) expect(await fetchImage(n, `${dir}/${i}.bin`)).toBeDefined();
    }
  }

  it("rm -rf of 500 files on node01 is held: the other nodes keep serving them, the exchange's health names node01 and 500, the hold survives a restart of the exchange, writes keep flowing, and undo brings every file back on every host", async () => {
    const before = await burst("burst1");
    await tripped("burst1");
    // Writes keep flowing meanwhile, from the origin too.
    const fresh = randomBytes(5000);
    await writeImage(h(), node(0), "during-hold.bin", fresh);
    await onEveryHost(h(), "during-hold.bin", sha256(fresh));

    // The exchange down and back (its lsyncd restarts: a startup sync to every node).
    await run(h(), exchange(), "systemctl stop lsyncd");
    await h().stopSshd(exchange());
    await new Promise((r) => setTimeout(r, 3000));
    await h().startSshd(exchange());
    await run(h(), exchange(), "systemctl start lsyncd");
    await new Promise((r) => setTimeout(r, 8000));
    expect((await health(exchange())).code).toBe(2);
    expect((await health(exchange())).out).toMatch(/node01 deleted 500 file/);
    for (const n of [node(1), node(2)]) expect(await countIn(n, "burst1")).toBe(500);

    const undo = await run(h(), exchange(), "lsyncd-cluster-deletes undo node01");
    console.log(undo.split("\n").slice(-2).join("\n"));
    const ms = await waitIdentical(
      "burst1 back on every host, identical",
      "burst1/",
      90_000,
      async () => (await countIn(node(0), "burst1")) === 500,
    );
    console.log(`undo: every host identical with 500 files within ${ms} ms`);
    const after = await checksums(h(), node(0));
    for (const [name, sum] of before) if (name.startsWith("burst1/")) expect(after.get(name)).toBe(sum);
    await waitFor("the exchange's health OK again", async () => (await health(exchange())).code === 0, 60_000, 500);
  });

  it("release instead deletes them on every host", async () => {
    await burst("burst2");
    await tripped("burst2");
    const out = await run(h(), exchange(), "lsyncd-cluster-deletes release node01");
    console.log(out.trim());
    const ms = await waitFor(
      "burst2 gone everywhere",
      async () => (await Promise.all(all().map((x) => countIn(x, "burst2")))).every((n) => n === 0),
      60_000,
      500,
    );
    console.log(`release: burst2 gone from every host within ${ms} ms`);
    await waitIdentical("every host identical", "", 60_000);
    await waitFor("the exchange's health OK again", async () => (await health(exchange())).code === 0, 60_000, 500);
    // The auditor agrees that nothing differs (versions and the fuse are no difference).
    const audit = await h().exec(exchange(), "lsyncd-cluster-audit --grace 2");
    expect(`${audit.code} ${audit.stdout}`).toMatch(/^0 OK/);
  });
});

describe("pruning", () => {
  it("removes exactly the versions older than the retention, nothing else", async () => {
    // Versions aged by their time (the name): copies of a real one, 15 and 13 days old.
    const old = (days: number) => `$(date -u -d '-${days} days' +%Y%m%dT%H%M%SZ)`;
    await run(
      h(),
      exchange(),
      `cd ${VERSIONS}/thrice.bin && v=$(ls | head -n 1) && cp -p "$v" "${old(15)}~node02~overwritten" && cp -p "$v" "${old(20)}~node03~deleted" && cp -p "$v" "${old(13)}~node01~overwritten"` +
        ` && mkdir -p ${VERSIONS}/gone/deep && cp -p "$v" ${VERSIONS}/gone/deep/"${old(30)}~node01~deleted"`,
    );
    const listing = async () => (await run(h(), exchange(), `cd ${VERSIONS} && find . | LC_ALL=C sort`)).split("\n").filter(Boolean);
    const before = await listing();
    const cutoff = new Date(Date.now() - 14 * 86400_000)
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d+Z$/, "Z");
    const expired = before.filter((p) => {
      const m = /\/(\d{8}T\d{6}Z)~[^/]*$/.exec(p);
      return m !== null && m[1] < cutoff;
    });
    expect(expired).toHaveLength(3);
    // What the prune timer's service runs (the test hosts' systemctl runs no timers).
    expect(await run(h(), exchange(), "cat /etc/systemd/system/lsyncd-cluster-versions-prune.service")).toContain(
      "ExecStart=/usr/local/bin/lsyncd-cluster-restore prune\n",
    );
    await run(h(), exchange(), "/usr/local/bin/lsyncd-cluster-restore prune");
    const after = await listing();
    const emptied = ["./gone", "./gone/deep"];
    expect(after).toEqual(before.filter((p) => !expired.includes(p) && !emptied.includes(p)));
    expect(await run(h(), exchange(), "cat /var/lib/lsyncd-cluster/versions.usage")).toMatch(/^\d+ \d+\n$/);
  });
});

describe("what a stolen sync key can do to versions", () => {
  it("nginx serves nothing from the versions area, and no node ever receives it", async () => {
    for (const n of h().nodes) {
      expect(await run(h(), n, `test -e ${VERSIONS} && echo present || echo absent`)).toBe("absent\n");
      const got = await fetchImage(n, ".lsyncd-versions/thrice.bin/");
      expect(got).toBeUndefined();
    }
    // (setgid inherited from the sync dir: no one but root can enter it anyway)
    expect(await run(h(), exchange(), `stat -c '%a %U' ${VERSIONS}`)).toMatch(/^2?700 root\n$/);
  });

  it("a node's stolen key can neither write, overwrite, delete, nor use as a backup or temp dir the exchange's versions, and cannot read them", async () => {
    const files = async () =>
      (await run(h(), exchange(), `cd ${VERSIONS} && find . -type f -printf '%p %s %T@ %U\\n' | LC_ALL=C sort`))
        .split("\n")
        .filter(Boolean);
    const before = await files();
    const thrice = (await run(h(), exchange(), `ls ${VERSIONS}/thrice.bin | head -n 1`)).trim();
    const attempts = [
      // a file planted inside, and one over an existing version
      ["mkdir -p .lsyncd-versions/thrice.bin && echo x > .lsyncd-versions/thrice.bin/planted", "-r .lsyncd-versions"],
      [`mkdir -p .lsyncd-versions/thrice.bin && echo x > '.lsyncd-versions/thrice.bin/${thrice}'`, "-rR ./.lsyncd-versions/thrice.bin"],
      // the area itself deleted
      ["mkdir -p empty/.lsyncd-versions", "-r --delete empty/.lsyncd-versions"],
      // versions as the push's own backup, temp or partial dir
      ["echo x > thrice.bin", "--backup --backup-dir=.lsyncd-versions/b thrice.bin"],
      ["echo y > thrice.bin", "--temp-dir=.lsyncd-versions thrice.bin"],
      ["echo z > thrice.bin", "--partial --partial-dir=.lsyncd-versions/p thrice.bin"],
    ];
    for (const [build, args] of attempts) {
      const r = await push(h(), node(0), exchange(), build, args);
      console.log(`push ${args}: exit ${r.code} ${r.stderr.trim().split("\n")[0] ?? ""}`);
    }
    // Reading back: the module is write-only.
    const read = await h().exec(
      node(0),
      `rsync -e 'ssh -F /etc/lsyncd-cluster/ssh_config' -r lsc-exchange::sync/.lsyncd-versions/ /tmp/lscatk-read/`,
    );
    expect(read.code).not.toBe(0);
    expect(await run(h(), node(0), "find /tmp/lscatk-read -type f 2>/dev/null | wc -l")).toBe("0\n");
    // Every version as it was; what was added is versions of what the pushes replaced.
    const after = await files();
    for (const line of before) expect(after).toContain(line);
    const added = after.filter((l) => !before.includes(l)).map((l) => l.split(" ")[0]);
    console.log(`versions added by the pushes: ${JSON.stringify(added)}`);
    for (const p of added) expect(p).toMatch(/^\.\/thrice\.bin\/\d{8}T\d{6}Z~node01~overwritten(~\d+)?$/);
    await waitIdentical("every host identical", "", 60_000);
  });

  it("a node's stolen key deleting everything on the exchange is a mass delete: held, and undone from the versions", async () => {
    const before = await checksums(h(), node(1));
    await outsideFuseWindow();
    const r = await push(h(), node(0), exchange(), "mkdir -p empty", "-r --delete empty/");
    lastDeletes = Date.now();
    console.log(`push -r --delete empty/: exit ${r.code}; exchange now holds ${(await checksums(h(), exchange())).size} files`);
    await waitFor("the exchange's health CRITICAL", async () => (await health(exchange())).code === 2, 30_000, 250);
    console.log(`exchange health: ${(await health(exchange())).out}`);
    expect((await health(exchange())).out).toMatch(/unknown deleted \d+ file/);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await checksums(h(), node(1))).size).toBe(before.size);
    // The attacker's rsync kept no backup: no version, and its deletes count as "unknown".
    const undo = await run(h(), exchange(), "lsyncd-cluster-deletes undo unknown");
    console.log(undo.trim().split("\n").slice(-2).join("\n"));
    await run(h(), node(1), "systemctl restart lsyncd");
    const ms = await waitIdentical(
      "every host identical with every file",
      "",
      120_000,
      async () => (await checksums(h(), exchange())).size === before.size,
    );
    console.log(`undo after a stolen key's --delete: every host identical within ${ms} ms`);
  });
});
