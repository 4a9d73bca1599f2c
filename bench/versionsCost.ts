// `npx ts-node --transpile-only bench/versionsCost.ts` (Linux, root): what keeping versions
// on the exchange (issue 13) costs, as ratios within one run: the same cluster (exchange +
// 2 nodes) deployed with `versions.keepDays: 0` (nothing kept, no fuse) and with the
// defaults (versions kept, fuse on), measured alternately ROUNDS times each:
// - a burst of FILES new files written on node01: seconds until node02 holds them all, and
//   CPU seconds of the exchange's lsyncd;
// - the same FILES overwritten on node01 (every one a version on the exchange): the same;
// - single-file propagation: SINGLES files written one by one on node01, ms until node02's
//   nginx serves each (p50).
// Knobs: VERSIONS_FILES (2000), VERSIONS_ROUNDS (2), VERSIONS_SINGLES (20).
import { fetchImage, LiveCluster, run, startCluster, SYNC_DIR } from "../testing/harness/cluster";

const FILES = Number(process.env.VERSIONS_FILES ?? 2000);
const ROUNDS = Number(process.env.VERSIONS_ROUNDS ?? 2);
const SINGLES = Number(process.env.VERSIONS_SINGLES ?? 20);

interface Sample {
  burstS: number;
  burstCpu: number;
  overwriteS: number;
  overwriteCpu: number;
  singleMs: number[];
}

async function lsyncdCpu(live: LiveCluster): Promise<number> {
  const out = await run(live.hosts, live.hosts.exchange, "awk '{print $14 + $15}' /proc/$(pgrep -x lsyncd | head -n 1)/stat");
  return Number(out.trim()) / 100;
}

async function until(live: LiveCluster, cmd: string, want: number, timeoutMs = 600_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const got = Number((await run(live.hosts, live.hosts.nodes[1], cmd)).trim());
    if (got >= want) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out: ${cmd} gave ${got} of ${want}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function measure(live: LiveCluster, round: number): Promise<Sample> {
  const h = live.hosts;
  const [n1] = h.nodes;
  const dir = `r${round}`;
  const write = (size: number) =>
    run(
      h,
      n1,
      `umask 002 && mkdir -p ${SYNC_DIR}/${dir} && perl -e 'for my $i (1 .. ${FILES}) { open(my $o, ">", sprintf("${SYNC_DIR}/${dir}/%05d.jpg", $i)) or die; print $o "y" x ${size}; close $o }'`,
    );
  let cpu0 = await lsyncdCpu(live);
  const t0 = performance.now();
  await write(3000);
  const burstS = (performance.now() - t0) / 1000 + (await until(live, `find ${SYNC_DIR}/${dir} -type f -size 3000c | wc -l`, FILES));
  const burstCpu = (await lsyncdCpu(live)) - cpu0;
  await new Promise((r) => setTimeout(r, 3000));
  cpu0 = await lsyncdCpu(live);
  const t1 = performance.now();
  await write(3100);
  const overwriteS = (performance.now() - t1) / 1000 + (await until(live, `find ${SYNC_DIR}/${dir} -type f -size 3100c | wc -l`, FILES));
  const overwriteCpu = (await lsyncdCpu(live)) - cpu0;
  const singleMs: number[] = [];
  for (let i = 0; i < SINGLES; i++) {
    const name = `${dir}/single-${i}.jpg`;
    const t = performance.now();
    await run(h, n1, `head -c 300000 /dev/urandom > ${SYNC_DIR}/${name}`);
    while ((await fetchImage(h.nodes[1], name)) === undefined) await new Promise((r) => setTimeout(r, 10));
    singleMs.push(performance.now() - t);
  }
  return { burstS, burstCpu, overwriteS, overwriteCpu, singleMs };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const configs = {
    off: { versions: { keepDays: 0 }, deleteFuse: { files: 0 } },
    on: { versions: { keepDays: 14 }, deleteFuse: { files: 200, seconds: 60 } },
  };
  const samples: Record<string, Sample[]> = { off: [], on: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
      const live = await startCluster(2, { root: `/tmp/lsc-versions-cost-${which}`, addressBase: "127.0.18", extraConfig: configs[which] });
      try {
        const s = await measure(live, round);
        samples[which].push(s);
        console.log(
          `round ${round} ${which}: burst ${s.burstS.toFixed(2)} s (lsyncd ${s.burstCpu.toFixed(2)} CPU-s), overwrite ${s.overwriteS.toFixed(2)} s ` +
            `(lsyncd ${s.overwriteCpu.toFixed(2)} CPU-s), single p50 ${median(s.singleMs).toFixed(0)} ms`,
        );
        if (which === "on") {
          const kept = await run(live.hosts, live.hosts.exchange, `find ${SYNC_DIR}/.lsyncd-versions -type f | wc -l`);
          console.log(`  versions kept on the exchange: ${kept.trim()}`);
        }
      } finally {
        await live.hosts.stop();
      }
    }
  }
  const agg = (which: string, f: (s: Sample) => number) => median(samples[which].map(f));
  const row = (what: string, f: (s: Sample) => number, unit: string) =>
    console.log(
      `${what}: off ${agg("off", f).toFixed(2)} ${unit}, on ${agg("on", f).toFixed(2)} ${unit}, ratio ${(agg("on", f) / agg("off", f)).toFixed(3)}`,
    );
  console.log(`\n${FILES} files, ${ROUNDS} round(s) each, medians:`);
  row("new-file burst, until node02 holds all", (s) => s.burstS, "s");
  row("new-file burst, exchange lsyncd CPU", (s) => s.burstCpu, "CPU-s");
  row("overwrite burst, until node02 holds all", (s) => s.overwriteS, "s");
  row("overwrite burst, exchange lsyncd CPU", (s) => s.overwriteCpu, "CPU-s");
  row("single-file propagation p50", (s) => median(s.singleMs), "ms");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
