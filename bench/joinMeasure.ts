// How long a node joining a running cluster takes to hold the whole tree. In a real
// `pulumi up` that adds a node, the exchange's lsyncd restarts with the node as a new
// target (its startup sync pushes the tree to it through the temp dir) at the same time as
// the node's seed runs: both wait only for the trust steps (meshPlan.ts). Each variant
// empties node02 and times until it holds every file, polled through /proc/<its init>/root.
// Root, ~3 minutes at 100k files: `JOIN_FILES=100000 npx ts-node --transpile-only bench/joinMeasure.ts`.
import { readdirSync } from "fs";
import { join } from "path";
import { run, startCluster, SYNC_DIR } from "../testing/harness/cluster";
import { growTreeCommand, TREE_DIR } from "./scale";
import { seedCreate } from "../components/scripts/seedScript";
import { stepRun } from "../components/remote/provider";
import { sh } from "../components/quote";
import { LSYNCD_LOG } from "../components/hostLayout";

const FILES = Number(process.env.JOIN_FILES ?? 100000);
const DIRS = Math.ceil(FILES / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const c = await startCluster(2, { root: "/tmp/lsc-join", addressBase: "127.0.63", diskMiB: 4096 });
  const hosts = c.hosts;
  const { exchange } = hosts;
  const node02 = hosts.nodes[1];
  try {
    for (const h of hosts.hosts) await run(hosts, h, "systemctl stop lsyncd");
    await hosts.exec(exchange, growTreeCommand(0, DIRS, 100), { timeoutMs: 3_600_000 });
    await hosts.exec(hosts.nodes[0], growTreeCommand(0, DIRS, 100), { timeoutMs: 3_600_000 });
    await run(hosts, hosts.nodes[0], "systemctl start lsyncd");
    const seedStep = `bash -c ${sh(seedCreate(SYNC_DIR, exchange.name, node02.name, []))}`;
    const treeOn02 = join(`/proc/${node02.initPid}/root`, TREE_DIR);
    const count = (): number => {
      let n = 0;
      try {
        for (const d of readdirSync(treeOn02)) {
          try {
            n += readdirSync(join(treeOn02, d)).filter((f) => !f.startsWith(".")).length;
          } catch {
            /* not there yet */
          }
        }
      } catch {
        /* not there yet */
      }
      return n;
    };
    const variant = async (name: string, seed: "create" | "update" | "none", restartExchange: boolean): Promise<void> => {
      await run(hosts, exchange, "systemctl stop lsyncd");
      await run(hosts, node02, `systemctl stop lsyncd; rm -rf ${TREE_DIR}`);
      const logFrom = Number((await run(hosts, exchange, `stat -c %s ${LSYNCD_LOG} 2>/dev/null || echo 0`)).trim());
      const t0 = Date.now();
      const jobs: Promise<unknown>[] = [];
      if (restartExchange) jobs.push(run(hosts, exchange, "systemctl start lsyncd"));
      let seedDone = 0;
      if (seed !== "none")
        jobs.push(
          hosts.exec(exchange, stepRun(seedStep, seed), { timeoutMs: 3_600_000 }).then(() => {
            seedDone = (Date.now() - t0) / 1000;
          }),
        );
      while (count() < FILES) await sleep(50);
      const filled = (Date.now() - t0) / 1000;
      await Promise.all(jobs);
      // The exchange's startup sync to node02 finished too (what the join waits for).
      let startupDone = 0;
      if (restartExchange) {
        for (;;) {
          const log = await run(hosts, exchange, `tail -c +${logFrom + 1} ${LSYNCD_LOG}`);
          if (/Startup of \S+ -> lsc-node02::sync\/ finished/.test(log)) break;
          await sleep(100);
        }
        startupDone = (Date.now() - t0) / 1000;
      }
      console.log(
        `join: ${FILES} files: ${name}: node02 full at ${filled.toFixed(2)} s; seed returned ${seedDone.toFixed(2)} s; exchange's startup sync to node02 done ${startupDone.toFixed(2)} s`,
      );
    };
    for (const rep of [1, 2]) {
      console.log(`join: round ${rep}`);
      await variant("seed alone, first run (new node)", "create", false);
      await variant("seed alone, later run (temp dir)", "update", false);
      await variant("exchange restart alone (startup sync, temp dir)", "none", true);
      await variant("join now: restart + seed first run", "create", true);
      await variant("join before: restart + seed through the temp dir", "update", true);
    }
  } finally {
    await hosts.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
