// `npx ts-node --transpile-only bench/auditCost.ts` (Linux, root): what one run of
// lsyncd-cluster-audit costs on a 100k-file tree (exchange + one node holding the same
// tree), and whether nginx on the node keeps answering promptly while it runs.
// Knobs: AUDIT_FILES (default 100000).
import { randomBytes } from "crypto";
import { run, startCluster, SYNC_DIR } from "../testing/harness/cluster";

const FILES = Number(process.env.AUDIT_FILES ?? 100_000);

async function main(): Promise<void> {
  // ext4 gives one inode per 16 kB: 2 GiB (sparse) holds 131k of them.
  const live = await startCluster(1, { root: "/tmp/lsc-audit-cost", addressBase: "127.0.17", diskMiB: 2048 });
  const h = live.hosts;
  const [ex, node] = [h.exchange, h.nodes[0]];
  try {
    for (const x of [ex, node]) await run(h, x, "systemctl stop lsyncd");
    // The same tree on both, mtimes to the nanosecond (tar --format=posix): 1,000 dirs × 100 files.
    await run(
      h,
      ex,
      `cd ${SYNC_DIR} && perl -e 'for my $d (0 .. ${Math.ceil(FILES / 100) - 1}) { mkdir sprintf("t/%04d", $d) or mkdir("t") && mkdir(sprintf("t/%04d", $d)); for my $f (0 .. 99) { open(my $o, ">", sprintf("t/%04d/%02d.jpg", $d, $f)) or die; print $o "x" x 200; close $o } }' && chown -R lsyncd-sync:lsyncd-sync t`,
    );
    const tar = await h.exec(ex, `tar -C ${SYNC_DIR} --format=posix -cf - t | base64 -w0`, { timeoutMs: 600_000 });
    await run(h, node, `base64 -d | tar -C ${SYNC_DIR} -xpf -`, tar.stdout);
    const count = (await run(h, node, `find ${SYNC_DIR}/t -type f | wc -l`)).trim();
    await run(h, node, `head -c 300000 /dev/urandom > ${SYNC_DIR}/probe.jpg`);
    await run(h, ex, `head -c 300000 /dev/urandom > ${SYNC_DIR}/probe.jpg && touch -r /dev/null ${SYNC_DIR}/probe.jpg`);
    for (const x of [ex, node]) await run(h, x, "systemctl start lsyncd");
    await new Promise((r) => setTimeout(r, 5000));

    // nginx on the node: latency of one GET, idle and while the audit runs.
    const probe = async (ms: number): Promise<number[]> => {
      const out: number[] = [];
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const t0 = performance.now();
        await fetch(`http://${node.address}/probe.jpg`).then((r) => r.arrayBuffer());
        out.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out.sort((a, b) => a - b);
    };
    const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))].toFixed(1);
    const idle = await probe(5000);
    const timed = (args: string) =>
      h.exec(
        ex,
        `cd /tmp && /usr/bin/time -f '%e s wall, %U s user, %S s sys' lsyncd-cluster-audit --grace 0 ${args} 2>&1 >/dev/null | tail -n 1`,
        { timeoutMs: 600_000 },
      );
    // The node's side is the rsync its sshd starts for the sync key: sample its CPU ticks
    // (utime + stime) from /proc until it exits, keep the last value per process.
    const nodeRsyncCpu = (ms: number) =>
      h.exec(
        node,
        `end=$(( $(date +%s%N) + ${ms} * 1000000 )); declare -A t; while [ $(date +%s%N) -lt $end ]; do ` +
          `for p in $(pgrep -x rsync); do v=$(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null) && t[$p]=$v; done; sleep 0.02; done; ` +
          `s=0; for p in "\${!t[@]}"; do s=$(( s + t[$p] )); done; echo "$s"`,
        { timeoutMs: ms + 30_000 },
      );
    for (const args of ["", "--checksum"]) {
      const [audit, busy, ticks] = await Promise.all([timed(args), probe(4000), nodeRsyncCpu(4000)]);
      console.log(
        `audit ${args || "(names, sizes, mtimes)"} over ${count} files: exchange side ${audit.stdout.trim()}; ` +
          `node side rsync ${(Number(ticks.stdout.trim()) / 100).toFixed(2)} CPU-s; nginx GET p50/p99/max ${pct(busy, 50)}/${pct(busy, 99)}/${busy[busy.length - 1].toFixed(1)} ms ` +
          `(idle ${pct(idle, 50)}/${pct(idle, 99)}/${idle[idle.length - 1].toFixed(1)} ms)`,
      );
    }
    const diff = await h.exec(ex, "lsyncd-cluster-audit --grace 0", { timeoutMs: 600_000 });
    console.log(`audit output: ${diff.stdout.trim().split("\n").slice(0, 3).join(" | ")}`);
  } finally {
    await h.stop();
  }
  void randomBytes;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
