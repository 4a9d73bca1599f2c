// Convergence after same-name races (issue 15): every host ends with the same bytes for
// every name, by the rule the README states (newest mtime, to the nanosecond, wins).
import { randomBytes } from "crypto";
import {
  checksums,
  LiveCluster,
  onEveryHost,
  rsyncRuns,
  run,
  sha256,
  startCluster,
  SYNC_DIR,
  waitFor,
  writeImage,
} from "../../testing/harness/cluster";
import { AUDIT_CHECKSUM_STAMP, AUDIT_SERVICE, LSYNCD_LOG, pusherTempDir } from "../../components/hostLayout";
import { sh } from "../../components/quote";
import { TestHost } from "../../testing/fixture/testHosts";
import { rng, seedFromEnv } from "../../testing/harness/seeded";

jest.setTimeout(300_000);

const SEED = seedFromEnv();

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

/** lsyncd-cluster-audit on the exchange, as the operator runs it. */
const audit = (args: string) => h().exec(exchange(), `lsyncd-cluster-audit ${args}`, { timeoutMs: 180_000 });

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
      ).catch(async (e) => {
        const per = await Promise.all(all().map((x) => checksums(h(), x)));
        const kind = (sum: string | undefined) =>
          sum === sha256(newer) ? "newer" : sum === sha256(older) ? "older" : sum === undefined ? "none" : "other";
        // Every host's story of this name: its lsyncd log and the pushes it received.
        const logs = await Promise.all(
          all().map((x) =>
            run(
              h(),
              x,
              `{ sed -n '/Startup ---/h;//!H;$!d;x;p' /var/log/lsyncd/lsyncd.log | grep -v '^/outage' | tail -n 40; grep -F -- ${name} /var/log/lsyncd/pushes.log; find ${SYNC_DIR}/.lsyncd-tmp -path '*.replaced*' -name ${name} -printf 'left in %p: mtime %T@\\n'; find ${SYNC_DIR}/.lsyncd-versions -path '*${name}*' -type f -printf 'version %P: mtime %T@ %s bytes\\n' 2>/dev/null; stat -c 'live: mtime %.9Y inode %i links %h owner %U' ${SYNC_DIR}/${name}; } 2>&1 || true`,
            ),
          ),
        );
        throw new Error(
          `${e}\n${all()
            .map((x, i) => `${x.name}: ${kind(per[i].get(name))}, ${per[i].size} names\n${logs[i]}`)
            .join("\n")}`,
        );
      });
      console.log(`converged ${ms} ms after the exchange came back`);
    } finally {
      await h()
        .startSshd(exchange())
        .catch(() => undefined);
      await run(h(), exchange(), "systemctl start lsyncd").catch(() => undefined);
    }
  });
});

describe("an older version arriving before a node could push its own", () => {
  // The receiving rsync runs as the sync user, and fs.protected_hardlinks (Debian's
  // default) lets it hard-link only files it owns: a file a local writer made is moved
  // aside instead, which looks like a delete. Seen in CI: the node's newer upload was
  // dropped and the older version won everywhere.
  it("keeps the node's newer file (owned by its writer, not the sync user) and sends it on once the exchange is reachable", async () => {
    const name = "kept-local.bin";
    const newer = randomBytes(30_000);
    const older = randomBytes(30_000);
    // First an overwrite from the exchange, so node01 has the exchange's .replaced/ dir and
    // lsyncd watches it: a rename into a dir lsyncd does not watch yet reads as a plain
    // delete, which (by luck) kept the version.
    for (const round of [1, 2]) {
      await writeImage(h(), exchange(), "kept-warmup.bin", randomBytes(1000 + round));
      await waitFor(
        "the warm-up file on node01",
        async () => (await checksums(h(), node(0))).get("kept-warmup.bin") !== undefined,
        20_000,
        100,
      );
      await new Promise((r) => setTimeout(r, 1500));
    }
    await run(h(), node(0), `test -d ${SYNC_DIR}/.lsyncd-tmp/exchange/.replaced`);
    await h().stopSshd(exchange());
    try {
      await writeImage(h(), node(0), name, newer);
      expect((await run(h(), node(0), `stat -c %U ${SYNC_DIR}/${name}`)).trim()).toBe("root");
      // node01 tries to push it (and fails: the exchange's sshd is down) ...
      await new Promise((r) => setTimeout(r, 2500));
      // ... while an older version of the name, written on the exchange, reaches it.
      await run(
        h(),
        exchange(),
        `f=$(mktemp ${SYNC_DIR}/.tmp-XXXXXX) && base64 -d > "$f" && touch -d '-1 hour' "$f" && chmod 0644 "$f" && mv "$f" ${SYNC_DIR}/${name}`,
        older.toString("base64"),
      );
      await waitFor(
        "the older version to arrive on node01",
        async () => (await run(h(), node(0), `grep -c ' ${name} ' /var/log/lsyncd/pushes.log || true`)).trim() !== "0",
        20_000,
        100,
      );
      await new Promise((r) => setTimeout(r, 1500));
      expect({ node01: (await checksums(h(), node(0))).get(name) }).toEqual({ node01: sha256(newer) });
    } finally {
      await h().startSshd(exchange());
    }
    await waitFor(
      "node01's newer version everywhere",
      async () => (await Promise.all(all().map((x) => checksums(h(), x)))).every((m) => m.get(name) === sha256(newer)),
      30_000,
      250,
    );
  });
});

// Two versions of a name with the same size and the same mtime to the nanosecond: uploads
// that keep the client's mtime (rsync -t, cp -p, tar, a sync client); on these test hosts,
// which share one kernel clock, also two writes within one tick (file times are
// tick-coarse; separate machines' clocks never agree to the nanosecond). rsync's quick
// check calls them the same file, so neither reaches the other host, and --checksum on the
// pushes cannot help: an mtime-only difference is then set in place, which the sync user
// may not do to a file another user owns (rsync exit 23, the mtime different for good).
// The timer's daily content check finds them; --checksum --repair settles each on the
// larger sha256, the cluster's rule for a tie. node02's upload comes once node01's version
// is on every host, a seeded random fraction of a second later (printed; LSC_SEED=<seed>
// replays it): two uploads close enough for both pushes to land are weighed by the
// exchange and settled by lsyncd, so only this order is sure to leave a tie.
describe(`two versions of a name with the same size and the same mtime to the nanosecond (seed ${SEED})`, () => {
  it("are found by the audit's content check, and --repair leaves the larger sha256 on every host", async () => {
    const random = rng(SEED);
    const winners = new Map<string, string>();
    const gaps: string[] = [];
    for (let round = 0; round < 3; round++) {
      // The last name has a backslash, which sha256sum escapes in its output: the intake's
      // tie-break never settled such a tie (a hunt, 2026-12-01). Its node01 version, the one
      // the exchange holds, has the smaller sha256, so the repair's push must lose to
      // node02's version in node02's intake, through that tie-break.
      const name = round === 2 ? "tie-2\\back.bin" : `tie-${round}.bin`;
      const pair = [randomBytes(30_000), randomBytes(30_000)];
      const contents = round === 2 ? pair.sort((a, b) => sha256(a).localeCompare(sha256(b))) : pair;
      const gapMs = Math.floor(random() * 600);
      const mtime = `@${Math.floor(Date.now() / 1000) - 3600}.123456789`;
      const upload = (n: number) =>
        run(
          h(),
          node(n),
          `f=${sh(`${SYNC_DIR}/.up-${name}`)} && base64 -d > "$f" && touch -m -d ${mtime} "$f" && mv "$f" ${sh(`${SYNC_DIR}/${name}`)}`,
          contents[n].toString("base64"),
        );
      await upload(0);
      await onEveryHost(h(), name, sha256(contents[0]), 20_000, 100);
      await new Promise((r) => setTimeout(r, gapMs));
      await upload(1);
      winners.set(name, [sha256(contents[0]), sha256(contents[1])].sort()[1]);
      gaps.push(`${name}: node02 ${gapMs} ms after node01's version was everywhere`);
    }
    console.log(`same size, same mtime (seed ${SEED}):\n${gaps.join("\n")}`);
    // Time for node02's lsyncd to push (a no-op: the quick check calls the files the same).
    await new Promise((r) => setTimeout(r, 3000));
    const found = await audit("--grace 2 --checksum");
    expect({ code: found.code, lines: found.stdout.split("\n").slice(1, -1).sort() }).toEqual({
      code: 1,
      lines: [...winners.keys()].sort().map((n) => `node02: differs: ${n}`),
    });
    const repaired = await audit("--grace 2 --checksum --repair");
    expect(repaired.stdout).toMatch(/OK: 3 node\(s\) identical with the exchange \(content hashes compared\)\n$/);
    await waitFor(
      "the larger sha256 of each tie on every host",
      async () => (await Promise.all(all().map((x) => checksums(h(), x)))).every((m) => [...winners].every(([n, sum]) => m.get(n) === sum)),
      30_000,
      250,
    );
  });
});

describe("an exchange coming back", () => {
  it("never puts its older copy over a newer one a node wrote meanwhile, not even for a moment", async () => {
    const names = Array.from({ length: 30 }, (_, i) => `comeback-${i}.jpg`);
    const old = randomBytes(20_000);
    for (const name of names) await writeImage(h(), node(0), name, old);
    await waitFor(
      "the old versions everywhere",
      async () => (await checksums(h(), exchange())).get(names[29]) === sha256(old),
      20_000,
      250,
    );
    await run(h(), exchange(), "systemctl stop lsyncd");
    await h().stopSshd(exchange());
    await new Promise((r) => setTimeout(r, 2500)); // the new versions are 2 s newer or more
    const fresh = randomBytes(20_000);
    for (const name of names) await writeImage(h(), node(0), name, fresh);
    const stale: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const out = await run(h(), node(0), `cd ${SYNC_DIR} && sha256sum comeback-*.jpg`);
        for (const line of out.split("\n")) if (line.startsWith(sha256(old))) stale.push(line.slice(66));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await h().startSshd(exchange());
      await run(h(), exchange(), "systemctl start lsyncd");
      await waitFor(
        "the new versions everywhere",
        async () => (await identical(all())) && (await checksums(h(), node(2))).get(names[29]) === sha256(fresh),
        30_000,
        250,
      ).catch(async (e) => {
        const v = await views(all());
        const kind = (sum: string | undefined) => (sum === sha256(fresh) ? "F" : sum === sha256(old) ? "o" : sum === undefined ? "-" : "?");
        const per = await Promise.all(all().map((x) => checksums(h(), x)));
        throw new Error(
          `${e}\n${all()
            .map((x, i) => `${x.name}: ${names.map((n) => kind(per[i].get(n))).join("")}`)
            .join("\n")} (${v.length})`,
        );
      });
    } finally {
      watching = false;
      await watcher;
      await h()
        .startSshd(exchange())
        .catch(() => undefined);
    }
    expect([...new Set(stale)]).toEqual([]);
  });
});

describe("a new directory that fills before lsyncd watches it", () => {
  // lsyncd 2.2.3 adds a watch on a new directory when it reads the directory's create
  // event; what is in it by then raises no event. lsyncd's own queueing walks the directory
  // for that, and issue 14's direct queueing of directory creates skipped the walk: what a
  // busy lsyncd read late was never pushed. Seen in CI, a burst into a new directory not
  // everywhere after 30 s; on the demo, 3 of 5 files of a directory moved in from another
  // filesystem stayed on their node. The pauses below (SIGSTOP) make "busy" certain
  // instead of likely.
  const paused = async (host: TestHost, body: () => Promise<unknown>) => {
    await run(h(), host, "pkill -STOP -x lsyncd");
    try {
      await body();
    } finally {
      await run(h(), host, "pkill -CONT -x lsyncd");
    }
  };
  /** Writes files (and, with sub, files in a subdirectory) into a new directory on host. */
  const fill = (host: TestHost, dir: string, sub = false) =>
    run(
      h(),
      host,
      `mkdir -p ${SYNC_DIR}/${dir}${sub ? "/sub" : ""} && for i in 1 2 3 4 5; do head -c 20000 /dev/urandom > ${SYNC_DIR}/${dir}/f$i.bin; ${sub ? `head -c 3000 /dev/urandom > ${SYNC_DIR}/${dir}/sub/g$i.bin;` : ""} done`,
    );
  const inDir = (dir: string) => async (x: TestHost) => [...(await checksums(h(), x))].filter(([k]) => k.startsWith(`${dir}/`)).sort();
  async function everywhere(dir: string, files: number): Promise<void> {
    await waitFor(
      `${files} files of ${dir}/ on every host`,
      async () => {
        const v = await Promise.all(all().map(inDir(dir)));
        return v[0].length === files && v.every((x) => JSON.stringify(x) === JSON.stringify(v[0]));
      },
      20_000,
      250,
    ).catch(async (e) => {
      const v = await Promise.all(all().map(inDir(dir)));
      throw new Error(
        `${e}\n${all()
          .map((x, i) => `${x.name}: ${v[i].map(([k]) => k).join(" ")}`)
          .join("\n")}`,
      );
    });
  }

  it("on the node that wrote it: every file (a subdirectory's too) reaches every host", async () => {
    await paused(node(0), () => fill(node(0), "late-watch-node", true));
    await everywhere("late-watch-node", 10);
  });

  it("on the exchange, while a node's push makes it: the exchange relays every file", async () => {
    await paused(exchange(), async () => {
      await fill(node(0), "late-watch-exchange");
      await waitFor(
        "node01's push on the exchange",
        async () => (await inDir("late-watch-exchange")(exchange())).length === 5,
        20_000,
        250,
      );
    });
    await everywhere("late-watch-exchange", 5);
  });

  // Upload directories repeat file names (here f1.bin-f5.bin in both). Seen in the randomized
  // test after an exchange outage, when every node pushed its new directories at once: the
  // walk of one node's directory took the temp names another node's push had left for its
  // own files' rename halves, so the exchange sent those files to every node but that
  // other node, which never got them.
  it("on the exchange, two nodes' directories of the same file names pushed while it is busy: every file reaches every host", async () => {
    await paused(exchange(), async () => {
      for (const [i, dir] of [
        [0, "same-names-a"],
        [1, "same-names-b"],
      ] as const) {
        await fill(node(i), dir);
        await waitFor(`${node(i).name}'s push on the exchange`, async () => (await inDir(dir)(exchange())).length === 5, 20_000, 250);
      }
    });
    await everywhere("same-names-a", 5);
    await everywhere("same-names-b", 5);
  });

  it("moved in from another filesystem, as upload code does with a staged tree: every file reaches every host", async () => {
    await run(
      h(),
      node(1),
      "rm -rf /tmp/stage && mkdir -p /tmp/stage/album/thumbs && for i in $(seq 1 20); do head -c 20000 /dev/urandom > /tmp/stage/album/p$i.jpg; head -c 2000 /dev/urandom > /tmp/stage/album/thumbs/t$i.jpg; done",
    );
    expect((await run(h(), node(1), `stat -f -c %i /tmp ${SYNC_DIR} | uniq | wc -l`)).trim()).toBe("2");
    await run(h(), node(1), `mv /tmp/stage/album ${SYNC_DIR}/moved-album`);
    await everywhere("moved-album", 40);
  });

  // A node's walk finds what the exchange pushed before its lsyncd read the directory's
  // create; the temp half of each file's rename comes after the walk. Pushed back, such a
  // file came back everywhere when another node had deleted it meanwhile.
  it("on a node receiving it while its lsyncd is busy: nothing is pushed back", async () => {
    const before = await rsyncRuns(h(), node(1));
    await paused(node(1), async () => {
      await fill(node(0), "late-watch-receiver");
      await waitFor("node01's files on node02", async () => (await inDir("late-watch-receiver")(node(1))).length === 5, 20_000, 250);
    });
    await everywhere("late-watch-receiver", 5);
    await new Promise((r) => setTimeout(r, 3000));
    expect((await rsyncRuns(h(), node(1))) - before).toBe(0);
  });

  it("on the nodes receiving it: nothing is pushed back", async () => {
    // The directory was made by the receiving rsync daemon (the sync user): before, each
    // receiving node pushed it back to the exchange, one rsync run per node per new
    // directory (measured on the demo: node02 1, node03 1).
    const runs = () => Promise.all([node(1), node(2)].map((n) => rsyncRuns(h(), n)));
    const before = await runs();
    await fill(node(0), "no-push-back");
    await everywhere("no-push-back", 5);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await runs()).toEqual(before);
  });
});

describe("a newer version reaching the exchange while it still sends the older one to a node", () => {
  // lsyncd 2.2.3's combining has a table that would fold a new event into one queued for the
  // same path ("absorb"), even one whose rsync is running with the older version open; the
  // newer version would then never reach that node. Its combine() computes that answer and
  // does not return it, so the new event is queued on its own: measured here, where node02's
  // receiving rsync is stopped as soon as the older version's bytes reach it (the exchange's
  // sender is mid-file) while the newer one arrives. This keeps that so, whatever lsyncd or
  // the intake's direct queueing becomes.
  it("ends with the newer version on that node too", async () => {
    const name = "in-flight.bin";
    const file = sh(`${SYNC_DIR}/${name}`);
    const receiving = sh("^(/usr/bin/)?rsync --server");
    let newer: string | undefined;
    // Polls until the older version's bytes are in node02's temp file, then stops its
    // receivers (pkill fails if the run ended in between: it polls on).
    const caught = run(
      h(),
      node(1),
      `for i in $(seq 1 4000); do [ -n "$(find ${sh(`${SYNC_DIR}/${pusherTempDir(exchange().name)}`)} -name ${sh(`${name}.*`)} -size +1k 2>/dev/null)" ] && pkill -STOP -f ${receiving} && exit 0; sleep 0.005; done; exit 1`,
    );
    try {
      await run(h(), node(0), `head -c 60000000 /dev/urandom > ${file}`);
      await caught;
      await run(h(), node(2), `head -c 5000 /dev/urandom > ${file}`);
      newer = (await checksums(h(), node(2))).get(name);
      await waitFor("node03's version on the exchange", async () => (await checksums(h(), exchange())).get(name) === newer, 20_000, 100);
      await new Promise((r) => setTimeout(r, 1500)); // the exchange's lsyncd takes it in
    } finally {
      // Never a receiver left stopped: the poller is done before they go on.
      await caught.catch(() => undefined);
      await run(h(), node(1), `pkill -CONT -f ${receiving}; true`);
    }
    await waitFor("every host holds node03's version", () => identical(all()), 30_000, 250).catch(async (e) => {
      const held = await Promise.all(all().map(async (x) => `${x.name}=${((await checksums(h(), x)).get(name) ?? "-").slice(0, 8)}`));
      const said = await run(h(), exchange(), `grep -n -F -e ${sh(name)} -e 'Calling rsync' -e Finished ${LSYNCD_LOG} | tail -n 40`);
      throw new Error(`${e}\nnode03's ${newer?.slice(0, 8)}; ${held.join(" ")}\nthe exchange's lsyncd:\n${said}`);
    });
    await run(h(), node(2), `rm -f ${file}`);
  });
});

describe("an arrival whose rename lsyncd did not pair", () => {
  // lsyncd pairs a rename's two inotify events only when both are queued when it reads; a
  // read between them (load on the other CPU) splits rsync's rename of an arrival into a
  // delete of its temp file and a create of the name. A node then pushed the arrival back,
  // and brought back a name another node had deleted meanwhile (CI: 499 of 500 deletes
  // held). The split is made here for certain: the temp file leaves through lost+found,
  // which lsyncd does not watch, so each half of the rename is a rename of its own.
  it("is not pushed back by the node that received it", async () => {
    const name = "split-arrival.bin";
    const runs = () => rsyncRuns(h(), node(1));
    const before = await runs();
    // The temp name rsync itself gives this file, observed on the host: a local rsync with
    // --temp-dir, slowed down so that its temp file is there to see.
    const observed = (
      await run(
        h(),
        node(1),
        `rm -rf /tmp/rt && mkdir -p /tmp/rt/t /tmp/rt/d && head -c 20000 /dev/urandom > /tmp/rt/${name} && { rsync --bwlimit=1 --temp-dir=/tmp/rt/t /tmp/rt/${name} /tmp/rt/d/ >/dev/null 2>&1 & } ; f=; for i in $(seq 1 50); do f=$(ls /tmp/rt/t); [ -n "$f" ] && break; sleep 0.1; done; kill %1 2>/dev/null; wait; rm -rf /tmp/rt; echo "$f"`,
      )
    ).trim();
    expect(observed).toMatch(/^split-arrival\.bin\.[A-Za-z0-9]{6}$/);
    const temp = `${SYNC_DIR}/.lsyncd-tmp/exchange/${observed}`;
    await run(
      h(),
      node(1),
      `head -c 3000 /dev/urandom > ${temp} && chown lsyncd-sync ${temp} && mv ${temp} ${SYNC_DIR}/lost+found/${name} && mv ${SYNC_DIR}/lost+found/${name} ${SYNC_DIR}/${name}`,
    );
    try {
      await new Promise((r) => setTimeout(r, 3000));
      expect({ runs: (await runs()) - before, onExchange: (await checksums(h(), exchange())).has(name) }).toEqual({
        runs: 0,
        onExchange: false,
      });
    } finally {
      await run(h(), node(1), `rm -f ${SYNC_DIR}/${name}`);
      await run(h(), exchange(), `rm -f ${SYNC_DIR}/${name}`);
    }
  });
});

describe("lsyncd-cluster-audit", () => {
  const health = () => h().exec(exchange(), "lsyncd-cluster-health");

  it("is installed on the exchange with its timer enabled, and on no node", async () => {
    expect(
      await run(h(), exchange(), "systemctl is-enabled lsyncd-cluster-audit.timer; systemctl is-active lsyncd-cluster-audit.timer"),
    ).toBe("enabled\nactive\n");
    for (const n of h().nodes) expect((await h().exec(n, "test -e /usr/local/bin/lsyncd-cluster-audit")).code).toBe(1);
  });

  it("says OK on a converged cluster", async () => {
    await waitFor("every host identical", () => identical(all()), 60_000, 500);
    const r = await audit("--grace 2");
    expect(r.stdout).toBe("OK: 3 node(s) identical with the exchange\n");
    expect(r.code).toBe(0);
    expect((await health()).code).toBe(0);
  });

  // --repair once deleted, as "extra", a file written on a node whose lsyncd was down: the
  // only copy, lost (found by a hunt, 2026-12-01); and a re-upload under a name deleted
  // before (review). It now deletes an extra only where it is the very version whose delete
  // this exchange kept, and keeps the rest for that node's lsyncd to send.
  it("finds a missing, an extra and (with --checksum, and on the timer's first run of the day) a same-size same-mtime file; health WARNING; --repair makes every host identical and loses no write", async () => {
    const [extra, gone, same, redone, missed] = [
      "audit-extra.jpg",
      "audit-missing.jpg",
      "audit-same.jpg",
      "audit-redone.jpg",
      "audit-missed.jpg",
    ];
    for (const name of [gone, same, redone, missed]) await writeImage(h(), node(0), name, randomBytes(5000));
    await waitFor(
      "the audit files everywhere",
      async () =>
        (await Promise.all(all().map((x) => checksums(h(), x)))).every((s) => s.has(same) && s.has(gone) && s.has(redone) && s.has(missed)),
      20_000,
      250,
    );
    // Behind lsyncd's back on node02: a delete, and other bytes with the same size and mtime.
    await run(h(), node(1), "systemctl stop lsyncd");
    await run(
      h(),
      node(1),
      `rm ${SYNC_DIR}/${gone} && cp -p ${SYNC_DIR}/${same} /tmp/ref && head -c 5000 /dev/urandom > ${SYNC_DIR}/${same} && touch -r /tmp/ref ${SYNC_DIR}/${same}`,
    );
    await run(h(), node(1), "systemctl start lsyncd");
    // ... and on node03, while its lsyncd is down (until after the repair): a new file; two
    // files deleted everywhere (each kept as a version on the exchange), one uploaded there
    // again, the other put back as it was (a delete node03 missed).
    await run(h(), node(2), `systemctl stop lsyncd && echo stray > ${SYNC_DIR}/${extra} && cp -p ${SYNC_DIR}/${missed} /tmp/${missed}`);
    await run(h(), node(0), `rm ${SYNC_DIR}/${redone} ${SYNC_DIR}/${missed}`);
    await waitFor(
      "the deletes everywhere",
      async () => (await Promise.all(all().map((x) => checksums(h(), x)))).every((s) => !s.has(redone) && !s.has(missed)),
      30_000,
      250,
    );
    await run(h(), node(2), `echo again > ${SYNC_DIR}/${redone} && cp -p /tmp/${missed} ${SYNC_DIR}/${missed}`);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const plain = await audit("--grace 2");
      expect(plain.code).toBe(1);
      const lines = plain.stdout.split("\n");
      expect(lines[0]).toBe("DIFFERENT: 4 difference(s) persisted over 2s:");
      expect(lines.slice(1, -1).sort()).toEqual([
        `node02: missing: ${gone}`,
        `node03: extra: ${extra}`,
        `node03: extra: ${missed}`,
        `node03: extra: ${redone}`,
      ]);
      const health1 = await health();
      expect(health1.code).toBe(1);
      expect(health1.stdout).toMatch(/^WARNING: lsyncd running, but the audit at .* found 4 difference\(s\) with the nodes/);

      // The timer's run, as its unit starts it (a shorter grace): once the last content check
      // is checksumHours old it compares content hashes too and finds the same-size
      // same-mtime file; the next, within checksumHours, compares names, sizes and mtimes,
      // and again by content only what the last content check found, so the warning stays.
      const timerRun = () =>
        h().exec(exchange(), `$(sed -n 's/^ExecStart=//p' ${AUDIT_SERVICE}) --grace 2`, {
          timeoutMs: 180_000,
        });
      // As if the last content check was a day and an hour ago.
      await run(h(), exchange(), `touch -d '-25 hours' ${AUDIT_CHECKSUM_STAMP}`);
      const first = await timerRun();
      expect(first.stdout.split("\n").slice(1, -1).sort()).toEqual([
        `node02: differs: ${same}`,
        `node02: missing: ${gone}`,
        `node03: extra: ${extra}`,
        `node03: extra: ${missed}`,
        `node03: extra: ${redone}`,
      ]);
      const next = await timerRun();
      expect(next.stdout.split("\n").slice(1, -1).sort()).toEqual([
        `node02: differs: ${same}`,
        `node02: missing: ${gone}`,
        `node03: extra: ${extra}`,
        `node03: extra: ${missed}`,
        `node03: extra: ${redone}`,
      ]);
      expect((await run(h(), exchange(), `find ${AUDIT_CHECKSUM_STAMP} -mmin -5`)).trim()).not.toBe("");

      const hashed = await audit("--grace 2 --checksum node02");
      expect(hashed.stdout.split("\n").slice(1, -1).sort()).toEqual([`node02: differs: ${same}`, `node02: missing: ${gone}`]);

      const t0 = Date.now();
      const repaired = await audit("--grace 2 --checksum --repair");
      console.log(`audit --repair: ${Date.now() - t0} ms\n${repaired.stdout}`);
      expect(repaired.stdout).toContain(`node03: extra: ${missed}\n`);
      expect(repaired.stdout).toContain(
        "keeping 2 file(s) only a node holds that are not a delete this exchange kept: a write that never reached it (restart lsyncd on that node to send it here) or a delete kept nowhere (delete it on that node); lsyncd-cluster-restore list NAME shows what the exchange kept of a name:\n" +
          `node03: extra: ${extra}\nnode03: extra: ${redone}\n`,
      );
      // Until node03's lsyncd sends them, the two writes are the differences left.
      expect(repaired.stdout.split("\n").slice(-4).join("\n")).toBe(
        `DIFFERENT: 2 difference(s) persisted over 2s:\nnode03: extra: ${extra}\nnode03: extra: ${redone}\n`,
      );
      expect(repaired.code).toBe(1);
      expect((await run(h(), node(2), `cat ${SYNC_DIR}/${extra} ${SYNC_DIR}/${redone}`)).trim()).toBe("stray\nagain");
    } finally {
      await run(h(), node(2), "systemctl start lsyncd");
    }
    await waitFor("every host identical after the repair", () => identical(all()), 30_000, 500);
    for (const host of all()) {
      const sums = await checksums(h(), host);
      expect(`${host.name}: ${sums.has(extra)} ${sums.has(redone)} ${sums.has(missed)} ${sums.has(gone)}`).toBe(
        `${host.name}: true true false true`,
      );
    }
    expect((await audit("--grace 2")).stdout).toBe("OK: 3 node(s) identical with the exchange\n");
    expect((await health()).code).toBe(0);
  });

  // Seen with a bash experiment (review): the rsync of a node that could not be asked failed
  // inside a loop whose status was the last node's, so that run printed OK.
  it("calls a node it cannot reach a difference, not OK, whichever node it is", async () => {
    await h().stopSshd(node(0));
    try {
      const r = await audit("--grace 2");
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^DIFFERENT: 1 difference\(s\) persisted over 2s:\nnode01: unchecked: \(rsync exit \d+\)\n$/);
      expect((await health()).code).not.toBe(0);
    } finally {
      await h().startSshd(node(0));
    }
    expect((await audit("--grace 2")).code).toBe(0);
  });
});
